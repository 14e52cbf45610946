import { describe, expect, it } from 'vitest'
import type { ClientFrame } from '../../src/core'
import { createMemoryBroker } from '../../src/server'
import type { FaultProxy, TestServer } from '../../src/testing'
import { sleep, waitFor, waitForStatus } from './helpers'
import {
  caughtUp,
  channelNames,
  clientLoad,
  laggingBroker,
  publishNumbered,
  serverLoad,
  subscribeAll,
  useChannelsHarness,
} from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

const h = useChannelsHarness()

const CHANNELS = channelNames('feed', 5)

const pubs = (frames: readonly ClientFrame[]) =>
  frames.filter((frame): frame is Extract<ClientFrame, { type: 'pub' }> => frame.type === 'pub')

/** The drops of R5: each ends every connection without a WebSocket close frame while the server stays up. */
const drops: Array<[string, (proxy: FaultProxy, server: TestServer) => void]> = [
  ['RST (proxy reset)', (proxy) => proxy.reset()],
  ['FIN (proxy fin)', (proxy) => proxy.fin()],
  ['no close frame (server destroys its sockets)', (_proxy, server) => server.terminateClients()],
]

describe('channels across dropped connections (integration)', () => {
  it.each(drops)(
    'R5 abrupt drop by %s, 3 times under load, server alive: resumed every time, 0 lost, 0 dup, publishes applied once',
    async (_name, drop) => {
      const server = await h.server()
      const proxy = await h.proxy(server)
      const checker = createSequenceChecker()
      const subscriber = h.client({ url: proxy.lifelineUrl })
      const publisher = h.client({ url: proxy.lifelineUrl })
      const subscription = await subscribeAll(subscriber, checker, 'subscriber', [...CHANNELS, 'uplink'])
      await waitForStatus(publisher.client, 'open', 2000)

      const backend = serverLoad({ server, checker, channels: CHANNELS, everyMs: 10, maxTicks: 400 })
      const uplink = clientLoad({
        protocol: publisher.protocol,
        checker,
        channels: ['uplink'],
        everyMs: 5,
        maxTicks: 800,
      })
      for (let round = 1; round <= 3; round++) {
        await sleep(200)
        drop(proxy, server)
        await waitFor(() => subscriber.tracker.sockets.length === round + 1, 2000, `reconnect ${round}`)
        await Promise.all([subscriber, publisher].map(({ client }) => waitForStatus(client, 'open', 2000)))
        expect(subscriber.client.getSnapshot().session.resumed).toBe(true)
        expect(publisher.client.getSnapshot().session.resumed).toBe(true)
      }
      await sleep(150)
      await Promise.all([backend.stop(), uplink.stop()])
      await caughtUp(checker)

      expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {}, violations: [] })
      expect(backend.errors.concat(uplink.errors)).toEqual([])
      // Every channel was confirmed resumed after each of the 3 reconnects.
      await waitFor(() => subscription.resumes().resumed === 3 * 6, 1000, 'every resubscribe confirmed')
      expect(subscription.resumes()).toEqual({ resumed: 3 * 6, notResumed: 0 })
      const count = checker.published('uplink')
      expect(server.applied('uplink')).toEqual(
        Array.from({ length: count }, (_, index) => ({ ch: 'uplink', n: index + 1 })),
      )
      await waitFor(() => publisher.client.getSnapshot().outbox.inFlight === 0, 2000, 'every publish acknowledged')
      expect(subscriber.tracker.sockets).toHaveLength(4)
    },
  )

  it('R17 resume race: 6 clients kicked 15 times while ~600 msgs/s are published through a lagging broker: 0 gaps, 0 dup, 0 lost', async () => {
    const broker = laggingBroker(createMemoryBroker())
    const server = await h.server({ broker })
    const checker = createSequenceChecker()
    const channels = channelNames('race', 3)
    const entries = Array.from({ length: 6 }, () => h.client({ url: server.url, minDelayMs: 10, maxDelayMs: 100 }))
    await Promise.all(entries.map((entry, index) => subscribeAll(entry, checker, `client-${index}`, channels)))

    const backend = serverLoad({ server, checker, channels, everyMs: 5, maxTicks: 1000 })
    // Each kick returns the indexes of the clients it hit.
    const all = entries.map((_, index) => index)
    const kicks = [
      () => (server.closeClients(1000, 'kicked'), all),
      () => (server.terminateClients(), all),
      () => {
        // Half of them, by session: the others keep receiving live messages meanwhile.
        const half = [0, 1, 2]
        for (const index of half)
          server.closeClient({ session: entries[index]!.client.getSnapshot().session.id! }, 1011)
        return half
      },
    ]
    const expected = entries.map(() => 1)
    for (let round = 0; round < 15; round++) {
      // Often while replays of the previous kick are still being merged with the live stream.
      await sleep(Math.random() * 50)
      for (const index of kicks[round % kicks.length]!()) expected[index]!++
      await waitFor(
        () =>
          entries.every(
            ({ client, tracker }, index) =>
              tracker.sockets.length === expected[index] && client.getSnapshot().status === 'open',
          ),
        2000,
        `every client back after kick ${round + 1}`,
      )
    }
    await sleep(100)
    await backend.stop()
    await caughtUp(checker)

    const report = checker.report()
    expect(report).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {}, violations: [] })
    expect(report.delivered).toBe(6 * 3 * checker.published(channels[0]!))
    expect(backend.errors).toEqual([])
    // Kicks 1 and 2 of every 3 hit all 6 clients, kick 3 the first 3 of them.
    expect(entries.map(({ tracker }) => tracker.sockets.length)).toEqual([16, 16, 16, 11, 11, 11])
  })

  it('R20 lost ack (RST after the server applied the publish, ack still in flight): resent after reconnect with the same id, applied once', async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    const checker = createSequenceChecker()
    const watcher = h.client({ url: server.url })
    await subscribeAll(watcher, checker, 'watcher', ['acks'])
    const publisher = h.client({ url: proxy.lifelineUrl })
    await waitForStatus(publisher.client, 'open', 2000)

    proxy.delay(150)
    publishNumbered(publisher.protocol, checker, 'acks')
    // Applied at the server; its ack is still 150 ms away in the proxy.
    await waitFor(() => server.applied('acks').length === 1, 1000, 'the publish applied')
    proxy.reset()
    proxy.delay(0)
    expect(publisher.client.getSnapshot().outbox.inFlight + publisher.client.getSnapshot().outbox.queued).toBe(1)
    await waitForStatus(
      publisher.client,
      (snapshot) => snapshot.status === 'open' && publisher.tracker.sockets.length === 2,
      2000,
    )
    await waitFor(() => publisher.client.getSnapshot().outbox.inFlight === 0, 1000, 'the resend acknowledged')
    publishNumbered(publisher.protocol, checker, 'acks')
    await caughtUp(checker)

    const sent = pubs(publisher.sent)
    expect(sent.map((frame) => frame.id)).toEqual([sent[0]!.id, sent[0]!.id, sent[2]!.id])
    expect(publisher.client.getSnapshot().session.resumed).toBe(true)
    expect(server.applied('acks')).toEqual([
      { ch: 'acks', n: 1 },
      { ch: 'acks', n: 2 },
    ])
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
    // The watcher can see the second publish before its ack reaches the publisher.
    await waitFor(() => publisher.client.getSnapshot().outbox.inFlight === 0, 2000, 'the second publish acknowledged')
    expect(publisher.client.getSnapshot().outbox).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
  })

  it('R20 lost ack on a link that went silent (blackhole): detected by the heartbeat, resent, applied once', async () => {
    const server = await h.server()
    const proxy = await h.proxy(server)
    const checker = createSequenceChecker()
    const watcher = h.client({ url: server.url })
    await subscribeAll(watcher, checker, 'watcher', ['acks'])
    const publisher = h.client({ url: proxy.lifelineUrl })
    await waitForStatus(publisher.client, 'open', 2000)

    proxy.delay(100)
    for (let index = 0; index < 5; index++) publishNumbered(publisher.protocol, checker, 'acks')
    await waitFor(() => server.applied('acks').length === 5, 1000, 'the publishes applied')
    proxy.blackhole()
    proxy.restore()
    expect(publisher.client.getSnapshot().outbox.inFlight).toBe(5)
    await waitForStatus(publisher.client, (snapshot) => snapshot.lastError?.code === 'HEARTBEAT_TIMEOUT', 2000)
    await waitForStatus(publisher.client, 'open', 2000)
    await waitFor(() => publisher.client.getSnapshot().outbox.inFlight === 0, 1000, 'the resends acknowledged')
    await caughtUp(checker)

    const ids = pubs(publisher.sent).map((frame) => frame.id)
    expect(ids).toHaveLength(10)
    expect(ids.slice(5)).toEqual(ids.slice(0, 5))
    expect(server.applied('acks')).toEqual(Array.from({ length: 5 }, (_, index) => ({ ch: 'acks', n: index + 1 })))
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
  })
})
