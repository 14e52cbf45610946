// @vitest-environment jsdom
import { act, cleanup, render, renderHook } from '@testing-library/react'
import { StrictMode, type ReactNode } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConnectionBanner, ReconnectCountdown, useCountdown } from '../../src/components'
import { createLifeline, type LifelineClient } from '../../src/core'
import { LifelineProvider } from '../../src/react'
import { createFakeClock, createFakeWebSocket, type FakeClock, type FakeWebSocket } from '../../src/testing/fakes'

/** The page's own clock (Date.now and the timers the countdown ticks on) runs an hour ahead of the client's. */
const HOUR = 3_600_000

const text = (part: string) => document.querySelector(`[data-lifeline="${part}"]`)?.textContent

describe("the countdowns on the client's injected clock", () => {
  let clock: FakeClock
  let fake: FakeWebSocket
  let client: LifelineClient

  beforeEach(() => {
    clock = createFakeClock()
    vi.useFakeTimers({ now: clock.now() + HOUR })
    fake = createFakeWebSocket()
    client = createLifeline({
      url: 'wss://example.test/socket',
      environment: { WebSocket: fake.WebSocket, timers: clock.timers, clock, random: () => 0.5 },
      minDelayMs: 5000,
      maxDelayMs: 5000,
    })
    client.connect()
    fake.open()
  })
  afterEach(() => {
    cleanup()
    client.dispose()
    vi.useRealTimers()
  })

  /** Both clocks move by `ms`: the client's (its timers) and the page's (the countdown's tick). */
  const advance = (ms: number) =>
    act(() => {
      clock.advance(ms)
      vi.advanceTimersByTime(ms)
    })

  it('ReconnectCountdown and the banner count down to nextRetryAt on client.now(), not Date.now()', () => {
    render(
      <StrictMode>
        <ConnectionBanner client={client} showAfterMs={0} />
        <ReconnectCountdown client={client} />
      </StrictMode>,
    )
    act(() => fake.close(1006))
    expect(client.getSnapshot().nextRetryAt).toBe(clock.now() + 5000)
    expect(text('countdown-time')).toBe('Retrying in 5 s.')
    advance(1000)
    expect(text('countdown-time')).toBe('Retrying in 4 s.')
    // A jump of the page's wall clock alone changes nothing: the client decides when it retries.
    act(() => vi.setSystemTime(Date.now() + HOUR))
    advance(1000)
    expect(text('countdown-time')).toBe('Retrying in 3 s.')
    expect((document.querySelector('[data-lifeline="countdown-progress"]') as HTMLProgressElement | null)?.value).toBe(
      2000,
    )
  })

  it("useCountdown reads the provider's client when none is given", () => {
    const wrapper = ({ children }: { children: ReactNode }) => (
      <LifelineProvider client={client}>{children}</LifelineProvider>
    )
    const { result } = renderHook(() => useCountdown(clock.now() + 2500), { wrapper })
    expect(result.current).toEqual({ remainingMs: 2500, totalMs: 2500 })
  })

  it('useCountdown reads the client it is given', () => {
    const target = clock.now() + 1500
    const { result } = renderHook(() => useCountdown(target, client))
    expect(result.current.remainingMs).toBe(1500)
    advance(1000)
    expect(result.current).toEqual({ remainingMs: 500, totalMs: 1500 })
  })
})

describe('client.now()', () => {
  it("is the wall time of the client's environment clock", () => {
    const clock = createFakeClock({ now: 1_000_000 })
    const client = createLifeline({
      url: 'wss://example.test/socket',
      autoConnect: false,
      environment: { WebSocket: createFakeWebSocket().WebSocket, timers: clock.timers, clock },
    })
    expect(client.now()).toBe(1_000_000)
    clock.advance(2500)
    expect(client.now()).toBe(1_002_500)
    client.dispose()
  })
})
