import type { StreamPosition } from '../../core'
import type { BrokerHistory, BrokerListener, BrokerMessage } from '../broker'

/** Live messages held per channel while it catches up from its stream; past it they are re-read from the stream. */
export const MAX_BUFFERED_MESSAGES = 10_000

/** Retry of a channel whose catch-up failed (Redis unreachable), ms. */
const RETRY_MS = 500

interface FeedChannel {
  readonly name: string
  readonly listeners: Set<BrokerListener>
  /** `live`: delivers in order. `syncing`: reading the stream. `stale`: must read it before delivering anything. */
  phase: 'live' | 'syncing' | 'stale'
  /** Last position delivered (or the head when the channel was joined); null until the first read. */
  position: StreamPosition | null
  buffer: BrokerMessage[]
  /** The buffer overflowed during a read: read again, from the new position, before going live. */
  overflowed: boolean
  /** Resolves when the channel is subscribed and has its first position. */
  joined: Promise<void>
}

/** What a {@link LiveFeed} needs. Internal. */
export interface FeedDeps {
  history(channel: string, since: StreamPosition | undefined): Promise<BrokerHistory>
  subscribe(channel: string): Promise<void>
  unsubscribe(channel: string): void
  onListenerError(error: unknown, channel: string): void
  onSyncError(error: unknown): void
}

/**
 * One node's live delivery of channel messages to its listeners, in seq order with no gap and no duplicate. Pub/sub
 * carries the messages; whenever the node cannot prove continuity (a seq skipped, a new epoch not starting at 1, the
 * pub/sub link dropped) it stops delivering, buffers what arrives, reads the missing seqs from the channel's stream,
 * delivers them, then the buffered ones after them. When the stream no longer holds them it jumps to the head and the
 * listener (the server's Subscription) sees the discontinuity and announces it. Internal.
 */
export class LiveFeed {
  private readonly channels = new Map<string, FeedChannel>()
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false

  constructor(private readonly deps: FeedDeps) {}

  /** Adds a listener; resolves once the channel is subscribed and positioned, with the unsubscribe function. */
  async add(name: string, listener: BrokerListener): Promise<() => void> {
    let channel = this.channels.get(name)
    if (!channel) channel = this.join(name)
    const registered: BrokerListener = (message) => listener(message)
    channel.listeners.add(registered)
    const joined = channel
    try {
      await joined.joined
    } catch (error) {
      this.remove(joined, registered)
      throw error
    }
    return () => this.remove(joined, registered)
  }

  /** A pub/sub message of `name`. */
  receive(message: BrokerMessage): void {
    const channel = this.channels.get(message.channel)
    if (channel) this.accept(channel, message)
  }

  /** The pub/sub link dropped: nothing more is delivered until each channel caught up from its stream. */
  linkDown(): void {
    for (const channel of this.channels.values()) {
      if (channel.phase === 'live') channel.phase = 'stale'
    }
  }

  /**
   * The pub/sub link is subscribed again: catch every channel up, including those that went live while it was down
   * and those reading right now (they read once more, from after this point).
   */
  linkUp(): void {
    for (const channel of this.channels.values()) {
      if (channel.phase === 'syncing') channel.overflowed = true
      else if (channel.position) void this.sync(channel)
    }
  }

  close(): void {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    for (const channel of this.channels.values()) channel.listeners.clear()
    this.channels.clear()
  }

  private join(name: string): FeedChannel {
    const channel: FeedChannel = {
      name,
      listeners: new Set(),
      phase: 'syncing',
      position: null,
      buffer: [],
      overflowed: false,
      joined: Promise.resolve(),
    }
    this.channels.set(name, channel)
    channel.joined = (async () => {
      // Subscribe first, read the head second: every message after the head then arrives over pub/sub.
      await this.deps.subscribe(name)
      const history = await this.deps.history(name, undefined)
      if (this.channels.get(name) !== channel) return
      channel.position = history.head
      this.goLive(channel)
    })()
    return channel
  }

  private remove(channel: FeedChannel, listener: BrokerListener): void {
    if (!channel.listeners.delete(listener) || channel.listeners.size > 0) return
    if (this.channels.get(channel.name) !== channel) return
    this.channels.delete(channel.name)
    this.deps.unsubscribe(channel.name)
  }

  private accept(channel: FeedChannel, message: BrokerMessage): void {
    if (channel.phase !== 'live' || !channel.position) {
      this.hold(channel, message)
      return
    }
    const { epoch, seq } = channel.position
    if (message.epoch === epoch && message.seq <= seq) return
    if ((message.epoch === epoch && message.seq === seq + 1) || (message.epoch !== epoch && message.seq === 1)) {
      this.deliver(channel, message)
      return
    }
    this.hold(channel, message)
    void this.sync(channel)
  }

  private hold(channel: FeedChannel, message: BrokerMessage): void {
    if (channel.buffer.length >= MAX_BUFFERED_MESSAGES) {
      // Everything dropped here is in the stream: the read after this one fetches it.
      channel.buffer = []
      channel.overflowed = true
    }
    channel.buffer.push(message)
  }

  private deliver(channel: FeedChannel, message: BrokerMessage): void {
    channel.position = { epoch: message.epoch, seq: message.seq }
    for (const listener of [...channel.listeners]) {
      try {
        listener(message)
      } catch (error) {
        this.deps.onListenerError(error, channel.name)
      }
    }
  }

  /** Reads the stream after the channel's position, delivers what it finds, then what was buffered meanwhile. */
  private async sync(channel: FeedChannel): Promise<void> {
    if (channel.phase === 'syncing' || !channel.position) return
    channel.phase = 'syncing'
    try {
      do {
        channel.overflowed = false
        const since: StreamPosition = channel.position
        let history = await this.deps.history(channel.name, since)
        if (!history.resumed && history.head.epoch !== since.epoch) {
          // A new epoch: its messages from seq 1, when the stream still holds them all.
          const fresh = await this.deps.history(channel.name, { epoch: history.head.epoch, seq: 0 })
          if (fresh.resumed) history = fresh
        }
        if (this.channels.get(channel.name) !== channel) return
        for (const message of history.messages) this.deliver(channel, message)
        // Not resumed: the missing seqs are gone for good. Jump to the head; the listener sees the skip and says so.
        channel.position = history.head
      } while (channel.overflowed)
      this.goLive(channel)
    } catch (error) {
      channel.phase = 'stale'
      this.deps.onSyncError(error)
      this.scheduleRetry()
    }
  }

  private goLive(channel: FeedChannel): void {
    channel.phase = 'live'
    const buffered = channel.buffer
    channel.buffer = []
    for (const message of buffered) this.accept(channel, message)
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      for (const channel of this.channels.values()) {
        if (channel.phase === 'stale' && channel.position) void this.sync(channel)
      }
    }, RETRY_MS)
    this.retryTimer.unref?.()
  }
}
