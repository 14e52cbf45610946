import type { Clock, Timers } from '../core'

/** Stable codes of {@link FakeClockError}. */
export type FakeClockErrorCode = 'INVALID_DURATION' | 'ALREADY_INSTALLED' | 'TOO_MANY_TIMERS'

/** Raised by a {@link FakeClock} used wrongly, or by `runAll()` on timers that never stop scheduling more. */
export class FakeClockError extends Error {
  override readonly name = 'FakeClockError'
  /** Stable machine-readable code. */
  readonly code: FakeClockErrorCode

  constructor(code: FakeClockErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Options of {@link createFakeClock}. */
export interface FakeClockOptions {
  /** Wall time at the start, in epoch ms (what `now()` returns before any `advance`). @default 1_700_000_000_000 */
  now?: number | undefined
}

/** Options of {@link FakeClock.runAll}. */
export interface FakeClockRunAllOptions {
  /** Most timers run before giving up with `TOO_MANY_TIMERS` (a timer that always schedules another). @default 10_000 */
  maxTimers?: number | undefined
}

/**
 * Time that moves only when the test says so. Pass `timers` and the clock itself as the client's `environment`
 * (`environment: { timers: clock.timers, clock }`); `install()` puts the page's own timers on it too, for components.
 */
export interface FakeClock extends Clock {
  /** `setTimeout` / `clearTimeout` on this clock, for `environment.timers`. */
  readonly timers: Timers
  /** Wall time, epoch ms: the start time plus every ms advanced. */
  now(): number
  /** Ms advanced since the clock was made (never jumps), for `environment.clock.monotonic`. */
  monotonic(): number
  /**
   * Moves time forward by `ms`, running every timer that falls due on the way, in due order, each at its own time
   * (timers they schedule run too when they fall due before the end). Returns how many timers ran.
   */
  advance(ms: number): number
  /** Runs timers in due order, moving time to each, until none is left. Returns how many ran. */
  runAll(options?: FakeClockRunAllOptions): number
  /** How many timers are waiting. */
  pending(): number
  /**
   * Puts the page's `setTimeout`, `clearTimeout`, `setInterval`, `clearInterval` and `Date.now` on this clock until
   * the returned function is called, so components' own delays (ConnectionBanner's `showAfterMs`, the countdowns)
   * follow the same time as the client. Throws `ALREADY_INSTALLED` while another fake clock is installed.
   */
  install(): () => void
}

interface Timer {
  id: number
  due: number
  order: number
  callback: () => void
  /** Repeat period of an interval; undefined for a timeout. */
  every: number | undefined
}

const DEFAULT_START = 1_700_000_000_000
let installed: FakeClock | null = null

function checkDuration(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new FakeClockError('INVALID_DURATION', `advance(ms) needs a finite ms >= 0, got ${String(ms)}`)
  }
}

/**
 * A clock and timers that never wait in real time: `advance(ms)` and `runAll()` move time and run what falls due.
 * Works in Node, jsdom and browsers (no imports beyond types).
 * @example
 * const clock = createFakeClock()
 * const client = createLifeline({ url, environment: { timers: clock.timers, clock, WebSocket: fake.WebSocket } })
 * clock.advance(5000)
 */
export function createFakeClock(options: FakeClockOptions = {}): FakeClock {
  const start = options.now ?? DEFAULT_START
  const timers = new Map<number, Timer>()
  let elapsed = 0
  let lastId = 0
  let order = 0

  function schedule(callback: () => void, ms: number, every: number | undefined): number {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    lastId += 1
    timers.set(lastId, { id: lastId, due: elapsed + delay, order: order++, callback, every })
    return lastId
  }

  function next(until: number): Timer | undefined {
    let first: Timer | undefined
    for (const timer of timers.values()) {
      if (timer.due > until) continue
      if (!first || timer.due < first.due || (timer.due === first.due && timer.order < first.order)) first = timer
    }
    return first
  }

  function run(timer: Timer): void {
    elapsed = Math.max(elapsed, timer.due)
    if (timer.every === undefined) timers.delete(timer.id)
    else Object.assign(timer, { due: elapsed + Math.max(1, timer.every), order: order++ })
    timer.callback()
  }

  const clock: FakeClock = {
    timers: {
      setTimeout: (callback, ms) => schedule(callback, ms, undefined),
      clearTimeout: (handle) => void timers.delete(handle as number),
    },
    now: () => start + elapsed,
    monotonic: () => elapsed,
    advance(ms) {
      checkDuration(ms)
      const end = elapsed + ms
      let ran = 0
      for (let timer = next(end); timer; timer = next(end)) {
        run(timer)
        ran += 1
      }
      elapsed = end
      return ran
    },
    runAll({ maxTimers = 10_000 } = {}) {
      let ran = 0
      for (let timer = next(Infinity); timer; timer = next(Infinity)) {
        if (ran >= maxTimers) {
          throw new FakeClockError('TOO_MANY_TIMERS', `runAll() ran ${String(maxTimers)} timers and more are waiting`)
        }
        run(timer)
        ran += 1
      }
      return ran
    },
    pending: () => timers.size,
    install() {
      if (installed)
        throw new FakeClockError('ALREADY_INSTALLED', 'another fake clock is installed: uninstall it first')
      installed = clock
      const g = globalThis as unknown as Record<string, unknown>
      const saved = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((name) => [name, g[name]])
      const savedNow = Date.now
      const realClear = g.clearTimeout as (handle: unknown) => void
      // A timer set before install() is a real one: clearing it must still work.
      const clear = (handle: unknown) => void (timers.delete(handle as number) || realClear(handle))
      g.setTimeout = (callback: () => void, ms?: number) => schedule(callback, ms ?? 0, undefined)
      g.clearTimeout = clear
      g.setInterval = (callback: () => void, ms?: number) => schedule(callback, ms ?? 0, ms ?? 0)
      g.clearInterval = clear
      Date.now = clock.now
      return () => {
        if (installed !== clock) return
        for (const [name, original] of saved) g[name as string] = original
        Date.now = savedNow
        installed = null
      }
    },
  }
  return clock
}
