import { describe, expect, it, vi } from 'vitest'
import type { ClientFrame } from '../../src/core'
import type { FaultProxy } from '../../src/testing'
import { sleep, waitFor, waitForStatus } from './helpers'
import { caughtUp, channelNames, clientLoad, serverLoad, subscribeAll, useChannelsHarness } from './channels-harness'
import { createSequenceChecker, type Numbered } from './sequence-checker'

const h = useChannelsHarness()

const CHANNELS = channelNames('news', 5)

/** Keeps the clients behind `proxy` away: open links reset, new ones refused, until `back()`. */
function away(proxy: FaultProxy): { back(): void } {
  proxy.refuse()
  proxy.reset()
  return { back: () => proxy.restore() }
}

/** A payload of exactly `bytes` bytes of JSON. */
function padded(payload: Numbered, bytes: number): Numbered & { pad: string } {
  const bare = JSON.stringify({ ...payload, pad: '' }).length
  return { ...payload, pad: 'x'.repeat(bytes - bare) }
}

describe('channels across sessions: tokens, expiry, resume window (integration)', () => {
  it('R13 4001 twice mid-stream: getToken once per 4001 (single-flight), reconnect without backoff, session resumed, 0 lost', async () => {
    const tokens = { 't-1': 'alice', 't-2': 'alice', 't-3': 'alice' }
    const server = await h.server({ tokens })
    let running = 0
    let maxRunning = 0
    const getToken = vi.fn(async () => {
      const token = `t-${getToken.mock.calls.length}`
      maxRunning = Math.max(maxRunning, ++running)
      await sleep(20)
      running--
      return token
    })
    const checker = createSequenceChecker()
    // minDelayMs 1000: a reopen well under that skipped the backoff.
    const entry = h.client({ url: server.url, getToken, minDelayMs: 1000, maxDelayMs: 2000 })
    await subscribeAll(entry, checker, 'alice', [...CHANNELS, 'uplink'])
    expect(getToken).toHaveBeenCalledTimes(1)

    const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 10, maxTicks: 200 })
    const uplink = clientLoad({ protocol: entry.protocol, checker, channels: ['uplink'], everyMs: 10, maxTicks: 200 })
    for (let refresh = 1; refresh <= 2; refresh++) {
      await sleep(200)
      expect(server.closeClient({ principal: 'alice' }, 4001, 'token expired')).toBe(1)
      const closedAt = performance.now()
      await waitFor(() => entry.tracker.sockets.length === refresh + 1, 1000, `reconnect ${refresh}`)
      const openedAt = await waitForStatus(entry.client, 'open', 1000)
      expect(openedAt - closedAt).toBeLessThan(300)
      expect(getToken).toHaveBeenCalledTimes(1 + refresh)
      expect(entry.client.getSnapshot().session.resumed).toBe(true)
    }
    await sleep(150)
    await Promise.all([backend.stop(), uplink.stop()])
    await caughtUp(checker)

    expect(maxRunning).toBe(1)
    const hellos = entry.sent.filter(
      (frame): frame is Extract<ClientFrame, { type: 'hello' }> => frame.type === 'hello',
    )
    expect(hellos.map((hello) => hello.token)).toEqual(['t-1', 't-2', 't-3'])
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {}, violations: [] })
    const count = checker.published('uplink')
    expect(server.applied('uplink')).toEqual(
      Array.from({ length: count }, (_, index) => ({ ch: 'uplink', n: index + 1 })),
    )
    expect(entry.client.getSnapshot().lastClose).toMatchObject({ code: 4001 })
  })

  it('R15 4003 mid-stream: resume dropped, exactly one session-expired discontinuity per channel, onSessionExpired once, publishes applied once', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const onSessionExpired = vi.fn()
    const entry = h.client({ url: server.url, onSessionExpired })
    const events = vi.fn()
    entry.client.on('sessionExpired', events)
    const subscription = await subscribeAll(entry, checker, 'client', [...CHANNELS, 'uplink'])
    const before = entry.client.getSnapshot().session.id

    const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 10, maxTicks: 100 })
    const uplink = clientLoad({ protocol: entry.protocol, checker, channels: ['uplink'], everyMs: 10, maxTicks: 100 })
    await sleep(200)
    expect(server.expireSessions()).toBe(1)
    await waitFor(() => entry.tracker.sockets.length === 2, 1000, 'the reconnect')
    await waitForStatus(entry.client, 'open', 1000)
    await sleep(300)
    await Promise.all([backend.stop(), uplink.stop()])
    await caughtUp(checker)

    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(events).toHaveBeenCalledTimes(1)
    expect(entry.client.getSnapshot().session).toMatchObject({ resumed: false })
    expect(entry.client.getSnapshot().session.id).not.toBe(before)
    // The new session starts afresh: no resume asked, no `since`.
    const last = entry.sent.filter((frame) => frame.type === 'hello').at(-1)
    expect(last).not.toHaveProperty('session')
    const report = checker.report()
    expect(report).toMatchObject({ lost: 0, duplicated: 0, violations: [] })
    for (const channel of [...CHANNELS, 'uplink']) {
      expect(
        checker.gapsOf('client', channel).map((gap) => gap.reason),
        channel,
      ).toEqual(['session-expired'])
      expect(checker.gapsOf('client', channel)[0]!.from).not.toBeNull()
    }
    expect(subscription.resumes()).toEqual({ resumed: 0, notResumed: 0 })
    const count = checker.published('uplink')
    expect(server.applied('uplink')).toEqual(
      Array.from({ length: count }, (_, index) => ({ ch: 'uplink', n: index + 1 })),
    )
  })

  it.each([
    ['away 300 ms < window 1000 ms: resumed, 0 lost', 300, true],
    ['away 1500 ms > window 1000 ms: session and replay gone, one discontinuity per channel', 1500, false],
  ])('R16 resume window edge, %s', async (_name, awayMs, resumed) => {
    const server = await h.server({ resume: { windowMs: 1000 } })
    const proxy = await h.proxy(server)
    const checker = createSequenceChecker()
    const entry = h.client({ url: proxy.lifelineUrl, minDelayMs: 20, maxDelayMs: 100 })
    const subscription = await subscribeAll(entry, checker, 'client', CHANNELS)
    const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 20, maxTicks: 150 })
    await sleep(100)
    const link = away(proxy)
    await sleep(awayMs)
    link.back()
    await waitForStatus(entry.client, 'open', 1000)
    await sleep(100)
    await backend.stop()
    await caughtUp(checker)

    const report = checker.report()
    expect(report).toMatchObject({ lost: 0, duplicated: 0, violations: [] })
    expect(entry.client.getSnapshot().session.resumed).toBe(resumed)
    if (resumed) {
      expect(report).toMatchObject({ skippedAfterGap: 0, gaps: {} })
      expect(subscription.resumes()).toEqual({ resumed: CHANNELS.length, notResumed: 0 })
    } else {
      expect(report.skippedAfterGap).toBeGreaterThan(0)
      for (const channel of CHANNELS)
        expect(checker.gapsOf('client', channel).map((gap) => gap.reason)).toEqual(['not-resumed'])
      expect(subscription.resumes()).toEqual({ resumed: 0, notResumed: CHANNELS.length })
    }
  })

  it.each([
    ['message cap (resume.maxMessages 20)', { maxMessages: 20 }],
    ['byte cap (resume.maxBytes 20 × 100 B)', { maxBytes: 2000 }],
  ])(
    'R16 replay %s: 20 missed → full replay, resumed; 21 missed → no replay at all, one discontinuity, never a partial replay called complete',
    async (_name, caps) => {
      const server = await h.server({ resume: { windowMs: 5000, ...caps } })
      const proxy = await h.proxy(server)
      const checker = createSequenceChecker()
      const entry = h.client({ url: proxy.lifelineUrl, minDelayMs: 20, maxDelayMs: 100 })
      const [atCap, overCap] = ['at-cap', 'over-cap']
      const subscription = await subscribeAll(entry, checker, 'client', [atCap, overCap])
      const publish = async (channel: string, count: number) => {
        for (let index = 0; index < count; index++) await server.publish(channel, padded(checker.next(channel), 100))
      }
      await publish(atCap, 5)
      await publish(overCap, 5)
      await caughtUp(checker)

      const link = away(proxy)
      await waitForStatus(entry.client, (snapshot) => snapshot.status !== 'open', 1000)
      await publish(atCap, 20)
      await publish(overCap, 21)
      link.back()
      await waitForStatus(entry.client, 'open', 1000)
      await waitFor(
        () => subscription.resumes().resumed + subscription.resumes().notResumed === 2,
        1000,
        'both resubscribed',
      )
      await publish(atCap, 1)
      await publish(overCap, 1)
      await caughtUp(checker)

      expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, violations: [] })
      expect(subscription.statuses.get(atCap)!.at(-1)).toMatchObject({ state: 'subscribed', resumed: true })
      expect(subscription.statuses.get(overCap)!.at(-1)).toMatchObject({ state: 'subscribed', resumed: false })
      expect(checker.gapsOf('client', atCap)).toEqual([])
      expect(checker.delivered('client', atCap)).toEqual(Array.from({ length: 26 }, (_, index) => index + 1))
      // Nothing of the 21 was replayed: the stream continues after the head the server announced.
      const [gap] = checker.gapsOf('client', overCap)
      expect(gap).toMatchObject({ reason: 'not-resumed', from: { seq: 5 }, to: { seq: 26 } })
      expect(checker.delivered('client', overCap)).toEqual([1, 2, 3, 4, 5, 27])
    },
  )
})
