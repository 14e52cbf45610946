'use client'
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { useStore } from 'zustand'
import {
  safeJsonParse,
  type CloseInfo,
  type ConnectionSnapshot,
  type InboundMessage,
  type LifelineClient,
  type LifelineError,
  type OutboundData,
  type UrlSource,
} from '../core'
import { createMessageStore, getConnectionStore } from '../store'
import { useClientOrIdle } from './context'
import { idleClient } from './idle-client'
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
  /**
   * Share one client with every component that passes the same URL and option values and `share: true`, without a
   * provider (200 components, one socket). The functions in the options are those of the component mounted last
   * among those using it; `onMessage`, `onOpen`, `onClose`, `onError` and `filter` stay per component. The socket
   * closes 1 s after the last of them unmounts; a component that mounts onto a shared client that `failed` starts
   * it again. @default false
   */
  share?: boolean
  /**
   * Which messages may become `lastMessage` (others do not render; `onMessage` still sees every one). Always the
   * latest function. @default every message
   */
  filter?: (message: InboundMessage) => boolean
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

/**
 * A WebSocket that heals itself, raw by default (any server). Pass a URL for a connection owned by this component,
 * `null` for none, or nothing to use the nearest `LifelineProvider`'s.
 *
 * @example const { status, send, lastJsonMessage } = useWebSocket('wss://example.com/socket')
 */
export function useWebSocket<T = unknown>(
  url?: string | UrlSource | null,
  options?: UseWebSocketOptions,
): UseWebSocketResult<T> {
  const { onMessage, onOpen, onClose, onError, filter, share, ...connection } = options ?? {}
  const managed = useManagedClient(url ?? null, connection, share)
  // No URL: the provider's client (the idle one while server rendering). `null`, or a URL while server rendering:
  // the idle one.
  const shared = useClientOrIdle(url === undefined ? undefined : idleClient)
  const client = url === undefined ? shared : (managed ?? idleClient)

  const callbacks = useRef({ onMessage, onOpen, onClose, onError, filter })
  callbacks.current = { onMessage, onOpen, onClose, onError, filter }
  const snapshot = useStore(getConnectionStore(client))
  const messages = useMemo(
    () => createMessageStore(client, (message) => callbacks.current.filter?.(message) ?? true),
    [client],
  )
  const lastMessage = useSyncExternalStore(messages.subscribe, messages.getState, noMessage)

  useEffect(() => {
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
  const { send, sendJson, retry, close } = client
  return {
    ...snapshot,
    send,
    sendJson,
    retry,
    close,
    lastMessage,
    lastJsonMessage,
    client: client === idleClient ? null : client,
  }
}

const noMessage = () => null
