import type { StreamPosition } from './wire'

/** One message of a channel, delivered in order, never twice. */
export interface ChannelMessage<T = unknown> {
  channel: string
  data: T
  /** Position in the channel's stream. */
  epoch: string
  seq: number
  /** Epoch ms of receipt. */
  receivedAt: number
}

/**
 * Why continuity of a channel could not be proven. Every gap is reported exactly once; a silent gap never happens.
 * - `not-resumed`: the server still has the stream but could not replay from our position (outside its window, over
 *   its cap).
 * - `epoch-changed`: the server's history for the channel was replaced (a restart without a broker that outlives it,
 *   history dropped): its answer to our resubscribe, or a message, is in another epoch.
 * - `seq-skipped`: a message arrived with a seq beyond the next one.
 * - `session-expired`: the server ended our session (close 4003); positions were dropped.
 */
export type GapReason = 'not-resumed' | 'epoch-changed' | 'seq-skipped' | 'session-expired'

/** A discontinuity in one channel. */
export interface ChannelGap {
  channel: string
  reason: GapReason
  /** Last position delivered before the gap (`null` if none). */
  from: StreamPosition | null
  /** Where the stream continues. */
  to: StreamPosition
}

/** Per-subscriber callbacks. */
export interface ChannelListener {
  message?: (message: ChannelMessage) => void
  gap?: (gap: ChannelGap) => void
  /** The subscription was confirmed (`resumed` says whether our position was honoured), or refused. */
  status?: (status: ChannelStatus) => void
}

/** Where a channel subscription stands. */
export interface ChannelStatus {
  state: 'pending' | 'subscribed' | 'error'
  /** After a (re)subscribe with a known position: whether every message since was replayed. `null` before. */
  resumed: boolean | null
  /** The server's error code when refused. */
  error: string | null
}

/**
 * Watches every channel of a registry (devtools) without holding a subscription: what the listeners of each channel
 * get, with the channel's name, and when a channel is dropped.
 */
export interface ChannelObserver {
  /** A message the channel's listeners got. */
  message?: (message: ChannelMessage, channel: string) => void
  /** A gap the channel's listeners got. */
  gap?: (gap: ChannelGap, channel: string) => void
  /** A status the channel's listeners got; on `observe()`, the status of each channel held. */
  status?: (status: ChannelStatus, channel: string) => void
  /** The last listener left and, after the linger, the channel was unsubscribed and removed from the registry. */
  dropped?: (channel: string) => void
}

interface Channel {
  name: string
  listeners: Set<ChannelListener>
  position: StreamPosition | null
  /** A session expiry dropped the position: the next `subscribed` reports this gap, from this position. */
  pendingGap: { reason: GapReason; from: StreamPosition | null } | null
  /** Whether the last `sub` carried `since` (only then is `resumed: false` a gap). */
  askedSince: boolean
  status: ChannelStatus
  cancelLinger: (() => void) | null
}

/** What the registry needs from the connection. */
export interface ChannelRegistryHost {
  /** Writes a `sub` frame now if the connection is open (else it is sent on the next resubscribe). */
  sub(name: string, since: StreamPosition | null): void
  /** Writes an `unsub` frame now if the connection is open. */
  unsub(name: string): void
  /** Schedules a callback; returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  now(): number
}

/** Options of the registry. */
export interface ChannelRegistryOptions {
  /** How long a channel stays subscribed after its last listener leaves (absorbs remounts). @default 1000 */
  lingerMs?: number | undefined
}

/** Ref-counted channel subscriptions with positions, duplicate dropping and gap detection. */
export interface ChannelRegistry {
  /** Adds a listener; the first one subscribes. Returns the function that removes it (idempotent). */
  join(name: string, listener: ChannelListener): () => void
  /** After (re)connecting: `sub` with `since` for every channel. */
  resubscribeAll(): void
  /** A `msg` frame. Returns false for a duplicate. */
  message(name: string, epoch: string, seq: number, data: unknown): boolean
  /** A `subscribed` frame. */
  subscribed(name: string, resumed: boolean, epoch: string, seq: number): void
  /** An `error` frame about a channel. */
  refused(name: string, code: string): void
  /** The session expired: positions are dropped and a gap is reported for each channel on resubscribe. */
  expire(): void
  /** Names of the channels held. */
  names(): string[]
  /** Listener count, for leak checks. */
  size(): number
  /**
   * Watches every channel without joining one, so no channel stays subscribed for it: the observer first gets the
   * status of each channel held, then every status, gap and message the listeners get, and `dropped`. Returns the
   * function that stops it (idempotent). Its errors are rethrown on a microtask, as a listener's are.
   */
  observe(observer: ChannelObserver): () => void
}

/**
 * Calls a listener or an observer (which also gets the channel's name). Its error is rethrown on a microtask, like an
 * event listener's: it stops neither the other listeners nor the frame being handled, and is not swallowed.
 */
function call<K extends keyof ChannelObserver>(
  listener: ChannelObserver,
  key: K,
  payload: Parameters<NonNullable<ChannelObserver[K]>>[0],
  channel?: string,
): void {
  try {
    ;(listener[key] as ((value: typeof payload, name?: string) => void) | undefined)?.call(listener, payload, channel)
  } catch (error) {
    queueMicrotask(() => {
      throw error
    })
  }
}

/** Creates a {@link ChannelRegistry}. Channels live in a `Map`, so any name (even `__proto__`) is safe. */
export function createChannelRegistry(
  host: ChannelRegistryHost,
  options: ChannelRegistryOptions = {},
): ChannelRegistry {
  const lingerMs = options.lingerMs ?? 1000
  const channels = new Map<string, Channel>()
  const observers = new Set<ChannelObserver>()

  /** Tells the channel's listeners, then every observer (`dropped`: only observers, the channel has no listener). */
  const each = <K extends keyof ChannelObserver>(
    channel: Channel,
    key: K,
    payload: Parameters<NonNullable<ChannelObserver[K]>>[0],
  ) => {
    for (const listener of channel.listeners) call(listener, key, payload)
    for (const observer of observers) call(observer, key, payload, channel.name)
  }
  const setStatus = (channel: Channel, status: ChannelStatus) => {
    channel.status = status
    each(channel, 'status', status)
  }
  const subscribe = (channel: Channel) => {
    channel.askedSince = channel.position !== null
    setStatus(channel, { state: 'pending', resumed: null, error: null })
    host.sub(channel.name, channel.position)
  }
  const gap = (channel: Channel, reason: GapReason, to: StreamPosition, from = channel.position) => {
    each(channel, 'gap', { channel: channel.name, reason, from, to })
  }

  return {
    join(name, listener) {
      let channel = channels.get(name)
      if (!channel) {
        channel = {
          name,
          listeners: new Set(),
          position: null,
          pendingGap: null,
          askedSince: false,
          status: { state: 'pending', resumed: null, error: null },
          cancelLinger: null,
        }
        channels.set(name, channel)
        channel.listeners.add(listener)
        subscribe(channel)
      } else {
        channel.cancelLinger?.()
        channel.cancelLinger = null
        channel.listeners.add(listener)
        // A later listener (a second component, a remount) learns where the shared subscription already stands.
        call(listener, 'status', channel.status)
      }
      const joined = channel
      let member = true
      return () => {
        if (!member) return
        member = false
        joined.listeners.delete(listener)
        if (joined.listeners.size > 0) return
        joined.cancelLinger = host.later(() => {
          joined.cancelLinger = null
          if (joined.listeners.size > 0 || channels.get(name) !== joined) return
          channels.delete(name)
          host.unsub(name)
          each(joined, 'dropped', name)
        }, lingerMs)
      }
    },
    resubscribeAll() {
      for (const channel of channels.values()) subscribe(channel)
    },
    message(name, epoch, seq, data) {
      const channel = channels.get(name)
      if (!channel) return false
      const last = channel.position
      if (last && last.epoch === epoch && seq <= last.seq) return false
      // A new epoch or a skipped seq is a discontinuity, reported before the message that follows it.
      if (last && last.epoch !== epoch) gap(channel, 'epoch-changed', { epoch, seq })
      else if (last && seq > last.seq + 1) gap(channel, 'seq-skipped', { epoch, seq })
      channel.position = { epoch, seq }
      each(channel, 'message', { channel: name, data, epoch, seq, receivedAt: host.now() })
      return true
    },
    subscribed(name, resumed, epoch, seq) {
      const channel = channels.get(name)
      if (!channel) return
      const to = { epoch, seq }
      if (channel.pendingGap) {
        gap(channel, channel.pendingGap.reason, to, channel.pendingGap.from)
        channel.pendingGap = null
      } else if (!resumed && channel.position && (channel.askedSince || channel.status.state === 'subscribed')) {
        // Asked for a replay and did not get it, or an unsolicited announcement that history was lost. A head in
        // another epoch proves the stream we followed is gone (a restart without a durable broker), not just too old.
        gap(channel, channel.position.epoch === epoch ? 'not-resumed' : 'epoch-changed', to)
      }
      // Continue from the head the server announced: anything after it arrives as live messages.
      if (!resumed || !channel.position || channel.position.epoch !== epoch) channel.position = to
      setStatus(channel, { state: 'subscribed', resumed: channel.askedSince ? resumed : null, error: null })
    },
    refused(name, code) {
      const channel = channels.get(name)
      if (channel) setStatus(channel, { state: 'error', resumed: null, error: code })
    },
    expire() {
      for (const channel of channels.values()) {
        if (channel.position) channel.pendingGap = { reason: 'session-expired', from: channel.position }
        channel.position = null
      }
    },
    observe(observer) {
      observers.add(observer)
      for (const channel of channels.values()) call(observer, 'status', channel.status, channel.name)
      return () => observers.delete(observer)
    },
    names: () => [...channels.keys()],
    size: () => {
      let count = 0
      for (const channel of channels.values()) count += channel.listeners.size
      return count
    },
  }
}
