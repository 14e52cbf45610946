// @vitest-environment jsdom
import { act, cleanup, render } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConnectionBanner } from '../../src/components'
import { createLifeline, type LifelineClient } from '../../src/core'
import {
  createFakeClock,
  createFakeWebSocket,
  FakeClockError,
  FakeWebSocketError,
  type FakeClock,
  type FakeWebSocket,
} from '../../src/testing/fakes'

const message = () => document.querySelector('[data-lifeline="banner-message"]')?.textContent
const banner = () => document.querySelector('[data-lifeline="banner"]')?.getAttribute('data-state')

describe('a component test on the fakes: the banner appears after an outage', () => {
  let clock: FakeClock
  let fake: FakeWebSocket
  let client: LifelineClient
  let uninstall: () => void

  beforeEach(() => {
    clock = createFakeClock()
    uninstall = clock.install()
    fake = createFakeWebSocket()
    client = createLifeline({
      url: 'wss://example.test/socket',
      environment: { WebSocket: fake.WebSocket, timers: clock.timers, clock, random: () => 0.5 },
      minDelayMs: 5000,
      maxDelayMs: 5000,
    })
  })
  afterEach(() => {
    try {
      cleanup()
      client.dispose()
    } finally {
      uninstall()
    }
  })

  it('stays hidden for showAfterMs after the drop, then says the connection was lost', () => {
    client.connect()
    fake.open()
    render(<ConnectionBanner client={client} showAfterMs={2000} />)
    expect(banner()).toBe('hidden')

    act(() => fake.close(1006))
    expect(client.getSnapshot().status).toBe('reconnecting')
    act(() => void clock.advance(1999))
    expect(banner()).toBe('hidden')
    expect(message()).toBeUndefined()

    act(() => void clock.advance(1))
    expect(banner()).toBe('reconnecting')
    expect(message()).toBe('Connection lost. Reconnecting…')
  })

  it('never shows for a blip shorter than showAfterMs, and the retry runs on the fake clock', () => {
    client.connect()
    fake.open()
    render(<ConnectionBanner client={client} showAfterMs={10_000} />)
    act(() => fake.close(1006))
    expect(fake.sockets).toHaveLength(1)
    act(() => void clock.advance(5000))
    expect(fake.sockets).toHaveLength(2)
    act(() => fake.open())
    expect(client.getSnapshot().status).toBe('open')
    act(() => void clock.advance(20_000))
    expect(banner()).toBe('hidden')
  })
})

describe('createFakeWebSocket', () => {
  it('records what the client sends, parsed by frames(), and what it closes with', () => {
    const fake = createFakeWebSocket()
    const client = createLifeline({ url: 'wss://example.test/a', environment: { WebSocket: fake.WebSocket } })
    client.connect()
    expect(fake.last().url).toBe('wss://example.test/a')
    expect(fake.live()).toHaveLength(1)
    client.send(JSON.stringify({ hello: 1 }))
    expect(fake.sent()).toEqual([])
    fake.open()
    expect(fake.sent()).toEqual(['{"hello":1}'])
    expect(fake.last().frames()).toEqual([{ hello: 1 }])
    client.dispose()
    expect(fake.last().closeCalls).toHaveLength(1)
    expect(fake.last().readyState).toBe(2)
  })

  it('delivers server messages: text as it is, objects as JSON', () => {
    const fake = createFakeWebSocket()
    const client = createLifeline({ url: 'wss://example.test/a', environment: { WebSocket: fake.WebSocket } })
    const seen: unknown[] = []
    client.on('message', ({ data }) => seen.push(data))
    client.connect()
    fake.open()
    fake.message('plain')
    fake.message({ n: 1 })
    expect(seen).toEqual(['plain', '{"n":1}'])
    client.dispose()
  })

  it('error() fires onerror then a 1006 close, and the client reconnects on its own timers', () => {
    const clock = createFakeClock()
    const fake = createFakeWebSocket()
    const client = createLifeline({
      url: 'wss://example.test/a',
      environment: { WebSocket: fake.WebSocket, timers: clock.timers, clock, random: () => 0.5 },
      minDelayMs: 1000,
      maxDelayMs: 1000,
    })
    const events: string[] = []
    client.connect()
    const first = fake.last()
    const { onerror, onclose } = first
    first.onerror = (event) => (events.push('error'), onerror?.(event))
    first.onclose = (event) => (events.push(`close ${String(event.code)} ${String(event.wasClean)}`), onclose?.(event))
    fake.error()
    expect(events).toEqual(['error', 'close 1006 false'])
    expect(client.getSnapshot().status).toBe('reconnecting')
    clock.advance(999)
    expect(fake.sockets).toHaveLength(1)
    clock.advance(1)
    expect(fake.sockets).toHaveLength(2)
    client.dispose()
  })

  it('throws stable codes when driven in an order no server could produce', () => {
    const fake = createFakeWebSocket()
    expect(() => fake.open()).toThrow(expect.objectContaining({ code: 'NO_SOCKET' }) as Error)
    const socket = new fake.WebSocket('wss://example.test/a')
    expect(() => socket.send('early')).toThrow(FakeWebSocketError)
    expect(() => fake.message('early')).toThrow(expect.objectContaining({ code: 'NOT_OPEN' }) as Error)
    fake.open()
    expect(() => fake.open()).toThrow(expect.objectContaining({ code: 'NOT_CONNECTING' }) as Error)
    fake.close(1000)
    expect(() => fake.close(1000)).toThrow(expect.objectContaining({ code: 'CLOSED' }) as Error)
    fake.reset()
    expect(fake.sockets).toEqual([])
  })
})

describe('createFakeClock', () => {
  it('runs timers in due order, each at its own time, and only when advanced', () => {
    const clock = createFakeClock({ now: 1000 })
    const ran: string[] = []
    clock.timers.setTimeout(() => ran.push(`b@${String(clock.monotonic())}`), 20)
    clock.timers.setTimeout(() => {
      ran.push(`a@${String(clock.monotonic())}`)
      clock.timers.setTimeout(() => ran.push(`c@${String(clock.monotonic())}`), 5)
    }, 10)
    const cancelled = clock.timers.setTimeout(() => ran.push('never'), 15)
    clock.timers.clearTimeout(cancelled)
    expect(clock.advance(9)).toBe(0)
    expect(clock.advance(11)).toBe(3)
    expect(ran).toEqual(['a@10', 'c@15', 'b@20'])
    expect(clock.now()).toBe(1020)
    expect(clock.pending()).toBe(0)
    expect(() => clock.advance(-1)).toThrow(FakeClockError)
  })

  it('runAll() empties the queue, and stops a timer that always schedules another', () => {
    const clock = createFakeClock()
    clock.timers.setTimeout(() => undefined, 60_000)
    expect(clock.runAll()).toBe(1)
    expect(clock.monotonic()).toBe(60_000)
    const forever = () => void clock.timers.setTimeout(forever, 1)
    forever()
    expect(() => clock.runAll({ maxTimers: 50 })).toThrow(expect.objectContaining({ code: 'TOO_MANY_TIMERS' }) as Error)
  })

  it('install() takes over the page timers and Date.now until uninstalled, one clock at a time', async () => {
    const realSetTimeout = globalThis.setTimeout
    const realNow = Date.now
    let realFired = false
    const real = setTimeout(() => (realFired = true), 0)
    const clock = createFakeClock({ now: 5000 })
    const uninstall = clock.install()
    clearTimeout(real)
    expect(() => createFakeClock().install()).toThrow(expect.objectContaining({ code: 'ALREADY_INSTALLED' }) as Error)
    let ticks = 0
    const interval = setInterval(() => (ticks += 1), 100)
    setTimeout(() => clearInterval(interval), 350)
    clock.advance(1000)
    expect(ticks).toBe(3)
    expect(Date.now()).toBe(6000)
    uninstall()
    expect(globalThis.setTimeout).toBe(realSetTimeout)
    expect(Date.now).toBe(realNow)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(realFired).toBe(false)
  })
})
