import { randomBytes } from 'node:crypto'
import { InvalidOptionsError } from '../core'
import type { OptionIssue, StreamPosition } from '../core'
import type { Broker, BrokerHistory, BrokerListener, BrokerMessage } from './broker'
import { LifelineServerError } from './errors'

/** Options of {@link createMemoryBroker}. */
export interface MemoryBrokerOptions {
  /**
   * How long a message stays replayable, ms. A channel with no subscribers and no activity for this long is forgotten
   * (its next message starts a new epoch).
   * @default 120000
   */
  windowMs?: number
  /**
   * Messages kept per channel.
   * @default 1000
   */
  maxMessages?: number
  /**
   * Bytes of payload kept per channel.
   * @default 1048576
   */
  maxBytes?: number
  /**
   * Bytes of payload kept over all channels; past it, the least recently active channels lose their history first.
   * @default 268435456
   */
  maxTotalBytes?: number
  /**
   * Channels tracked at once; past it, the least recently active channel without subscribers is forgotten.
   * @default 100000
   */
  maxChannels?: number
  /**
   * Monotonic clock in ms, for tests.
   * @default performance.now
   */
  now?: () => number
  /**
   * Called when a listener throws; the other listeners still get the message.
   * @default rethrows asynchronously (an uncaught exception)
   */
  onListenerError?: (error: unknown, channel: string) => void
}

interface Entry {
  readonly message: BrokerMessage
  readonly at: number
  readonly bytes: number
}

interface ChannelState {
  epoch: string
  /** Last seq assigned in this epoch. */
  head: number
  /** Retained entries are `entries[start…]`, oldest first; the prefix is compacted away now and then. */
  entries: Entry[]
  start: number
  bytes: number
  readonly listeners: Set<BrokerListener>
  touchedAt: number
}

const newEpoch = (): string => randomBytes(9).toString('base64url')

/**
 * A {@link Broker} in this process's memory: one server, history lost on restart (clients then see a new epoch and
 * report a discontinuity). Delivery to listeners is synchronous, inside `publish`. It uses no timers: expired history
 * and idle channels are swept during later calls.
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const issues: OptionIssue[] = []
  const count = (field: keyof MemoryBrokerOptions, fallback: number, min: number): number => {
    const value = options[field] ?? fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      issues.push({ field, problem: `must be an integer >= ${String(min)}` })
    }
    return value as number
  }
  const windowMs = count('windowMs', 120_000, 0)
  const maxMessages = count('maxMessages', 1000, 0)
  const maxBytes = count('maxBytes', 1024 * 1024, 0)
  const maxTotalBytes = count('maxTotalBytes', 256 * 1024 * 1024, 0)
  const maxChannels = count('maxChannels', 100_000, 1)
  if (issues.length > 0) throw new InvalidOptionsError(issues)
  const now = options.now ?? (() => performance.now())
  const onListenerError =
    options.onListenerError ??
    ((error: unknown) =>
      queueMicrotask(() => {
        throw error
      }))

  // Map order is least recently touched first: `touch` moves a channel to the end.
  const channels = new Map<string, ChannelState>()
  let totalBytes = 0
  let lastSweep = now()
  let closed = false

  const assertOpen = (): void => {
    if (closed) throw new LifelineServerError('BROKER_CLOSED', 'The memory broker was closed')
  }

  const dropOldest = (state: ChannelState): void => {
    const entry = state.entries[state.start]
    if (!entry) return
    state.start += 1
    state.bytes -= entry.bytes
    totalBytes -= entry.bytes
    if (state.start > 64 && state.start * 2 > state.entries.length) {
      state.entries = state.entries.slice(state.start)
      state.start = 0
    }
  }

  const retained = (state: ChannelState): number => state.entries.length - state.start

  const expire = (state: ChannelState, at: number): void => {
    for (
      let entry = state.entries[state.start];
      entry && at - entry.at > windowMs;
      entry = state.entries[state.start]
    ) {
      dropOldest(state)
    }
  }

  const clear = (state: ChannelState): void => {
    totalBytes -= state.bytes
    state.entries = []
    state.start = 0
    state.bytes = 0
  }

  const sweep = (at: number): void => {
    if (at - lastSweep < Math.min(windowMs, 1000)) return
    lastSweep = at
    for (const [channel, state] of channels) {
      if (at - state.touchedAt <= windowMs) break
      expire(state, at)
      if (state.listeners.size === 0 && retained(state) === 0) channels.delete(channel)
    }
  }

  const touch = (channel: string, state: ChannelState, at: number): void => {
    channels.delete(channel)
    channels.set(channel, state)
    state.touchedAt = at
  }

  const stateOf = (channel: string): ChannelState => {
    const at = now()
    sweep(at)
    let state = channels.get(channel)
    if (!state) {
      if (channels.size >= maxChannels) {
        for (const [name, candidate] of channels) {
          if (candidate.listeners.size > 0) continue
          clear(candidate)
          channels.delete(name)
          break
        }
      }
      state = { epoch: newEpoch(), head: 0, entries: [], start: 0, bytes: 0, listeners: new Set(), touchedAt: at }
    }
    touch(channel, state, at)
    expire(state, at)
    return state
  }

  const deliver = (state: ChannelState, message: BrokerMessage): void => {
    for (const listener of state.listeners) {
      try {
        listener(message)
      } catch (error) {
        onListenerError(error, message.channel)
      }
    }
  }

  return {
    publish(channel, payload) {
      try {
        assertOpen()
      } catch (error) {
        return Promise.reject(error)
      }
      const state = stateOf(channel)
      state.head += 1
      const message: BrokerMessage = { channel, epoch: state.epoch, seq: state.head, payload }
      const bytes = Buffer.byteLength(payload)
      state.entries.push({ message, at: state.touchedAt, bytes })
      state.bytes += bytes
      totalBytes += bytes
      while (retained(state) > maxMessages || state.bytes > maxBytes) dropOldest(state)
      if (totalBytes > maxTotalBytes) {
        for (const other of channels.values()) {
          if (totalBytes <= maxTotalBytes) break
          if (other !== state) clear(other)
        }
      }
      deliver(state, message)
      return Promise.resolve({ epoch: message.epoch, seq: message.seq })
    },

    subscribe(channel, listener) {
      try {
        assertOpen()
      } catch (error) {
        return Promise.reject(error)
      }
      const state = stateOf(channel)
      const registered: BrokerListener = (message) => listener(message)
      state.listeners.add(registered)
      return Promise.resolve(() => {
        if (!state.listeners.delete(registered)) return
        // Count the unsubscribe as activity so a resuming client finds the channel's head for a whole window.
        if (channels.get(channel) === state) touch(channel, state, now())
      })
    },

    history(channel, since) {
      try {
        assertOpen()
      } catch (error) {
        return Promise.reject(error)
      }
      const state = stateOf(channel)
      const head: StreamPosition = { epoch: state.epoch, seq: state.head }
      const first = state.entries[state.start]?.message.seq ?? state.head + 1
      const resumable =
        since !== undefined &&
        since.epoch === state.epoch &&
        Number.isSafeInteger(since.seq) &&
        since.seq <= state.head &&
        since.seq >= first - 1
      if (!since || !resumable) return Promise.resolve<BrokerHistory>({ resumed: false, messages: [], head })
      const from = state.start + (since.seq - first + 1)
      const messages = state.entries.slice(from).map((entry) => entry.message)
      return Promise.resolve<BrokerHistory>({ resumed: true, messages, head })
    },

    reset(channel) {
      try {
        assertOpen()
      } catch (error) {
        return Promise.reject(error)
      }
      const targets = channel === undefined ? [...channels.values()] : [channels.get(channel)]
      for (const state of targets) {
        if (!state) continue
        clear(state)
        state.epoch = newEpoch()
        state.head = 0
      }
      return Promise.resolve()
    },

    close() {
      closed = true
      for (const state of channels.values()) state.listeners.clear()
      channels.clear()
      totalBytes = 0
      return Promise.resolve()
    },
  }
}
