import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { heartbeatActivity, startHeartbeat, type HeartbeatHost } from '../../src/core/heartbeat'

const INTERVAL = 1000
const TIMEOUT = 300

function setup(overrides: Partial<HeartbeatHost> = {}) {
  const calls = {
    ping: vi.fn(),
    timeout: vi.fn(),
    answered: vi.fn<(latencyMs: number) => void>(),
    unmatched: vi.fn(),
  }
  const host: HeartbeatHost = {
    intervalMs: INTERVAL,
    timeoutMs: TIMEOUT,
    clock: { now: () => Date.now(), monotonic: () => Date.now() },
    later(callback, ms) {
      const handle = setTimeout(callback, ms)
      return () => clearTimeout(handle)
    },
    log: null,
    ping: calls.ping,
    timeout: calls.timeout,
    answered: calls.answered,
    unmatched: calls.unmatched,
    ...overrides,
  }
  return { host, calls }
}

describe('startHeartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('pings every intervalMs', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    vi.advanceTimersByTime(INTERVAL - 1)
    expect(calls.ping).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(calls.ping).toHaveBeenCalledOnce()
    beat.pong()
    vi.advanceTimersByTime(INTERVAL)
    expect(calls.ping).toHaveBeenCalledTimes(2)
    beat.stop()
  })

  it('times out when a ping goes unanswered for timeoutMs', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    vi.advanceTimersByTime(INTERVAL + TIMEOUT - 1)
    expect(calls.timeout).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(calls.timeout).toHaveBeenCalledOnce()
    beat.stop()
  })

  it('any frame heard cancels the pending timeout', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    vi.advanceTimersByTime(INTERVAL + 100)
    beat.heard()
    vi.advanceTimersByTime(TIMEOUT)
    expect(calls.timeout).not.toHaveBeenCalled()
    beat.stop()
  })

  it('a pong reports the round trip once, and only after a ping', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    beat.pong()
    expect(calls.answered).not.toHaveBeenCalled()
    vi.advanceTimersByTime(INTERVAL)
    vi.advanceTimersByTime(42)
    beat.pong()
    beat.pong()
    expect(calls.answered).toHaveBeenCalledOnce()
    expect(calls.answered).toHaveBeenCalledWith(42)
    beat.stop()
  })

  it('probe() pings now unless a ping is unanswered; confirm() unless one is in flight', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    beat.probe()
    beat.probe()
    expect(calls.ping).toHaveBeenCalledOnce()
    beat.confirm()
    expect(calls.ping).toHaveBeenCalledOnce()
    beat.pong()
    beat.confirm()
    expect(calls.ping).toHaveBeenCalledTimes(2)
    beat.stop()
  })

  it('stop() cancels the next ping and the pending timeout', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    beat.probe()
    beat.stop()
    vi.advanceTimersByTime(10 * INTERVAL)
    expect(calls.ping).toHaveBeenCalledOnce()
    expect(calls.timeout).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('logs a timer that fired far too late (the machine slept) and still pings', () => {
    let wall = Date.now()
    const log = vi.fn()
    const { host, calls } = setup({ log, clock: { now: () => wall, monotonic: () => wall } })
    const beat = startHeartbeat(host)
    wall += 60_000
    vi.advanceTimersByTime(INTERVAL)
    expect(log).toHaveBeenCalledWith('debug', expect.stringContaining('timer drift'))
    expect(calls.ping).toHaveBeenCalledOnce()
    beat.stop()
  })
})

describe('heartbeatActivity', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('exposes the running heartbeat between start and cleanup', () => {
    const { host, calls } = setup()
    const activity = heartbeatActivity(host)
    expect(activity.current).toBeNull()
    const cleanup = activity.start({} as never)
    expect(activity.current).not.toBeNull()
    cleanup?.()
    expect(activity.current).toBeNull()
    vi.advanceTimersByTime(10 * INTERVAL)
    expect(calls.ping).not.toHaveBeenCalled()
  })

  it('reports unmatched when a ping is still unanswered at the next tick while frames were heard', () => {
    const { host, calls } = setup()
    const beat = startHeartbeat(host)
    vi.advanceTimersByTime(INTERVAL)
    beat.heard()
    expect(calls.unmatched).not.toHaveBeenCalled()
    vi.advanceTimersByTime(INTERVAL)
    expect(calls.unmatched).toHaveBeenCalledTimes(1)
    expect(calls.timeout).not.toHaveBeenCalled()
    beat.pong()
    vi.advanceTimersByTime(INTERVAL)
    expect(calls.unmatched).toHaveBeenCalledTimes(1)
    beat.stop()
  })
})
