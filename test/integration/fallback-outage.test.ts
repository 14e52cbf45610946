import { describe, expect, it } from 'vitest'
import { longPollFallback, type LongPollFallbackOptions } from '../../src/core/fallback'
import { openOn, sleep, transportsSeen } from './helpers'
import { caughtUp, serverLoad, subscribeAll, useChannelsHarness, type ChannelsClientOptions } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

const h = useChannelsHarness()

/** Probes would fail anyway while WebSocket is blocked: keep them rare enough not to decide the outcome. */
const FALLBACK: LongPollFallbackOptions = { upgradeProbeMs: 3000, probeTimeoutMs: 1000, storage: null }

/** Backoff 100 ms..2 s, heartbeat about a second (the brief's short timings). */
const TIMINGS: Partial<ChannelsClientOptions> = {
  minDelayMs: 100,
  maxDelayMs: 2000,
  heartbeat: { intervalMs: 1000, timeoutMs: 1000 },
}

/**
 * Once the server is back and WebSocket still blocked: the longest backoff wait (2 s) before the first attempt, then
 * the fallback rule (2 failures, or 2.5 s while HTTP works) with the diagnosis and confirming upgrade of each, and one
 * more backoff wait before the long-poll attempt.
 */
const BACK_ON_LONGPOLL_MS = 2000 + 2500 + 2000 + 1000

describe('long-poll fallback across a server outage (R22 + R3)', () => {
  for (const [label, outageMs] of [
    ['a short outage (1 s)', 1000],
    ['an outage longer than the fallback rule (4 s)', 4000],
  ] as const) {
    it(`R22 after ${label} while on long-poll with WebSocket still blocked: back on long-poll, session and channels resumed, 0 lost, 0 duplicated`, async () => {
      // Resume window longer than the outage: the session must resume, not start over.
      const server = await h.server({ resume: { windowMs: 30_000 } })
      const proxy = await h.proxy(server)
      proxy.blockWebSocket({ status: 403 })
      const checker = createSequenceChecker()
      const subscriber = h.client({ ...TIMINGS, url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
      const seen = transportsSeen(subscriber.client)
      await openOn(subscriber.client, 'longpoll', 3000)
      await subscribeAll(subscriber, checker, 'subscriber', ['feed-a', 'feed-b'])
      const session = subscriber.client.getSnapshot().session.id
      expect(session).not.toBeNull()

      // 2 channels × 1 per 20 ms from the backend, for the whole test (the broker outlives the outage).
      const backend = serverLoad({ server, checker, channels: ['feed-a', 'feed-b'], everyMs: 20, maxTicks: 1000 })
      await sleep(500)
      await server.kill()
      await sleep(outageMs)
      await server.restart()
      const socketsAtRestart = subscriber.tracker.sockets.length

      const tookMs = await openOn(subscriber.client, 'longpoll', BACK_ON_LONGPOLL_MS).catch((error: unknown) => {
        const attempts = subscriber.tracker.sockets.length - socketsAtRestart
        throw new Error(`${(error as Error).message}; ${attempts} WebSocket attempts since the restart`)
      })
      expect(tookMs).toBeLessThan(BACK_ON_LONGPOLL_MS)
      expect(subscriber.client.getSnapshot().session).toEqual({ id: session, resumed: true })
      // Stays there: nothing moves it off long-poll while WebSocket is blocked and the server is up.
      await sleep(1500)
      expect(subscriber.client.getSnapshot()).toMatchObject({ status: 'open', transport: 'longpoll' })

      await backend.stop()
      await caughtUp(checker, 10_000)
      const report = checker.report()
      expect(report).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {}, violations: [] })
      expect(report.delivered).toBeGreaterThan(100)
      expect(backend.errors).toEqual([])
      expect(seen.at(-1)).toBe('longpoll')
      expect(seen).not.toContain('websocket')
    }, 30_000)
  }

  it('R22 after an outage that starts while a background probe is in flight: back on long-poll', async () => {
    const server = await h.server({ resume: { windowMs: 30_000 } })
    const proxy = await h.proxy(server)
    proxy.blockWebSocket({ status: 403 })
    // A probe every ~300 ms that hangs its full timeout: the kill lands while one is out.
    const subscriber = h.client({
      ...TIMINGS,
      url: proxy.lifelineUrl,
      fallback: longPollFallback({ ...FALLBACK, upgradeProbeMs: 300, probeTimeoutMs: 800 }),
    })
    await openOn(subscriber.client, 'longpoll', 3000)
    const session = subscriber.client.getSnapshot().session.id
    await sleep(400)
    await server.kill()
    await sleep(1500)
    await server.restart()
    await openOn(subscriber.client, 'longpoll', BACK_ON_LONGPOLL_MS)
    expect(subscriber.client.getSnapshot().session).toEqual({ id: session, resumed: true })
  }, 30_000)

  it('R22 after a second outage: the fallback works every time, not only the first', async () => {
    const server = await h.server({ resume: { windowMs: 30_000 } })
    const proxy = await h.proxy(server)
    proxy.blockWebSocket({ status: 403 })
    const subscriber = h.client({ ...TIMINGS, url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    await openOn(subscriber.client, 'longpoll', 3000)
    for (const outageMs of [1200, 600]) {
      await server.kill()
      await sleep(outageMs)
      await server.restart()
      await openOn(subscriber.client, 'longpoll', BACK_ON_LONGPOLL_MS)
      expect(subscriber.client.getSnapshot().session.resumed).toBe(true)
    }
  }, 40_000)

  it('R22 when the server comes back from a long outage behind a proxy that now blocks WebSocket: a WebSocket client falls back', async () => {
    const server = await h.server({ resume: { windowMs: 30_000 } })
    const proxy = await h.proxy(server)
    const subscriber = h.client({ ...TIMINGS, url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    await openOn(subscriber.client, 'websocket', 2000)
    const session = subscriber.client.getSnapshot().session.id
    await server.kill()
    proxy.blockWebSocket({ status: 403 })
    await sleep(4000)
    await server.restart()
    await openOn(subscriber.client, 'longpoll', BACK_ON_LONGPOLL_MS)
    expect(subscriber.client.getSnapshot().session).toEqual({ id: session, resumed: true })
  }, 30_000)

  it('R22 after an outage longer than the resume window while on long-poll: back on long-poll, every gap announced, none silent', async () => {
    // The harness's 3 s resume window, a 5 s outage.
    const server = await h.server()
    const proxy = await h.proxy(server)
    proxy.blockWebSocket({ status: 403 })
    const checker = createSequenceChecker()
    const subscriber = h.client({ ...TIMINGS, url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    await openOn(subscriber.client, 'longpoll', 3000)
    await subscribeAll(subscriber, checker, 'subscriber', ['feed-a'])
    const backend = serverLoad({ server, checker, channels: ['feed-a'], everyMs: 20, maxTicks: 1000 })
    await sleep(300)
    await server.kill()
    await sleep(5000)
    await server.restart()
    await openOn(subscriber.client, 'longpoll', BACK_ON_LONGPOLL_MS)
    // A new session subscribes live: only what is published after the resubscribe arrives after the gap.
    await sleep(1000)
    await backend.stop()
    await caughtUp(checker, 10_000)
    // The session expired meanwhile: one explicit discontinuity, then the live stream; nothing skipped silently.
    expect(subscriber.client.getSnapshot().session.resumed).toBe(false)
    const report = checker.report()
    expect(report).toMatchObject({ lost: 0, duplicated: 0, gaps: { 'subscriber feed-a': ['not-resumed'] } })
    expect(report.violations).toEqual([])
    expect(backend.errors).toEqual([])
  }, 30_000)

  it('does not move a healthy WebSocket client to long-poll across an outage through the proxy', async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    const subscriber = h.client({ ...TIMINGS, url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    const seen = transportsSeen(subscriber.client)
    await openOn(subscriber.client, 'websocket', 2000)
    for (const outageMs of [300, 1500, 3000]) {
      await server.kill()
      await sleep(outageMs)
      await server.restart()
      await openOn(subscriber.client, 'websocket', 4000)
      // Reopened only just now: let a short-lived socket or a late probe count, if they would.
      await sleep(500)
    }
    expect(seen).toEqual(['websocket'])
    expect(server.server.stats().longPolls).toBe(0)
  }, 30_000)
})
