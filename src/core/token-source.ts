/** The client's token: the last one `getToken()` gave, fetched at most once at a time. */
export interface TokenSource {
  /** The token to connect with, or `null` when one must be fetched first. Memory only. */
  readonly current: string | null
  /** Tokens fetched so far. */
  readonly fetched: number
  /**
   * Fetches a token (single-flight: concurrent callers share one `getToken()` call), keeps it as `current` and calls
   * `done`; or calls `failed` with what `getToken()` threw, or a `TypeError` when it gave no non-empty string.
   */
  fetch(done: () => void, failed: (error: unknown) => void): void
  /** Forgets `current`: the next attempt fetches a fresh one. */
  invalidate(): void
  /** Stops sharing the call under way, if any (one that never settles), so that the next `fetch` asks again. */
  abandon(): void
}

/** Creates a {@link TokenSource} over `getToken`. */
export function createTokenSource(getToken: () => string | Promise<string>): TokenSource {
  let current: string | null = null
  let fetched = 0
  let inFlight: Promise<string> | null = null

  function request(): Promise<string> {
    if (inFlight) return inFlight
    const pending: Promise<string> = Promise.resolve()
      .then(() => getToken())
      .then((value) => {
        if (typeof value !== 'string' || !value) throw new TypeError(`getToken() returned ${typeof value}`)
        return value
      })
      .finally(() => {
        if (inFlight === pending) inFlight = null
      })
    inFlight = pending
    return pending
  }

  return {
    get current() {
      return current
    },
    get fetched() {
      return fetched
    },
    fetch(done, failed) {
      request().then((value) => {
        current = value
        fetched += 1
        done()
      }, failed)
    },
    invalidate() {
      current = null
    },
    abandon() {
      inFlight = null
    },
  }
}
