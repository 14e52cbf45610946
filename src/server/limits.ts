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

/** What the server did with a client message id: published, or being published (resolves true once acked). */
export type DedupeState = 'acked' | Promise<boolean>

/** The most recent `limit` client message ids of a session, least recently used dropped first. Internal. */
export class DedupeSet {
  private readonly ids = new Map<string, DedupeState>()

  constructor(private readonly limit: number) {}

  get(id: string): DedupeState | undefined {
    const state = this.ids.get(id)
    if (state !== undefined) {
      this.ids.delete(id)
      this.ids.set(id, state)
    }
    return state
  }

  set(id: string, state: DedupeState): void {
    this.ids.delete(id)
    if (this.limit === 0) return
    this.ids.set(id, state)
    if (this.ids.size > this.limit) {
      const oldest = this.ids.keys().next()
      if (!oldest.done) this.ids.delete(oldest.value)
    }
  }

  delete(id: string): void {
    this.ids.delete(id)
  }

  get size(): number {
    return this.ids.size
  }
}
