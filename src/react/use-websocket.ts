'use client'
import { useContext, useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { useStore } from 'zustand'
import {
  lifelineError,
  safeJsonParse,
  type CloseInfo,
  type ConnectionSnapshot,
  type InboundMessage,
  type LifelineClient,
  type LifelineError,
  type OutboundData,
} from '../core'
import { createMessageStore, getConnectionStore, idleSnapshot } from '../store'
import { LifelineContext } from './context'
import { useManagedClient, type ManagedClientOptions } from './use-managed-client'

/** Options of {@link useWebSocket}: the connection's options plus callbacks (always the latest; never reconnect). */
export interface UseWebSocketOptions extends ManagedClientOptions {
  /** Every message, in order, without a render. @default undefined */
  onMessage?: (message: InboundMessage) => void
  /** The connection became usable. @default undefined */
  onOpen?: () => void
  /** A transport closed (code, sanitised reason, meaning). @default undefined */
  onClose?: (close: CloseInfo) => void
  /** An error was recorded in `lastError`. @default undefined */
  onError?: (error: LifelineError) => void
}

/** What {@link useWebSocket} returns: the snapshot fields plus actions and the last message. */
export interface UseWebSocketResult<T = unknown> extends ConnectionSnapshot {
  /** Queues and sends a message; returns its outbox id. Throws typed errors for bad input or a full outbox. */
  send: (data: OutboundData) => string
  /** Sends `JSON.stringify(value)`. */
  sendJson: (value: unknown) => string
  /** The latest message, updated at most once per animation frame (use `onMessage` to see every one). */
  lastMessage: InboundMessage | null
  /** `lastMessage` parsed as JSON (prototype-pollution safe), or `null` if it is not JSON text. */
  lastJsonMessage: T | null
  /** Starts over now (resets backoff). */
  retry: () => void
  /** Closes without reconnecting. */
  close: (code?: number, reason?: string) => void
  /** The underlying client, `null` while there is none (`url === null`, server rendering). */
  client: LifelineClient | null
}

const noClient = () => {
  throw lifelineError('MISSING_PROVIDER')
}
const noStore = { getState: () => null, subscribe: () => () => undefined }
const noActions = { send: noClient, sendJson: noClient, retry: noClient, close: noClient }

/**
 * A WebSocket that heals itself, raw by default (any server). Pass a URL for a connection owned by this component,
 * `null` for none, or nothing to use the nearest `LifelineProvider`'s.
 *
 * @example const { status, send, lastJsonMessage } = useWebSocket('wss://example.com/socket')
 */
export function useWebSocket<T = unknown>(url?: string | null, options?: UseWebSocketOptions): UseWebSocketResult<T> {
  const { onMessage, onOpen, onClose, onError, ...connection } = options ?? {}
  const managed = useManagedClient(url ?? null, connection)
  const shared = useContext(LifelineContext)
  const client = url === undefined ? shared : managed
  if (url === undefined && !shared) noClient()

  const snapshot = useStore(client ? getConnectionStore(client) : fallbackStore)
  const messages = useMemo(() => (client ? createMessageStore(client) : noStore), [client])
  const lastMessage = useSyncExternalStore(messages.subscribe, messages.getState, () => null)

  const callbacks = useRef({ onMessage, onOpen, onClose, onError })
  callbacks.current = { onMessage, onOpen, onClose, onError }
  useEffect(() => {
    if (!client) return
    const offs = [
      client.on('message', (message) => callbacks.current.onMessage?.(message)),
      client.on('open', () => callbacks.current.onOpen?.()),
      client.on('close', (close) => callbacks.current.onClose?.(close)),
      client.on('error', (error) => callbacks.current.onError?.(error)),
    ]
    return () => offs.forEach((off) => off())
  }, [client])

  const lastJsonMessage = useMemo(() => {
    if (typeof lastMessage?.data !== 'string') return null
    try {
      return safeJsonParse(lastMessage.data) as T
    } catch {
      return null
    }
  }, [lastMessage])

  // The client's methods do not use `this`: they can be handed out as they are.
  const { send, sendJson, retry, close } = client ?? noActions
  return { ...snapshot, send, sendJson, retry, close, lastMessage, lastJsonMessage, client }
}

const fallbackStore = {
  getState: () => idleSnapshot,
  getInitialState: () => idleSnapshot,
  subscribe: () => () => undefined,
}
