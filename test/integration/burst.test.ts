import { afterEach, describe, expect, it } from 'vitest'
import type { CloseInfo, LifelineError } from '../../src/core'
import { createTestServer } from '../../src/testing'
import type { TestServer } from '../../src/testing'
import { longPollWebSocket, waitFor, waitForStatus } from './helpers'
import { caughtUp, channelNames, publishNumbered, subscribeAll, useChannelsHarness } from './channels-harness'
import type { ChannelsClient } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'
import type { SequenceChecker } from './sequence-checker'

// Registered before the harness, so that it runs after the harness's checks (hooks run in reverse order).
const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

const h = useChannelsHarness()

const CHANNELS = channelNames('burst', 40)
/** The client outbox's default cap. */
const OUTBOX = 1000

/**
 * A server with DEFAULT options (rate limit, payload, buffers, timeouts) whose `authorize` hook does real I/O: every
 * call awaits a 2 ms timer, as a lookup in a database or an auth service would.
 */
async function serverWithSlowAuthorize(): Promise<TestServer> {
  const server = await createTestServer({
    authorize: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2)),
  })
  servers.push(server)
  return server
}

/**
 * The scenario of the burst: a client subscribed to 40 channels loses the server, queues a full outbox (1,000
 * publishes) while it is down, and flushes it on reconnect together with the 40 resubscriptions.
 */
async function fullOutboxAcrossRestart(
  server: TestServer,
  publisher: ChannelsClient,
  checker: SequenceChecker,
): Promise<{ closes: CloseInfo[]; failed: LifelineError[] }> {
  await subscribeAll(publisher, checker, 'publisher', CHANNELS)
  await server.kill()
  await waitForStatus(publisher.client, (snapshot) => snapshot.status !== 'open', 2000)
  for (let index = 0; index < OUTBOX; index++) {
    publishNumbered(publisher.protocol, checker, CHANNELS[index % CHANNELS.length]!)
  }
  expect(publisher.client.getSnapshot().outbox).toMatchObject({ queued: OUTBOX, inFlight: 0, failed: 0 })
  const closes: CloseInfo[] = []
  const failed: LifelineError[] = []
  publisher.client.on('close', (close) => closes.push(close))
  publisher.client.on('messageFailed', ({ error }) => failed.push(error))
  await server.restart()
  await waitFor(
    () => {
      const { outbox } = publisher.client.getSnapshot()
      return outbox.queued + outbox.inFlight + outbox.failed === 0
    },
    10_000,
    'the outbox drained',
  ).catch((error: unknown) => {
    const { outbox } = publisher.client.getSnapshot()
    throw new Error(`${(error as Error).message}: outbox ${JSON.stringify(outbox)}, closes ${JSON.stringify(closes)}`)
  })
  await caughtUp(checker, 5000)
  return { closes, failed }
}

function expectAppliedOnceInOrder(server: TestServer, checker: SequenceChecker): void {
  expect(server.received).toHaveLength(OUTBOX)
  expect(new Set(server.received.map((publish) => publish.id)).size).toBe(OUTBOX)
  const perChannel = OUTBOX / CHANNELS.length
  for (const channel of CHANNELS) {
    expect(server.applied(channel)).toEqual(
      Array.from({ length: perChannel }, (_, index) => ({ ch: channel, n: index + 1 })),
    )
  }
  expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, gaps: {}, violations: [] })
}

describe('a full outbox flushed on reconnect against default server options (flow control)', () => {
  it('over WebSocket: 1,000 queued publishes and 40 resubscriptions behind a 2 ms authorize hook are applied once, in order, with no close', async () => {
    const server = await serverWithSlowAuthorize()
    const checker = createSequenceChecker()
    const publisher = h.client({ url: server.url })

    const { closes, failed } = await fullOutboxAcrossRestart(server, publisher, checker)

    expect(closes).toEqual([])
    expect(failed).toEqual([])
    expectAppliedOnceInOrder(server, checker)
  }, 20_000)

  it('over long-poll: the same burst is paced by the POST answers and applied once, in order, with no close', async () => {
    const server = await serverWithSlowAuthorize()
    const checker = createSequenceChecker()
    const publisher = h.client({
      url: server.url,
      environment: { WebSocket: longPollWebSocket() },
    })

    const { closes, failed } = await fullOutboxAcrossRestart(server, publisher, checker)

    expect(server.server.stats().longPolls).toBe(1)
    expect(closes).toEqual([])
    expect(failed).toEqual([])
    expectAppliedOnceInOrder(server, checker)
  }, 20_000)
})
