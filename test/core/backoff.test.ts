import { describe, expect, it } from 'vitest'
import {
  computeBackoff,
  decorrelatedJitter,
  fullJitter,
  spreadDelay,
  type BackoffContext,
  type BackoffFn,
} from '../../src/core'

const MIN = 500
const MAX = 30_000
const SAMPLES = 10_000

function context(attempt: number, random: () => number = Math.random, previousDelayMs = MIN): BackoffContext {
  return { attempt, minDelayMs: MIN, maxDelayMs: MAX, previousDelayMs, random }
}

/** Mulberry32: a tiny seeded PRNG, so a run can be replayed exactly. */
function seeded(seed: number): () => number {
  let value = seed >>> 0
  return () => {
    value = (value + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(value ^ (value >>> 15), 1 | value)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

/** A random source that replays the given numbers in order. */
function sequence(...values: number[]): () => number {
  let index = 0
  return () => values[index++ % values.length]!
}

const capOf = (attempt: number) => Math.min(MAX, MIN * 2 ** attempt)
const attempts = [1, 2, 3, 4, 5, 6, 7, 8]

describe('fullJitter (R1: 10 000 samples per attempt)', () => {
  const samplesOf = (attempt: number) =>
    Array.from({ length: SAMPLES }, () => computeBackoff('full-jitter', context(attempt)))

  it.each(attempts)('keeps every delay of attempt %i within [min, min(max, min·2^attempt)]', (attempt) => {
    const cap = capOf(attempt)
    const samples = samplesOf(attempt)
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(MIN)
    expect(Math.max(...samples)).toBeLessThanOrEqual(cap)
  })

  it.each(attempts)('centres attempt %i within 3 % of (min + cap) / 2', (attempt) => {
    const cap = capOf(attempt)
    const mean = samplesOf(attempt).reduce((sum, delay) => sum + delay, 0) / SAMPLES
    const expected = (MIN + cap) / 2
    expect(Math.abs(mean - expected) / expected).toBeLessThan(0.03)
  })

  it.each(attempts)('spreads attempt %i flat over 10 buckets within 20 % (no spike at the floor)', (attempt) => {
    const cap = capOf(attempt)
    const buckets = new Array<number>(10).fill(0)
    for (const delay of samplesOf(attempt)) {
      const index = Math.min(9, Math.floor(((delay - MIN) / (cap - MIN)) * 10))
      buckets[index]!++
    }
    for (const count of buckets) {
      expect(Math.abs(count - SAMPLES / 10) / (SAMPLES / 10)).toBeLessThan(0.2)
    }
  })

  it.each([
    [1, 0, 500],
    [1, 0.5, 750],
    [1, 0.25, 625],
    [3, 0.25, 1375],
    [5, 0.75, 12_125],
    [6, 0.5, 15_250],
    [8, 0.1, 3450],
    [60, 0.5, 15_250],
    [0, 0.9, 500],
  ])('gives attempt %i with random %d exactly %d ms', (attempt, random, expected) => {
    expect(
      computeBackoff(
        'full-jitter',
        context(attempt, () => random),
      ),
    ).toBeCloseTo(expected, 9)
  })

  it('replays the same schedule from the same seed', () => {
    const schedule = (seed: number) =>
      attempts.map((attempt) => computeBackoff('full-jitter', context(attempt, seeded(seed))))
    expect(schedule(42)).toEqual(schedule(42))
    expect(schedule(42)).not.toEqual(schedule(43))
    const random = seeded(7)
    const expected = attempts.map((attempt) => {
      const draw = seeded(7)
      for (let skip = 1; skip < attempt; skip++) draw()
      return MIN + draw() * (capOf(attempt) - MIN)
    })
    expect(attempts.map((attempt) => fullJitter(context(attempt, random)))).toEqual(expected)
  })

  it('is the default strategy of computeBackoff by name', () => {
    expect(
      computeBackoff(
        'full-jitter',
        context(4, () => 0.5),
      ),
    ).toBe(fullJitter(context(4, () => 0.5)))
  })
})

describe('decorrelatedJitter', () => {
  it('keeps a 10 000-step chain within [min, min(max, max(min, previous·3))]', () => {
    let previous = MIN
    for (let step = 0; step < SAMPLES; step++) {
      const delay = computeBackoff('decorrelated', context(step + 1, Math.random, previous))
      expect(delay).toBeGreaterThanOrEqual(MIN)
      expect(delay).toBeLessThanOrEqual(Math.min(MAX, Math.max(MIN, previous * 3)))
      previous = delay
    }
  })

  it.each([
    [500, 0, 500],
    [500, 0.5, 1000],
    [2000, 0.5, 3250],
    [20_000, 0.9, 30_000],
    [100, 0.5, 500],
  ])('from previous %i with random %d gives %i', (previous, random, expected) => {
    expect(decorrelatedJitter(context(1, () => random, previous))).toBeCloseTo(expected, 9)
  })

  it('grows across a chain and reaches the cap', () => {
    const random = sequence(0.9)
    let previous = MIN
    const chain: number[] = []
    for (let step = 0; step < 8; step++)
      chain.push((previous = computeBackoff('decorrelated', context(step + 1, random, previous))))
    expect(chain).toEqual([...chain].sort((a, b) => a - b))
    expect(chain.at(-1)).toBe(MAX)
  })
})

describe('computeBackoff with a custom function', () => {
  it.each([
    ['NaN', Number.NaN, MIN],
    ['a negative number', -100, MIN],
    ['zero', 0, MIN],
    ['Infinity', Infinity, MAX],
    ['-Infinity', -Infinity, MIN],
    ['a huge number', 1e12, MAX],
    ['a value in range', 1234, 1234],
  ])('clamps %s into [min, max]', (_, returned, expected) => {
    const fn: BackoffFn = () => returned
    expect(computeBackoff(fn, context(1))).toBe(expected)
  })

  it('hands the function the whole context', () => {
    const seen: BackoffContext[] = []
    const ctx = context(3, () => 0.5, 777)
    computeBackoff((given) => (seen.push(given), 1000), ctx)
    expect(seen).toEqual([ctx])
  })
})

describe('spreadDelay (1001/1012)', () => {
  it('is uniform over [min, min(max, 10·min)] whatever the attempt', () => {
    const samples = Array.from({ length: SAMPLES }, () => spreadDelay(context(1)))
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(MIN)
    expect(Math.max(...samples)).toBeLessThanOrEqual(10 * MIN)
    const mean = samples.reduce((sum, delay) => sum + delay, 0) / SAMPLES
    expect(Math.abs(mean - 5.5 * MIN) / (5.5 * MIN)).toBeLessThan(0.03)
    expect(spreadDelay(context(8, () => 0.5))).toBe(spreadDelay(context(1, () => 0.5)))
  })

  it('never exceeds maxDelayMs', () => {
    expect(spreadDelay({ ...context(1, () => 1), maxDelayMs: 2000 })).toBe(2000)
  })
})
