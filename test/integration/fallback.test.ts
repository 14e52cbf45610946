import { describe, expect, it } from 'vitest'
import { longPollFallback, type LongPollFallbackOptions } from '../../src/core/fallback'
import { simulateFault } from '../../src/core'
import { openOn, sleep, transportsSeen, waitFor } from './helpers'
import { caughtUp, clientLoad, serverLoad, subscribeAll, useChannelsHarness } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

const h = useChannelsHarness()

/** Fast settings for tests: probe WebSocket every ~1 s (jittered ±25 %). */
const FALLBACK: LongPollFallbackOptions = { upgradeProbeMs: 1000, probeTimeoutMs: 1000, storage: null }

describe('long-poll fallback (R22)', () => {
  it("simulateFault(client, 'force-longpoll') moves a WebSocket client to long-poll now; the probe brings it back", async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    const { client } = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    await openOn(client, 'websocket', 3000)
    const seen = transportsSeen(client)
    expect(simulateFault(client, 'force-longpoll')).toBe(true)
    await openOn(client, 'longpoll', 3000)
    expect(server.server.stats().longPolls).toBe(1)
    // Nothing blocks WebSocket: one probe interval later it is back.
    await openOn(client, 'websocket', 1250 + 750)
    expect(seen).toEqual(['websocket', 'longpoll', 'websocket'])
  })

  for (const [label, block] of [
    ['the upgrade answered 403 by a proxy', { status: 403 }],
    ['the upgrade answered 400 by a proxy', { status: 400 }],
    ['the Upgrade header stripped by a proxy', 'strip'],
    ['the upgrade request reset', 'reset'],
  ] as const) {
    it(`R22 with ${label}: long-poll is active within 3 s, and WebSocket is back within one probe interval after the block lifts`, async () => {
      const server = await h.server()
      const proxy = await h.proxy(server)
      proxy.blockWebSocket(block)
      const { client } = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
      const seen = transportsSeen(client)
      const tookMs = await openOn(client, 'longpoll', 3000)
      expect(tookMs).toBeLessThan(3000)
      expect(server.server.stats().longPolls).toBe(1)

      proxy.unblockWebSocket()
      // One probe interval: 1000 ms × 1.25 at most, plus the probe's own round trip and the switch.
      await openOn(client, 'websocket', 1250 + 750)
      expect(seen).toEqual(['longpoll', 'websocket'])
      expect(server.server.stats().longPolls).toBe(0)
    })
  }

  it('R22 with sockets killed right after the 101: long-poll is active within 3 s', async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    proxy.killAfterOpen(0)
    const { client } = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    expect(await openOn(client, 'longpoll', 3000)).toBeLessThan(3000)
    proxy.acceptUpgrade()
    proxy.restore()
  })

  it('R22 at 1000 msgs/s for 30 s across the switch to long-poll and back: 0 lost, 0 duplicated, order kept', async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    const checker = createSequenceChecker()
    const subscriber = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    const publisher = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback(FALLBACK) })
    const seen = transportsSeen(subscriber.client)
    await subscribeAll(subscriber, checker, 'subscriber', ['feed', 'uplink'])
    await openOn(publisher.client, 'websocket', 2000)

    // 900/s from the backend (9 every 10 ms) and 100/s published by a client through its outbox, for 30 s.
    const backend = serverLoad({ server, checker, channels: ['feed'], everyMs: 10, perTick: 9, maxTicks: 3000 })
    const uplink = clientLoad({
      protocol: publisher.protocol,
      checker,
      channels: ['uplink'],
      everyMs: 10,
      maxTicks: 3000,
    })
    const phases: string[] = []
    for (let cycle = 0; cycle < 3; cycle++) {
      await sleep(3000)
      // Block WebSocket and kill the open sockets: both clients move to long-poll…
      proxy.blockWebSocket({ status: 403 })
      proxy.reset()
      await Promise.all([subscriber, publisher].map(({ client }) => openOn(client, 'longpoll', 3000)))
      phases.push('longpoll')
      await sleep(4000)
      // …and back once the block lifts.
      proxy.unblockWebSocket()
      proxy.restore()
      await Promise.all([subscriber, publisher].map(({ client }) => openOn(client, 'websocket', 2500)))
      phases.push('websocket')
    }
    await waitFor(() => checker.published('feed') >= 25_000, 15_000, 'the load to finish')
    await Promise.all([backend.stop(), uplink.stop()])
    await caughtUp(checker, 10_000)

    const report = checker.report()
    expect(report).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {}, violations: [] })
    expect(report.delivered).toBeGreaterThan(25_000)
    expect(backend.errors.concat(uplink.errors)).toEqual([])
    const uplinkCount = checker.published('uplink')
    expect(server.applied('uplink')).toEqual(
      Array.from({ length: uplinkCount }, (_, index) => ({ ch: 'uplink', n: index + 1 })),
    )
    expect(phases).toEqual(['longpoll', 'websocket', 'longpoll', 'websocket', 'longpoll', 'websocket'])
    expect(seen).toEqual(['websocket', 'longpoll', 'websocket', 'longpoll', 'websocket', 'longpoll', 'websocket'])
  }, 60_000)

  it('does not fall back when the server is simply down: across 6 restarts it always comes back over WebSocket', async () => {
    const server = await h.server()
    const { client } = h.client({ url: server.url, fallback: longPollFallback(FALLBACK) })
    const seen = transportsSeen(client)
    await openOn(client, 'websocket', 2000)
    for (const downMs of [100, 700, 250, 1200, 400, 900]) {
      await server.kill()
      await sleep(downMs)
      await server.restart()
      await openOn(client, 'websocket', 3000)
      // Reopened only just now: let a short-lived socket or a late probe count, if they would.
      await sleep(300)
    }
    expect(seen).toEqual(['websocket'])
    expect(server.server.stats().longPolls).toBe(0)
  })

  it('remembers the choice for the page session: the next client starts on long-poll at once, then probes back', async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    proxy.blockWebSocket({ status: 403 })
    const memory = new Map<string, string>()
    const storage = {
      getItem: (key: string) => memory.get(key) ?? null,
      setItem: (key: string, value: string) => void memory.set(key, value),
      removeItem: (key: string) => void memory.delete(key),
    }
    const first = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback({ ...FALLBACK, storage }) })
    await openOn(first.client, 'longpoll', 3000)
    expect([...memory.values()]).toEqual(['longpoll'])
    expect([...memory.keys()][0]).not.toContain('?')
    first.client.dispose()

    const second = h.client({ url: proxy.lifelineUrl, fallback: longPollFallback({ ...FALLBACK, storage }) })
    // No WebSocket attempt first: the very first connection is a long-poll one.
    expect(await openOn(second.client, 'longpoll', 1000)).toBeLessThan(1000)
    expect(second.tracker.sockets).toHaveLength(0)
    proxy.unblockWebSocket()
    await openOn(second.client, 'websocket', 2000)
    expect(memory.size).toBe(0)
  })

  it('refuses a fallback without the lifeline protocol and a non-fallback value', async () => {
    const { createLifeline } = await import('../../src/core')
    expect(() =>
      createLifeline({ url: 'ws://127.0.0.1:9/x', autoConnect: false, fallback: longPollFallback() }),
    ).toThrow(/fallback/)
    expect(() => createLifeline({ url: 'ws://127.0.0.1:9/x', autoConnect: false, fallback: {} as never })).toThrow(
      /fallback/,
    )
  })
})
