import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createChannelRegistry,
  type ChannelGap,
  type ChannelListener,
  type ChannelRegistry,
  type ChannelStatus,
  type StreamPosition,
} from '../../src/core'

/** What the registry asked the connection to write, in order. */
type Frame = { type: 'sub'; ch: string; since: StreamPosition | null } | { type: 'unsub'; ch: string }

interface Setup {
  registry: ChannelRegistry
  frames: Frame[]
}

function setup(lingerMs?: number): Setup {
  const frames: Frame[] = []
  const registry = createChannelRegistry(
    {
      sub: (ch, since) => frames.push({ type: 'sub', ch, since: since && { ...since } }),
      unsub: (ch) => frames.push({ type: 'unsub', ch }),
      later(callback, ms) {
        const handle = setTimeout(callback, ms)
        return () => clearTimeout(handle)
      },
      now: () => Date.now(),
    },
    lingerMs === undefined ? {} : { lingerMs },
  )
  return { registry, frames }
}

/** One listener that records every callback as a line, so order across kinds is visible. */
function recorder(): ChannelListener & { log: string[]; gaps: ChannelGap[]; statuses: ChannelStatus[] } {
  const log: string[] = []
  const gaps: ChannelGap[] = []
  const statuses: ChannelStatus[] = []
  return {
    log,
    gaps,
    statuses,
    message: (message) => log.push(`msg ${message.epoch}:${message.seq} ${String(message.data)}`),
    gap(gap) {
      gaps.push(gap)
      log.push(`gap ${gap.reason}`)
    },
    status(status) {
      statuses.push(status)
      log.push(`status ${status.state}`)
    },
  }
}

/** Delivers `subscribed` plus seqs from..to of an epoch. */
function stream(registry: ChannelRegistry, ch: string, epoch: string, from: number, to: number): boolean[] {
  const results: boolean[] = []
  for (let seq = from; seq <= to; seq++) results.push(registry.message(ch, epoch, seq, `d${seq}`))
  return results
}

const subs = (frames: Frame[]) => frames.filter((frame) => frame.type === 'sub')
const unsubs = (frames: Frame[]) => frames.filter((frame) => frame.type === 'unsub')

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('channel registry: join and leave', () => {
  it('subscribes once for many listeners and unsubscribes only after the last leaves and lingerMs passes', () => {
    const { registry, frames } = setup(1000)
    const leaveA = registry.join('room', {})
    const leaveB = registry.join('room', {})
    expect(frames).toEqual([{ type: 'sub', ch: 'room', since: null }])
    expect(registry.size()).toBe(2)
    leaveA()
    vi.advanceTimersByTime(5000)
    expect(unsubs(frames)).toEqual([])
    expect(registry.size()).toBe(1)
    leaveB()
    expect(registry.size()).toBe(0)
    expect(registry.names()).toEqual(['room'])
    vi.advanceTimersByTime(999)
    expect(unsubs(frames)).toEqual([])
    vi.advanceTimersByTime(1)
    expect(unsubs(frames)).toEqual([{ type: 'unsub', ch: 'room' }])
    expect(registry.names()).toEqual([])
  })

  it('uses a 1000 ms linger by default', () => {
    const { registry, frames } = setup()
    registry.join('room', {})()
    vi.advanceTimersByTime(999)
    expect(unsubs(frames)).toEqual([])
    vi.advanceTimersByTime(1)
    expect(unsubs(frames)).toHaveLength(1)
  })

  it('keeps the subscription when a listener joins again within the linger (a remount)', () => {
    const { registry, frames } = setup(1000)
    registry.join('room', {})()
    vi.advanceTimersByTime(500)
    const leave = registry.join('room', {})
    vi.advanceTimersByTime(10_000)
    expect(frames).toEqual([{ type: 'sub', ch: 'room', since: null }])
    leave()
    vi.advanceTimersByTime(1000)
    expect(unsubs(frames)).toHaveLength(1)
  })

  it('restarts the linger from the last leave after a rejoin (the earlier timer is cancelled)', () => {
    const { registry, frames } = setup(1000)
    registry.join('room', {})()
    vi.advanceTimersByTime(500)
    const leave = registry.join('room', {})
    vi.advanceTimersByTime(100)
    leave()
    vi.advanceTimersByTime(999)
    expect(unsubs(frames)).toEqual([])
    vi.advanceTimersByTime(1)
    expect(unsubs(frames)).toHaveLength(1)
  })

  it('makes leave idempotent: a second call does not remove another listener', () => {
    const { registry, frames } = setup(10)
    const leaveA = registry.join('room', {})
    registry.join('room', {})
    leaveA()
    leaveA()
    expect(registry.size()).toBe(1)
    vi.advanceTimersByTime(100)
    expect(unsubs(frames)).toEqual([])
  })

  it('forgets the position after the channel was unsubscribed: the next join subscribes fresh', () => {
    const { registry, frames } = setup(10)
    const listener = recorder()
    registry.join('room', listener)()
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 3)
    vi.advanceTimersByTime(10)
    // Frames for a channel no longer held are dropped.
    expect(registry.message('room', 'e1', 4, 'late')).toBe(false)
    registry.join('room', {})
    expect(subs(frames)).toEqual([
      { type: 'sub', ch: 'room', since: null },
      { type: 'sub', ch: 'room', since: null },
    ])
  })

  it('tells a listener joining a held channel where the subscription stands', () => {
    const { registry } = setup()
    registry.join('room', {})
    registry.subscribed('room', false, 'e1', 0)
    const late = recorder()
    registry.join('room', late)
    expect(late.statuses.at(-1)).toEqual({ state: 'subscribed', resumed: null, error: null })
  })
})

describe('channel registry: resubscribe and duplicates', () => {
  it('resubscribes every channel with since = the last delivered position, and without since when none', () => {
    const { registry, frames } = setup()
    const room = recorder()
    registry.join('room', room)
    registry.join('empty', {})
    registry.subscribed('room', false, 'e1', 4)
    stream(registry, 'room', 'e1', 5, 7)
    frames.length = 0
    registry.resubscribeAll()
    expect(frames).toEqual([
      { type: 'sub', ch: 'room', since: { epoch: 'e1', seq: 7 } },
      { type: 'sub', ch: 'empty', since: null },
    ])
    expect(room.statuses.at(-1)).toEqual({ state: 'pending', resumed: null, error: null })
  })

  it('drops duplicates (same epoch, seq ≤ last delivered) and returns false for them', () => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    expect(stream(registry, 'room', 'e1', 1, 3)).toEqual([true, true, true])
    expect(registry.message('room', 'e1', 3, 'again')).toBe(false)
    expect(registry.message('room', 'e1', 1, 'again')).toBe(false)
    expect(registry.message('room', 'e1', 0, 'again')).toBe(false)
    expect(registry.message('room', 'e1', 4, 'd4')).toBe(true)
    expect(listener.log.filter((line) => line.startsWith('msg'))).toEqual([
      'msg e1:1 d1',
      'msg e1:2 d2',
      'msg e1:3 d3',
      'msg e1:4 d4',
    ])
    expect(listener.gaps).toEqual([])
  })

  it('delivers a replay after a resubscribe without duplicates and reports no gap when resumed', () => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 2)
    registry.resubscribeAll()
    // The server replays from 1 (overlap) to 5, then confirms.
    expect(stream(registry, 'room', 'e1', 1, 5)).toEqual([false, false, true, true, true])
    registry.subscribed('room', true, 'e1', 5)
    expect(registry.message('room', 'e1', 6, 'd6')).toBe(true)
    expect(listener.gaps).toEqual([])
    expect(listener.statuses.at(-1)).toEqual({ state: 'subscribed', resumed: true, error: null })
    expect(listener.log.filter((line) => line.startsWith('msg')).map((line) => line.split(' ')[1])).toEqual([
      'e1:1',
      'e1:2',
      'e1:3',
      'e1:4',
      'e1:5',
      'e1:6',
    ])
  })
})

describe('channel registry: gaps', () => {
  /** Each scenario starts subscribed at e1:3 (messages 1..3 delivered) and ends with one live message. */
  const scenarios: {
    reason: ChannelGap['reason']
    run: (registry: ChannelRegistry) => void
    to: StreamPosition
    /** Where the stream goes on afterwards. */
    then: StreamPosition
  }[] = [
    {
      reason: 'not-resumed',
      run(registry) {
        registry.resubscribeAll()
        registry.subscribed('room', false, 'e1', 50)
        registry.message('room', 'e1', 51, 'next')
      },
      to: { epoch: 'e1', seq: 50 },
      then: { epoch: 'e1', seq: 52 },
    },
    {
      reason: 'epoch-changed',
      run(registry) {
        registry.message('room', 'e2', 1, 'next')
      },
      to: { epoch: 'e2', seq: 1 },
      then: { epoch: 'e2', seq: 2 },
    },
    {
      reason: 'seq-skipped',
      run(registry) {
        registry.message('room', 'e1', 7, 'next')
      },
      to: { epoch: 'e1', seq: 7 },
      then: { epoch: 'e1', seq: 8 },
    },
    {
      reason: 'session-expired',
      run(registry) {
        registry.expire()
        registry.resubscribeAll()
        registry.subscribed('room', false, 'e1', 50)
        registry.message('room', 'e1', 51, 'next')
      },
      to: { epoch: 'e1', seq: 50 },
      then: { epoch: 'e1', seq: 52 },
    },
  ]

  it.each(scenarios)('reports $reason exactly once, before the next message', ({ reason, run, to, then }) => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 3)
    listener.log.length = 0
    run(registry)
    expect(listener.gaps).toEqual([{ channel: 'room', reason, from: { epoch: 'e1', seq: 3 }, to }])
    const gapAt = listener.log.indexOf(`gap ${reason}`)
    const nextAt = listener.log.findIndex((line) => line.endsWith(' next'))
    expect(gapAt).toBeGreaterThanOrEqual(0)
    expect(nextAt).toBeGreaterThan(gapAt)
    // The stream goes on from there without another report.
    expect(registry.message('room', then.epoch, then.seq, 'more')).toBe(true)
    registry.resubscribeAll()
    registry.subscribed('room', true, then.epoch, then.seq)
    expect(listener.gaps).toHaveLength(1)
  })

  it('reports the gap to every listener of the channel', () => {
    const { registry } = setup()
    const first = recorder()
    const second = recorder()
    registry.join('room', first)
    registry.join('room', second)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 1)
    registry.message('room', 'e1', 3, 'skip')
    expect(first.gaps).toHaveLength(1)
    expect(second.gaps).toHaveLength(1)
  })

  it('reports no gap for a subscribe without since, even though the server answers resumed: false', () => {
    const { registry, frames } = setup()
    const listener = recorder()
    registry.join('room', listener)
    expect(frames).toEqual([{ type: 'sub', ch: 'room', since: null }])
    registry.subscribed('room', false, 'e1', 99)
    stream(registry, 'room', 'e1', 100, 102)
    expect(listener.gaps).toEqual([])
    expect(listener.statuses.at(-1)).toEqual({ state: 'subscribed', resumed: null, error: null })
  })

  it('reports no gap on a reconnect before anything was delivered or confirmed', () => {
    const { registry, frames } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.resubscribeAll()
    expect(subs(frames).at(-1)).toEqual({ type: 'sub', ch: 'room', since: null })
    registry.subscribed('room', false, 'e1', 10)
    expect(listener.gaps).toEqual([])
  })

  it('reports an unsolicited subscribed{resumed: false} as a gap and continues from the announced head', () => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 2)
    registry.subscribed('room', false, 'e9', 40)
    expect(listener.gaps).toEqual([
      { channel: 'room', reason: 'epoch-changed', from: { epoch: 'e1', seq: 2 }, to: { epoch: 'e9', seq: 40 } },
    ])
    // Messages at or before the announced head are not delivered; the next one is, without another gap.
    expect(registry.message('room', 'e9', 40, 'old')).toBe(false)
    expect(registry.message('room', 'e9', 41, 'new')).toBe(true)
    expect(listener.gaps).toHaveLength(1)
  })

  it.each([
    ['in the same epoch (too old to replay)', 'e1', 'not-resumed'],
    ['in another epoch (the server lost the history: a restart)', 'e2', 'epoch-changed'],
  ])('names a resubscribe answered without a replay %s %s', (_name, epoch, reason) => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 3)
    registry.resubscribeAll()
    registry.subscribed('room', false, epoch, 0)
    expect(listener.gaps.map((gap) => gap.reason)).toEqual([reason])
  })

  it('reports a not-resumed gap with resumed: false in the status', () => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 1)
    registry.resubscribeAll()
    registry.subscribed('room', false, 'e2', 0)
    expect(listener.statuses.at(-1)).toEqual({ state: 'subscribed', resumed: false, error: null })
  })

  it('reports session-expired once, from the position before the expiry, and resubscribes without since', () => {
    const { registry, frames } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.subscribed('room', false, 'e1', 0)
    stream(registry, 'room', 'e1', 1, 4)
    registry.expire()
    // Nothing is reported before the channel is confirmed again.
    expect(listener.gaps).toEqual([])
    // A second expiry before the resubscribe (another 4003) must not lose or repeat the report.
    registry.expire()
    frames.length = 0
    registry.resubscribeAll()
    expect(frames).toEqual([{ type: 'sub', ch: 'room', since: null }])
    registry.subscribed('room', false, 'e1', 9)
    expect(listener.gaps).toEqual([
      { channel: 'room', reason: 'session-expired', from: { epoch: 'e1', seq: 4 }, to: { epoch: 'e1', seq: 9 } },
    ])
    registry.resubscribeAll()
    registry.subscribed('room', true, 'e1', 9)
    expect(listener.gaps).toHaveLength(1)
  })

  it('reports no session-expired gap for a channel that had no position', () => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    registry.expire()
    registry.resubscribeAll()
    registry.subscribed('room', false, 'e1', 9)
    expect(listener.gaps).toEqual([])
  })
})

describe('channel registry: status', () => {
  it('goes pending → subscribed, and error with the code when refused', () => {
    const { registry } = setup()
    const listener = recorder()
    registry.join('room', listener)
    expect(listener.statuses).toEqual([{ state: 'pending', resumed: null, error: null }])
    registry.subscribed('room', false, 'e1', 0)
    registry.refused('room', 'FORBIDDEN')
    expect(listener.statuses.at(-1)).toEqual({ state: 'error', resumed: null, error: 'FORBIDDEN' })
    // A refusal is not a gap.
    expect(listener.gaps).toEqual([])
  })

  it('ignores frames about channels it does not hold', () => {
    const { registry } = setup()
    expect(() => {
      registry.subscribed('nope', false, 'e1', 1)
      registry.refused('nope', 'FORBIDDEN')
    }).not.toThrow()
    expect(registry.message('nope', 'e1', 1, 'x')).toBe(false)
    expect(registry.names()).toEqual([])
  })
})

describe('channel registry: names', () => {
  it.each(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'])(
    'holds a channel named %s like any other, without touching Object.prototype',
    (name) => {
      const { registry, frames } = setup(10)
      // Not joined yet: nothing inherited is mistaken for a channel.
      expect(registry.message(name, 'e1', 1, 'x')).toBe(false)
      expect(() => registry.subscribed(name, false, 'e1', 0)).not.toThrow()
      const listener = recorder()
      const leave = registry.join(name, listener)
      registry.subscribed(name, false, 'e1', 0)
      expect(registry.message(name, 'e1', 1, 'x')).toBe(true)
      expect(listener.log).toContain('msg e1:1 x')
      expect(registry.names()).toEqual([name])
      expect(registry.size()).toBe(1)
      leave()
      vi.advanceTimersByTime(10)
      expect(frames).toEqual([
        { type: 'sub', ch: name, since: null },
        { type: 'unsub', ch: name },
      ])
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('epoch')
      expect(({} as Record<string, unknown>).listeners).toBeUndefined()
    },
  )
})
