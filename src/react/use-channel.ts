'use client'
import { useMemo, useRef, useSyncExternalStore } from 'react'
import {
  lifelineError,
  type ChannelGap,
  type ChannelMessage,
  type LifelineClient,
  type LifelineProtocol,
} from '../core'
import { createChannelStore, type ChannelState, type ChannelSubscriptionState } from '../store'
import { useClientOrIdle } from './context'
import { idleClient } from './idle-client'

/** Options of {@link useChannel}. Callbacks are always the latest ones and never resubscribe. */
export interface UseChannelOptions<T = unknown> {
  /** Every message of the channel, in order, each exactly once, without a render. @default undefined */
  onMessage?: ((message: ChannelMessage<T>) => void) | undefined
  /** Every discontinuity (continuity could not be proven: messages may be missing before the next one). @default undefined */
  onGap?: ((gap: ChannelGap) => void) | undefined
  /** How many recent messages `messages` keeps for rendering (changing it re-creates the buffer). @default 100 */
  history?: number | undefined
  /** The client to use instead of the nearest `LifelineProvider`'s. It must use `lifelineProtocol()`. @default undefined */
  client?: LifelineClient | null | undefined
}

/** What {@link useChannel} returns. Updated at most once per animation frame. */
export interface UseChannelResult<T = unknown> {
  /** The last `history` messages, oldest first. */
  messages: readonly ChannelMessage<T>[]
  /** The newest message, or `null`. */
  last: ChannelMessage<T> | null
  /**
   * Publishes `data` (JSON-serialisable) to this channel through the outbox; returns the outbox id. Sent in order,
   * resent after reconnects until acknowledged, applied once. Throws typed errors for bad input or a full outbox.
   */
  publish: (data: unknown) => string
  /**
   * `pending` until the server first confirms the subscription; `subscribed` while the connection is open and the
   * subscription confirmed on it; `resubscribing` after that whenever the connection is down, or reopened and not yet
   * confirmed again (it resumes from the last message seen); `error` when refused (see `error`).
   */
  status: ChannelSubscriptionState
  /**
   * After a resubscribe: `true` when every message since the last one seen was replayed, `false` when continuity
   * could not be proven (a gap was reported). `null` before the first resubscribe.
   */
  resumed: boolean | null
  /** The server's error code when the subscription was refused (e.g. `FORBIDDEN`), else `null`. */
  error: string | null
  /** Discontinuities reported so far (the last 20). */
  gaps: readonly ChannelGap[]
}

const emptyState: ChannelState = {
  messages: [],
  last: null,
  status: { state: 'pending', resumed: null, error: null },
  gaps: [],
}
/** The channel before any client: what the server renders and hydration starts from. */
const initialStore = { getState: () => emptyState, subscribe: () => () => undefined }

/**
 * Subscribes this component to a channel of a lifeline server (a client created with `protocol: lifelineProtocol()`).
 * Many components on one channel share one subscription; it resumes from the last message after every reconnect.
 *
 * @example const { messages, publish, status } = useChannel<ChatLine>('room:42', { history: 50 })
 */
export function useChannel<T = unknown>(name: string, options: UseChannelOptions<T> = {}): UseChannelResult<T> {
  const client = useClientOrIdle(options.client)
  // The idle stand-in (server rendering under a provider that creates its client in the browser) has no channels:
  // the channel renders its initial state.
  const protocol = client === idleClient ? null : (client.protocol as LifelineProtocol)
  if (protocol && protocol.name !== 'lifeline') throw lifelineError('WRONG_PROTOCOL')

  const callbacks = useRef(options)
  callbacks.current = options
  const history = options.history ?? 100
  const store = useMemo(
    () =>
      protocol
        ? createChannelStore<T>(protocol, name, {
            history,
            connection: client,
            onMessage: (message) => callbacks.current.onMessage?.(message),
            onGap: (gap) => callbacks.current.onGap?.(gap),
          })
        : initialStore,
    [client, protocol, name, history],
  )
  const state = useSyncExternalStore(store.subscribe, store.getState, initialStore.getState) as ChannelState<T>
  const publish = useMemo(
    () => (protocol ? (data: unknown) => protocol.publish(name, data) : idleClient.sendJson),
    [protocol, name],
  )
  return {
    messages: state.messages,
    last: state.last,
    publish,
    status: state.status.state,
    resumed: state.status.resumed,
    error: state.status.error,
    gaps: state.gaps,
  }
}
