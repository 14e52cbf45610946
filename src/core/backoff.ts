/** What a backoff strategy is told about the attempt it must delay. */
export interface BackoffContext {
  /** The retry about to be scheduled: 1 for the first retry after a drop. */
  attempt: number
  /** Lower bound of every delay, in ms. */
  minDelayMs: number
  /** Upper bound of every delay, in ms. */
  maxDelayMs: number
  /** The delay chosen for the previous retry (`minDelayMs` before the first). */
  previousDelayMs: number
  /** Uniform random number in [0, 1), injected so tests are deterministic. */
  random: () => number
}

/** A backoff strategy: returns the delay in ms. The result is clamped to [minDelayMs, maxDelayMs]. */
export type BackoffFn = (context: BackoffContext) => number

/** A named strategy or your own function. */
export type BackoffOption = 'full-jitter' | 'decorrelated' | BackoffFn

/**
 * Full jitter, spread over [minDelayMs, min(maxDelayMs, minDelayMs·2^attempt)] uniformly.
 *
 * Unlike the textbook `random(0, cap)` floored at the minimum, the floor is the lower end of a flat range: a floor
 * would pile every "short" draw onto exactly `minDelayMs`, recreating the synchronised burst jitter exists to break.
 */
export const fullJitter: BackoffFn = ({ attempt, minDelayMs, maxDelayMs, random }) => {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 52))
  return minDelayMs + random() * (cap - minDelayMs)
}

/** Decorrelated jitter: random(minDelayMs, previous·3), capped at maxDelayMs. */
export const decorrelatedJitter: BackoffFn = ({ minDelayMs, maxDelayMs, previousDelayMs, random }) =>
  Math.min(maxDelayMs, minDelayMs + random() * (Math.max(minDelayMs, previousDelayMs * 3) - minDelayMs))

/** Resolves a strategy and clamps whatever it returns into [minDelayMs, maxDelayMs] (NaN → minDelayMs). */
export function computeBackoff(option: BackoffOption, context: BackoffContext): number {
  const strategy = option === 'decorrelated' ? decorrelatedJitter : option === 'full-jitter' ? fullJitter : option
  return clamp(strategy(context), context.minDelayMs, context.maxDelayMs)
}

/**
 * Delay after a close that announces a restart (1001, 1012): uniform over [min, min(max, 10·min)] from attempt 1, so
 * that thousands of clients dropped at the same instant do not come back in the same half second.
 */
export function spreadDelay(context: BackoffContext): number {
  const top = Math.min(context.maxDelayMs, context.minDelayMs * 10)
  return context.minDelayMs + context.random() * (top - context.minDelayMs)
}

/** Clamps `value` into [low, high]; NaN becomes `low`. */
export function clamp(value: number, low: number, high: number): number {
  return value > low ? (value < high ? value : high) : low
}
