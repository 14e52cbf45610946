import type { Timers } from './environment'

/** Every timer of one client, so that none outlives it. */
export interface TimerSet {
  /** Runs `callback` after `ms`; returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  /** Cancels every pending timer. */
  clear(): void
  /** Pending timers, for leak checks. */
  size(): number
}

/** Creates a {@link TimerSet} over `timers`. */
export function createTimerSet(timers: Timers): TimerSet {
  const live = new Set<unknown>()
  return {
    later(callback, ms) {
      const handle = timers.setTimeout(() => {
        live.delete(handle)
        callback()
      }, ms)
      live.add(handle)
      return () => {
        if (live.delete(handle)) timers.clearTimeout(handle)
      }
    },
    clear() {
      for (const handle of live) timers.clearTimeout(handle)
      live.clear()
    },
    size: () => live.size,
  }
}
