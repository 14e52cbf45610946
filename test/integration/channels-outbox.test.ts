import { describe, expect, it } from 'vitest'
import { MessageTooLargeError, QueueFullError, type ClientEvents } from '../../src/core'
import { waitFor, waitForStatus } from './helpers'
import { caughtUp, channelNames, publishNumbered, subscribeAll, useChannelsHarness } from './channels-harness'
import { createSequenceChecker, type Numbered } from './sequence-checker'

const h = useChannelsHarness()

const CHANNELS = channelNames('orders', 5)

const numbered = (channel: string, from: number, to: number): Numbered[] =>
  Array.from({ length: to - from + 1 }, (_, index) => ({ ch: channel, n: from + index }))

describe('channel publishing through the outbox (integration)', () => {
  it('R19 500 publishes over 5 channels while the server is down: each applied exactly once, in order, and delivered once', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const watcher = h.client({ url: server.url })
    await subscribeAll(watcher, checker, 'watcher', CHANNELS)
    const publisher = h.client({ url: server.url })
    await waitForStatus(publisher.client, 'open', 2000)

    await server.kill()
    await waitForStatus(publisher.client, (snapshot) => snapshot.status !== 'open', 1000)
    for (let index = 0; index < 500; index++) publishNumbered(publisher.protocol, checker, CHANNELS[index % 5]!)
    expect(publisher.client.getSnapshot().outbox).toMatchObject({ queued: 500, inFlight: 0, failed: 0 })
    expect(server.received).toHaveLength(0)
    await server.restart()
    await waitFor(
      () => publisher.client.getSnapshot().outbox.queued + publisher.client.getSnapshot().outbox.inFlight === 0,
      3000,
      'the outbox drained',
    )
    await caughtUp(checker)

    for (const channel of CHANNELS) expect(server.applied(channel)).toEqual(numbered(channel, 1, 100))
    expect(server.received).toHaveLength(500)
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
    expect(publisher.sent.filter((frame) => frame.type === 'pub')).toHaveLength(500)
  })

  it('R19 over the cap with overflow "reject": the 101st publish throws QueueFullError, the 100 held are applied once in order', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const watcher = h.client({ url: server.url })
    await subscribeAll(watcher, checker, 'watcher', ['capped'])
    const publisher = h.client({ url: server.url, outbox: { maxMessages: 100 } })
    await waitForStatus(publisher.client, 'open', 2000)

    await server.kill()
    await waitForStatus(publisher.client, (snapshot) => snapshot.status !== 'open', 1000)
    for (let index = 0; index < 100; index++) publishNumbered(publisher.protocol, checker, 'capped')
    const refused: unknown[] = []
    publishNumbered(publisher.protocol, checker, 'capped', refused)
    expect(refused).toHaveLength(1)
    expect(refused[0]).toBeInstanceOf(QueueFullError)
    expect((refused[0] as QueueFullError).code).toBe('QUEUE_FULL')
    expect(publisher.client.getSnapshot().outbox).toMatchObject({ queued: 100, failed: 0 })
    await server.restart()
    await waitFor(
      () => publisher.client.getSnapshot().outbox.inFlight + publisher.client.getSnapshot().outbox.queued === 0,
      3000,
      'the 100 acknowledged',
    )
    publishNumbered(publisher.protocol, checker, 'capped')
    await caughtUp(checker)

    expect(server.applied('capped')).toEqual([...numbered('capped', 1, 100), { ch: 'capped', n: 102 }])
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
  })

  it('R19 over the cap with overflow "drop-oldest": the 50 oldest are reported discarded, the newest 100 applied once in order', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const watcher = h.client({ url: server.url })
    await subscribeAll(watcher, checker, 'watcher', ['capped'])
    const publisher = h.client({ url: server.url, outbox: { maxMessages: 100, overflow: 'drop-oldest' } })
    await waitForStatus(publisher.client, 'open', 2000)
    const failed: ClientEvents['messageFailed'][] = []
    publisher.client.on('messageFailed', (event) => {
      failed.push(event)
      checker.unpublish('capped', (JSON.parse(event.item.data as string) as Numbered).n)
    })

    await server.kill()
    await waitForStatus(publisher.client, (snapshot) => snapshot.status !== 'open', 1000)
    for (let index = 0; index < 150; index++) publishNumbered(publisher.protocol, checker, 'capped')
    await server.restart()
    await waitFor(() => server.applied('capped').length === 100, 3000, 'the 100 applied')
    await caughtUp(checker)

    expect(failed.map(({ error }) => error.code)).toEqual(Array.from({ length: 50 }, () => 'MESSAGE_DISCARDED'))
    expect(failed.map(({ item }) => JSON.parse(item.data as string) as Numbered)).toEqual(numbered('capped', 1, 50))
    expect(server.applied('capped')).toEqual(numbered('capped', 51, 150))
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
  })

  it('R21 poison message (server closes 1009 for it): it fails with MessageTooLargeError, the rest are delivered once, ≤ 2 reconnects', async () => {
    // 1024 bytes is no more than the client's envelope allowance, so it cannot learn the limit from `welcome`.
    const server = await h.server({ maxPayload: 1024 })
    const checker = createSequenceChecker()
    const watcher = h.client({ url: server.url })
    await subscribeAll(watcher, checker, 'watcher', ['room'])
    const publisher = h.client({ url: server.url })
    await waitForStatus(publisher.client, 'open', 2000)
    const failed: ClientEvents['messageFailed'][] = []
    publisher.client.on('messageFailed', (event) => failed.push(event))

    for (let index = 0; index < 5; index++) publishNumbered(publisher.protocol, checker, 'room')
    const poison = publisher.protocol.publish('room-big', { pad: 'x'.repeat(2000) })
    for (let index = 0; index < 5; index++) publishNumbered(publisher.protocol, checker, 'room')
    await waitFor(() => failed.length === 1, 2000, 'the poison message failed')
    await waitForStatus(publisher.client, 'open', 2000)
    await waitFor(
      () => publisher.client.getSnapshot().outbox.inFlight + publisher.client.getSnapshot().outbox.queued === 0,
      2000,
      'the rest acknowledged',
    )
    await caughtUp(checker)

    expect(failed[0]!.item.id).toBe(poison)
    expect(failed[0]!.error).toBeInstanceOf(MessageTooLargeError)
    expect(publisher.client.getSnapshot().lastClose).toMatchObject({ code: 1009 })
    expect(server.applied('room')).toEqual(numbered('room', 1, 10))
    expect(server.applied('room-big')).toEqual([])
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
    expect(publisher.tracker.sockets.length - 1).toBeLessThanOrEqual(2)
    // The limit was learned: the same size now fails up front, and the failed item stays visible until discarded.
    expect(() => publisher.protocol.publish('room-big', { pad: 'x'.repeat(2000) })).toThrow(MessageTooLargeError)
    expect(publisher.client.getSnapshot().outbox).toMatchObject({ failed: 1 })
  })
})
