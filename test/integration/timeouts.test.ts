import { describe, expect, it } from 'vitest'
import { useHarness, waitFor, waitForStatus } from './helpers'

const h = useHarness()

const CLOSED = 3

describe('connect and close timeouts (integration)', () => {
  it('R7 an upgrade that is never answered is terminated after connectTimeoutMs with CONNECT_TIMEOUT, retried, and leaves no zombie socket', async () => {
    const connectTimeoutMs = 300
    await h.start()
    const proxy = await h.proxy()
    proxy.blackhole()
    const { client, tracker, history } = h.client({ url: proxy.url, connectTimeoutMs, minDelayMs: 50, maxDelayMs: 100 })

    await waitFor(() => tracker.attempts.length >= 3, 3 * (connectTimeoutMs + 100) + 500, '3 attempts')
    // Each abandoned attempt is terminated, not left to linger in CONNECTING.
    const earlier = tracker.sockets.slice(0, -1)
    await waitFor(() => earlier.every((socket) => socket.readyState === CLOSED), 200, 'earlier sockets CLOSED')
    expect(tracker.live()).toBe(1)

    const timeouts = history.filter(({ snapshot }) => snapshot.status === 'reconnecting')
    expect(timeouts.length).toBeGreaterThanOrEqual(2)
    for (const { snapshot } of timeouts) expect(snapshot.lastError?.code).toBe('CONNECT_TIMEOUT')
    for (let index = 1; index < history.length; index++) {
      const { snapshot, at } = history[index]!
      if (snapshot.status !== 'reconnecting') continue
      const started = history[index - 1]!
      expect(started.snapshot.status).toBe('connecting')
      expect(at - started.at).toBeGreaterThanOrEqual(connectTimeoutMs - 2)
      expect(at - started.at).toBeLessThanOrEqual(connectTimeoutMs + 100)
    }
    expect(client.getSnapshot().transport).toBe('websocket')

    proxy.restore()
    await waitForStatus(client, 'open', connectTimeoutMs + 100 + 500)
  })

  it('R7 a close handshake that never completes ends in closed after closeTimeoutMs, the socket terminated', async () => {
    const closeTimeoutMs = 300
    await h.start()
    const proxy = await h.proxy()
    const { client, tracker } = h.client({ url: proxy.url, closeTimeoutMs })
    await waitForStatus(client, 'open', 1000)

    proxy.blackhole()
    const startedAt = performance.now()
    client.close()
    expect(client.getSnapshot().status).toBe('closing')
    const closedAt = await waitForStatus(client, 'closed', closeTimeoutMs + 500)
    expect(closedAt - startedAt).toBeGreaterThanOrEqual(closeTimeoutMs - 2)
    expect(closedAt - startedAt).toBeLessThanOrEqual(closeTimeoutMs + 100)
    await waitFor(() => tracker.sockets[0]!.readyState === CLOSED, 200, 'socket terminated')
    expect(client.resources()).toMatchObject({ timers: 0, sockets: 0 })
    expect(tracker.attempts).toHaveLength(1)
  })

  it('R7 a close handshake that completes ends in closed at once, with the code we sent', async () => {
    const server = await h.start()
    const { client } = h.client({ url: server.url, closeTimeoutMs: 1000 })
    await waitForStatus(client, 'open', 1000)
    const startedAt = performance.now()
    client.close(4100, 'bye')
    const closedAt = await waitForStatus(client, 'closed', 1000)
    expect(closedAt - startedAt).toBeLessThan(200)
    expect(client.getSnapshot().lastClose).toMatchObject({ code: 4100, reason: 'bye', wasClean: true })
    await waitFor(() => server.connections === 0, 1000, 'server side closed')
  })
})
