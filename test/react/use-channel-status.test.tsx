// @vitest-environment jsdom
import { Profiler } from 'react'
import { act, cleanup, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLifeline, lifelineProtocol, type LifelineClient } from '../../src/core'
import { createFakeWebSocket, type FakeSocket } from '../../src/testing/fakes'
import { inProvider } from './support'
import { useChannel } from '../../src/react'

/** The sockets the client opens, driven by hand. */
const fake = createFakeWebSocket()
const sockets = fake.sockets

function createClient(): LifelineClient {
  return createLifeline({
    url: 'wss://example.com/live',
    protocol: lifelineProtocol(),
    environment: { WebSocket: fake.WebSocket, location: undefined, random: () => 0.5 },
    minDelayMs: 1000,
    maxDelayMs: 1000,
  })
}

/** Opens the client's newest socket and answers hello. */
function open(): FakeSocket {
  const socket = sockets.at(-1)!
  act(() => socket.serverWelcome())
  return socket
}
const nextFrame = () => act(() => vi.advanceTimersByTime(16))
const status = () => screen.getByTestId('status').textContent
let commits = 0

function Room() {
  const channel = useChannel('room')
  return (
    <Profiler id="room" onRender={() => commits++}>
      <span data-testid="status">{channel.status}</span>
      <span data-testid="resumed">{String(channel.resumed)}</span>
    </Profiler>
  )
}

function mount(client: LifelineClient) {
  render(inProvider(client, <Room />))
}

beforeEach(() => {
  vi.useFakeTimers()
  fake.reset()
  commits = 0
})
afterEach(() => {
  cleanup()
  vi.useRealTimers()
})

describe('useChannel status while the connection is down', () => {
  it('is resubscribing, not subscribed, from the drop until the server confirms again on the new connection', () => {
    const client = createClient()
    let socket = open()
    mount(client)
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    nextFrame()
    expect(status()).toBe('subscribed')

    act(() => socket.onclose?.({ code: 1006, reason: '', wasClean: false }))
    nextFrame()
    expect(client.getSnapshot().status).toBe('reconnecting')
    expect(status()).toBe('resubscribing')

    // Further changes of the connection that keep it down cost no render.
    const before = commits
    act(() => vi.advanceTimersByTime(1000))
    expect(client.getSnapshot().status).toBe('connecting')
    nextFrame()
    expect(commits).toBe(before)

    socket = open()
    nextFrame()
    expect(client.getSnapshot().status).toBe('open')
    expect(status()).toBe('resubscribing')
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: true, epoch: 'e1', seq: 0 }))
    nextFrame()
    expect(status()).toBe('subscribed')
    expect(screen.getByTestId('resumed').textContent).toBe('true')
    client.dispose()
  })

  it('stays pending (never subscribed yet) while the first connection is not open', () => {
    const client = createClient()
    mount(client)
    nextFrame()
    expect(status()).toBe('pending')
    act(() => sockets.at(-1)!.onclose?.({ code: 1006, reason: '', wasClean: false }))
    nextFrame()
    expect(status()).toBe('pending')
    client.dispose()
  })

  it('keeps error (a refusal) while the connection is down', () => {
    const client = createClient()
    const socket = open()
    mount(client)
    act(() => socket.serverMessage({ type: 'error', ch: 'room', code: 'FORBIDDEN', message: 'no' }))
    nextFrame()
    expect(status()).toBe('error')
    act(() => socket.onclose?.({ code: 1006, reason: '', wasClean: false }))
    nextFrame()
    expect(status()).toBe('error')
    client.dispose()
  })
})
