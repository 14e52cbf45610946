/** A token bucket: `capacity` tokens, refilled continuously at `capacity` per `perMs`. Internal. */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity
    this.updatedAt = now()
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const at = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((at - this.updatedAt) * this.capacity) / this.perMs)
    this.updatedAt = at
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until the bucket is full again: the pause that lets a client send a whole burst. */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil(((this.capacity - this.tokens) * this.perMs) / this.capacity))
  }
}

/**
 * Flow control of one connection's inbound queue: frames read but not handled yet, because an earlier one waits for
 * an authentication, an authorisation or a publish (docs/protocol.md §6.1). Internal.
 */
export interface FlowLimits {
  /** At this many frames waiting, the connection stops reading: TCP backpressure paces the peer. */
  readonly highFrames: number
  /** At this many UTF-8 bytes of frames waiting, the same. */
  readonly highBytes: number
  /** At or below this many frames (and {@link lowBytes}), it reads again. */
  readonly lowFrames: number
  /** At or below this many bytes (and {@link lowFrames}), it reads again. */
  readonly lowBytes: number
  /** One frame more than this closes the connection with 4002 and `retryAfterMs`. */
  readonly maxFrames: number
  /** Frames past this many bytes close it alike. */
  readonly maxBytes: number
}

/** Frames and bytes waiting at which a connection stops reading. */
const QUEUE_HIGH_WATER = { frames: 256, bytes: 256 * 1024 } as const
/** Frames and bytes waiting at or below which it reads again. */
const QUEUE_LOW_WATER = { frames: 64, bytes: 64 * 1024 } as const
/** The hard cap's floor; it also stays above the rate-limit burst plus the high-water mark. */
const QUEUE_MAX = { frames: 4096, bytes: 4 * 1024 * 1024 } as const
/** `retryAfterMs` floor of a close for a queue over its hard cap. */
export const QUEUE_FULL_RETRY_AFTER_MS = 1000
// What frames already read can add after a pause: Node reads a socket 64 KiB at a time, and the frame a read completes
// may have started in an earlier one (at most maxPayload); a long-poll batch is at most maxPayload.
const READ_BYTES = 64 * 1024

/** The flow-control marks for a server's options. */
export function flowLimits(options: {
  readonly maxPayload: number
  readonly rateLimit: { readonly messages: number } | null
}): FlowLimits {
  return {
    highFrames: QUEUE_HIGH_WATER.frames,
    highBytes: QUEUE_HIGH_WATER.bytes,
    lowFrames: QUEUE_LOW_WATER.frames,
    lowBytes: QUEUE_LOW_WATER.bytes,
    maxFrames: Math.max(QUEUE_MAX.frames, (options.rateLimit?.messages ?? 0) + QUEUE_HIGH_WATER.frames),
    maxBytes: Math.max(QUEUE_MAX.bytes, QUEUE_HIGH_WATER.bytes + READ_BYTES + 2 * options.maxPayload),
  }
}

/** What an {@link InboundQueue} pauses: a `ws` WebSocket stops reading its TCP socket; long-poll holds `POST` answers. */
export interface FlowControlled {
  pause?(): void
  resume?(): void
}

/** A connection's inbound frames in order, with the flow control of {@link FlowLimits}. Internal. */
export class InboundQueue<T> {
  /** Whether the reader is paused because the queue reached its high-water mark. */
  paused = false
  private readonly frames: T[] = []
  private readonly sizes: number[] = []
  private bytes = 0

  constructor(
    private readonly limits: FlowLimits,
    private readonly reader: FlowControlled,
  ) {}

  get length(): number {
    return this.frames.length
  }

  /** Queues a frame of `bytes`, pausing the reader at the high-water mark; false (not queued) past the hard cap. */
  push(frame: T, bytes: number): boolean {
    const { limits } = this
    if (this.frames.length >= limits.maxFrames || this.bytes + bytes > limits.maxBytes) return false
    this.frames.push(frame)
    this.sizes.push(bytes)
    this.bytes += bytes
    if (!this.paused && (this.frames.length >= limits.highFrames || this.bytes >= limits.highBytes)) {
      this.paused = true
      this.reader.pause?.()
    }
    return true
  }

  /** Takes the oldest frame; the reader resumes once the queue is down to its low-water mark. */
  shift(): T | undefined {
    if (this.frames.length === 0) return undefined
    const frame = this.frames.shift()
    this.bytes -= this.sizes.shift() ?? 0
    if (this.paused && this.frames.length <= this.limits.lowFrames && this.bytes <= this.limits.lowBytes) this.resume()
    return frame
  }

  /** Resumes the reader whatever the queue holds (a closing connection must read its peer's close frame). */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.reader.resume?.()
  }

  /** Drops every frame. */
  clear(): void {
    this.frames.length = 0
    this.sizes.length = 0
    this.bytes = 0
  }
}

/** What the server did with a client message id: published, or being published (resolves true once acked). */
export type DedupeState = 'acked' | Promise<boolean>

/**
 * Told of every change of a {@link DedupeSet}: `delta` ids more (or fewer), and whether an id was just remembered
 * (written). Internal.
 */
export type DedupeListener = (delta: number, remembered: boolean) => void

/** The most recent `limit` client message ids of a session, least recently used dropped first. Internal. */
export class DedupeSet {
  private readonly ids = new Map<string, DedupeState>()

  constructor(
    private readonly limit: number,
    /** The server's global count of remembered ids (see `maxDedupeIdsTotal`). */
    private readonly listener: DedupeListener = () => undefined,
  ) {}

  get(id: string): DedupeState | undefined {
    const state = this.ids.get(id)
    if (state !== undefined) {
      this.ids.delete(id)
      this.ids.set(id, state)
    }
    return state
  }

  set(id: string, state: DedupeState): void {
    const had = this.ids.delete(id)
    if (this.limit === 0) {
      if (had) this.listener(-1, false)
      return
    }
    this.ids.set(id, state)
    let delta = had ? 0 : 1
    if (this.ids.size > this.limit) {
      const oldest = this.ids.keys().next()
      if (!oldest.done) this.ids.delete(oldest.value)
      delta -= 1
    }
    // Reported once the set is within its own limit, so that the global bound never trims for an id this set drops.
    this.listener(delta, true)
  }

  delete(id: string): void {
    if (this.ids.delete(id)) this.listener(-1, false)
  }

  /** Forgets the least recently used id; false when there is none. */
  evictOldest(): boolean {
    const oldest = this.ids.keys().next()
    if (oldest.done) return false
    this.ids.delete(oldest.value)
    this.listener(-1, false)
    return true
  }

  /** Forgets every id. */
  clear(): void {
    const count = this.ids.size
    this.ids.clear()
    if (count > 0) this.listener(-count, false)
  }

  get size(): number {
    return this.ids.size
  }
}
