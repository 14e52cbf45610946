import type { ChannelGap, ChannelMessage, ChannelStatus, ConnectionSnapshot, LifelineProtocol } from '../core'
import { createFrameScheduler } from './frame-batcher'

/**
 * Where a channel stands for rendering: `pending` until the server first confirms it, `subscribed` while the
 * connection is open and the subscription confirmed on it, `resubscribing` once it was subscribed and the connection is
 * down or reopened but not yet confirmed again (it resumes from the last message seen), `error` when refused.
 */
export type ChannelSubscriptionState = ChannelStatus['state'] | 'resubscribing'

/** {@link ChannelStatus} as a channel store shows it: its `state` also says when the connection is down. */
export interface ChannelViewStatus extends Omit<ChannelStatus, 'state'> {
  state: ChannelSubscriptionState
}

/** What a channel store publishes (a new object at most once per animation frame). */
export interface ChannelState<T = unknown> {
  /** The last `history` messages, oldest first. */
  messages: readonly ChannelMessage<T>[]
  /** The newest message, or `null`. */
  last: ChannelMessage<T> | null
  /** Subscription state and whether the last resubscribe resumed without a gap. */
  status: ChannelViewStatus
  /** Discontinuities reported so far (the last 20). */
  gaps: readonly ChannelGap[]
}

/** A channel as an external store for `useSyncExternalStore`. */
export interface ChannelStore<T = unknown> {
  getState(): ChannelState<T>
  /** The first subscriber joins the channel; after the last leaves, the client lingers, then unsubscribes. */
  subscribe(listener: () => void): () => void
}

/** Options of {@link createChannelStore}. */
export interface ChannelStoreOptions<T> {
  /** Messages kept for rendering. @default 100 */
  history?: number | undefined
  /** Every message, in order, as it arrives (no render). @default undefined */
  onMessage?: ((message: ChannelMessage<T>) => void) | undefined
  /** Every discontinuity. @default undefined */
  onGap?: ((gap: ChannelGap) => void) | undefined
  /**
   * The connection (the client), read so that `status` is never `subscribed` while it is not open.
   * @default undefined (the status is the registry's alone)
   */
  connection?: ConnectionSource | undefined
}

/** What a channel store reads from the connection: a `LifelineClient` is one. */
export interface ConnectionSource {
  getSnapshot(): Pick<ConnectionSnapshot, 'status'>
  subscribe(listener: () => void): () => void
}

const initialStatus: ChannelStatus = { state: 'pending', resumed: null, error: null }

/**
 * Creates the store of one channel on a client. Inbound messages are buffered and published at most once per
 * animation frame (a timer when the page is hidden), so a 10 000 msg/s stream costs ~60 renders/s; `onMessage` still
 * sees every message in order. The buffer is bounded by `history`.
 */
export function createChannelStore<T = unknown>(
  protocol: LifelineProtocol,
  name: string,
  options: ChannelStoreOptions<T> = {},
): ChannelStore<T> {
  const history = Math.max(0, options.history ?? 100)
  let state: ChannelState<T> = { messages: [], last: null, status: initialStatus, gaps: [] }
  let pending: ChannelMessage<T>[] = []
  let status = initialStatus
  const connection = options.connection
  let open = true
  let wasSubscribed = false
  let gaps: readonly ChannelGap[] = []
  const listeners = new Set<() => void>()
  let leave: (() => void) | null = null

  /** The newest `history` entries (not `slice(-history)`: `slice(-0)` keeps everything). */
  const newest = (list: readonly ChannelMessage<T>[]) => list.slice(list.length - Math.min(history, list.length))

  const frame = createFrameScheduler(() => {
    const fresh = pending
    pending = []
    const messages = fresh.length ? newest(state.messages.concat(newest(fresh))) : state.messages
    state = { messages, last: fresh.at(-1) ?? state.last, status: view(status, open, wasSubscribed), gaps }
    for (const listener of listeners) listener()
  })
  let unwatch: (() => void) | null = null

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener)
      if (connection && !unwatch) open = connection.getSnapshot().status === 'open'
      leave ??= protocol.channel(name, {
        message(message) {
          options.onMessage?.(message as ChannelMessage<T>)
          pending.push(message as ChannelMessage<T>)
          // Bounded even if frames never come (hidden page, no renders): keep only what can be shown.
          if (pending.length > 2 * history + 64) pending = pending.slice(-history - 1)
          frame.schedule()
        },
        gap(gap) {
          options.onGap?.(gap)
          gaps = [...gaps.slice(-19), gap]
          frame.schedule()
        },
        status(next) {
          status = next
          if (next.state === 'subscribed') wasSubscribed = true
          frame.schedule()
        },
      })
      unwatch ??=
        connection?.subscribe(() => {
          const now = connection.getSnapshot().status === 'open'
          // Only a change of open-ness matters: latency or outbox updates must not re-render every channel.
          if (now === open) return
          open = now
          frame.schedule()
        }) ?? null
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && leave) {
          leave()
          leave = null
          unwatch?.()
          unwatch = null
          frame.cancel()
        }
      }
    },
  }
}

/** The registry's status as shown: a subscription on a connection that is down, or not yet confirmed again, is not live. */
function view(status: ChannelStatus, open: boolean, wasSubscribed: boolean): ChannelViewStatus {
  if (status.state === 'error' || !wasSubscribed) return status
  if (status.state === 'subscribed' && open) return status
  return { ...status, state: 'resubscribing' }
}
