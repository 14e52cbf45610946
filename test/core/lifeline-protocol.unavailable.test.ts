import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLifeline, lifelineProtocol, type LifelineClient, type LifelineProtocol } from '../../src/core'
import { createFakeWebSocket, type FakeSocket } from '../../src/testing/fakes'

const fake = createFakeWebSocket()

function setup(): { client: LifelineClient; protocol: LifelineProtocol; socket: FakeSocket; failed: string[] } {
  const protocol = lifelineProtocol()
  const client = createLifeline({
    url: 'wss://example.com/live',
    protocol,
    minDelayMs: 500,
    maxDelayMs: 8000,
    heartbeat: false,
    environment: { WebSocket: fake.WebSocket, location: undefined, random: () => 0.5 },
  })
  const failed: string[] = []
  client.on('messageFailed', ({ item }) => failed.push(item.id))
  const socket = fake.sockets.at(-1)!
  socket.serverOpen()
  socket.serverMessage({ type: 'welcome', session: 's-1', resumed: false, heartbeatMs: 25_000 })
  return { client, protocol, socket, failed }
}

const pubIds = (socket: FakeSocket): string[] =>
  socket
    .frames()
    .filter((frame): frame is { type: 'pub'; id: string } => (frame as { type?: string }).type === 'pub')
    .map((frame) => frame.id)

describe('nack UNAVAILABLE: kept in the outbox and resent with backoff', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
    fake.reset()
  })

  it('requeues the refused items, holds the whole outbox for a backoff delay, then resends them in order', () => {
    const { client, protocol, socket, failed } = setup()
    const first = protocol.publish('orders', { n: 1 })
    const second = protocol.publish('orders', { n: 2 })
    expect(pubIds(socket)).toEqual([first, second])
    socket.serverMessage({ type: 'nack', id: first, code: 'UNAVAILABLE', reason: 'broker unavailable' })
    socket.serverMessage({ type: 'nack', id: second, code: 'UNAVAILABLE', reason: 'broker unavailable' })
    expect(client.outbox.items().map((item) => [item.id, item.state])).toEqual([
      [first, 'queued'],
      [second, 'queued'],
    ])
    // A new message waits behind them: nothing is written during the pause.
    const third = protocol.publish('orders', { n: 3 })
    vi.advanceTimersByTime(499)
    expect(pubIds(socket)).toEqual([first, second])
    // attempt 1, random 0.5: 500 + 0.5 · (1000 − 500) = 750 ms.
    vi.advanceTimersByTime(251)
    expect(pubIds(socket)).toEqual([first, second, first, second, third])
    // Refused again: the pause grows (attempt 2: 500 + 0.5 · 1500 = 1250 ms).
    socket.serverMessage({ type: 'nack', id: first, code: 'UNAVAILABLE', reason: 'broker unavailable' })
    vi.advanceTimersByTime(1249)
    expect(pubIds(socket)).toHaveLength(5)
    vi.advanceTimersByTime(1)
    expect(pubIds(socket)).toEqual([first, second, first, second, third, first])
    for (const id of [first, second, third]) socket.serverMessage({ type: 'ack', id })
    expect(client.outbox.items()).toEqual([])
    expect(failed).toEqual([])
    client.dispose()
    expect(client.resources().timers).toBe(0)
  })

  it('any other code still fails the item (never resent)', () => {
    const { client, protocol, socket, failed } = setup()
    const id = protocol.publish('orders', { n: 1 })
    socket.serverMessage({ type: 'nack', id, code: 'SERVER_ERROR', reason: 'publish failed' })
    expect(client.outbox.items()[0]).toMatchObject({ id, state: 'failed' })
    expect(failed).toEqual([id])
    vi.advanceTimersByTime(10_000)
    expect(pubIds(socket)).toEqual([id])
    client.dispose()
  })
})
