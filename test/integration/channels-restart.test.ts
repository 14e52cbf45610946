import { describe, expect, it } from 'vitest'
import type { TestServerRestartOptions } from '../../src/testing'
import { sleep, waitFor, waitForStatus } from './helpers'
import { caughtUp, channelNames, clientLoad, serverLoad, subscribeAll, useChannelsHarness } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

const h = useChannelsHarness()

const CHANNELS = channelNames('load', 10)

describe('channels across server restarts (integration)', () => {
  it('R3 server killed and restarted 3 times under load (10 channels at 50 msgs/s each + 100/s published by a client) (durable state): 0 lost, 0 dup, order kept, resumed each time, reopened within the backoff bound + 300 ms', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const subscriber = h.client({ url: server.url })
    const publisher = h.client({ url: server.url })
    await subscribeAll(subscriber, checker, 'subscriber', [...CHANNELS, 'uplink'])
    await waitForStatus(publisher.client, 'open', 2000)

    // 10 channels × 1 per 20 ms from the backend = 500/s, plus 100/s from a client through its outbox.
    const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 20, maxTicks: 400 })
    const uplink = clientLoad({
      protocol: publisher.protocol,
      checker,
      channels: ['uplink'],
      everyMs: 10,
      maxTicks: 800,
    })
    const reopenDelays: number[] = []
    for (let cycle = 0; cycle < 3; cycle++) {
      await sleep(250)
      await server.kill()
      await sleep(200)
      await server.restart()
      const restartedAt = performance.now()
      const opened = await Promise.all([subscriber, publisher].map(({ client }) => waitForStatus(client, 'open', 2000)))
      reopenDelays.push(Math.max(...opened) - restartedAt)
      expect(subscriber.client.getSnapshot().session.resumed, `session resumed after cycle ${cycle + 1}`).toBe(true)
    }
    await sleep(200)
    await Promise.all([backend.stop(), uplink.stop()])
    await caughtUp(checker)

    const report = checker.report()
    expect(report).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {}, violations: [] })
    expect(report.delivered).toBeGreaterThan(500)
    expect(backend.errors.concat(uplink.errors)).toEqual([])
    // The client's publishes: applied exactly once each, in order, although some were resent after a kill.
    const uplinkCount = checker.published('uplink')
    expect(server.applied('uplink')).toEqual(
      Array.from({ length: uplinkCount }, (_, index) => ({ ch: 'uplink', n: index + 1 })),
    )
    await waitFor(() => publisher.client.getSnapshot().outbox.inFlight === 0, 2000, 'every publish acknowledged')
    expect(publisher.client.getSnapshot().outbox).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
    // FAST: maxDelayMs 500.
    for (const delay of reopenDelays) expect(delay).toBeLessThan(500 + 300)
    expect(subscriber.tracker.overlaps).toEqual([])
    const resubscribes = subscriber.sent.filter((frame) => frame.type === 'sub' && frame.since !== undefined)
    expect(resubscribes).toHaveLength(3 * 11)
  })

  it.each<[string, TestServerRestartOptions]>([
    ['history and sessions lost (an in-memory server restarted)', { loseHistory: true, loseSessions: true }],
    ['history lost, sessions kept', { loseHistory: true }],
  ])(
    'R4 restart with %s, twice under load: exactly one discontinuity per channel per restart, never a silent gap',
    async (_name, restartOptions) => {
      const server = await h.server()
      const checker = createSequenceChecker()
      const first = h.client({ url: server.url })
      const second = h.client({ url: server.url })
      await subscribeAll(first, checker, 'first', CHANNELS)
      await subscribeAll(second, checker, 'second', CHANNELS.slice(0, 3))

      const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 20, maxTicks: 300 })
      for (let restart = 0; restart < 2; restart++) {
        await sleep(250)
        const sockets = new Map([first, second].map((entry) => [entry, entry.tracker.sockets.at(-1)]))
        await server.restart(restartOptions)
        // Open on a new socket (the old one may not have reported its end yet when restart() resolves).
        const back = (entry: typeof first) =>
          waitForStatus(
            entry.client,
            (snapshot) => snapshot.status === 'open' && entry.tracker.sockets.at(-1) !== sockets.get(entry),
            2000,
          )
        await Promise.all([first, second].map(back))
        expect(first.client.getSnapshot().session.resumed).toBe(restartOptions.loseSessions !== true)
      }
      await sleep(200)
      await backend.stop()
      await caughtUp(checker)

      const report = checker.report()
      expect(report).toMatchObject({ lost: 0, duplicated: 0, violations: [] })
      expect(backend.errors).toEqual([])
      // Messages published while the server was down or before the resubscribe are gone, and each loss was announced.
      expect(report.skippedAfterGap).toBeGreaterThan(0)
      for (const channel of CHANNELS) {
        expect(
          checker.gapsOf('first', channel).map((gap) => gap.reason),
          channel,
        ).toEqual(['epoch-changed', 'epoch-changed'])
      }
      for (const channel of CHANNELS.slice(0, 3)) expect(checker.gapsOf('second', channel)).toHaveLength(2)
      // Each gap names where the stream stood and the new epoch it continues from.
      const [before, after] = checker.gapsOf('first', CHANNELS[0]!)
      expect(before!.from).not.toBeNull()
      expect(before!.to.epoch).not.toBe(before!.from!.epoch)
      expect(after!.from!.epoch).toBe(before!.to.epoch)
    },
  )

  it('R4 history dropped while clients stay connected: one discontinuity per channel, announced before the new epoch', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const entry = h.client({ url: server.url })
    await subscribeAll(entry, checker, 'client', CHANNELS)
    const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 20, maxTicks: 100 })
    await sleep(200)
    await server.dropHistory()
    await sleep(200)
    await backend.stop()
    await caughtUp(checker)

    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, violations: [] })
    for (const channel of CHANNELS) expect(checker.gapsOf('client', channel)).toHaveLength(1)
    expect(entry.tracker.sockets).toHaveLength(1)
  })
})
