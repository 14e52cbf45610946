import { afterEach, describe, expect, it } from 'vitest'
import {
  createLifeline,
  eventSource,
  simulateFault,
  type InboundMessage,
  type LifelineClient,
  type LifelineOptions,
} from '../../src/core'
import type { AuthRequest, LifelineServer } from '../../src/server'
import { failingBroker } from '../server/failing-broker'
import { cleanup, startServer } from '../server/helpers'
import { FAST, waitFor, waitForStatus } from './helpers'

const clients: LifelineClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose()
  await cleanup()
})

const eventsOf = (server: LifelineServer, channel = 'news') =>
  `${server.url.replace(/^ws/, 'http')}/events?ch=${encodeURIComponent(channel)}`

function listen(url: string, options: Partial<LifelineOptions> = {}) {
  const messages: InboundMessage[] = []
  const client = createLifeline({ url, ...FAST, transport: eventSource(), ...options })
  client.on('message', (message) => messages.push(message))
  clients.push(client)
  const data = () => messages.map((message) => JSON.parse(message.data as string) as unknown)
  return { client, messages, data }
}

describe('eventSource() against the reference server (docs/protocol.md §9)', () => {
  it('receives a channel with epoch:seq ids, the token in a header reaching authenticate', async () => {
    const tokens: Array<string | undefined> = []
    const server = await startServer({
      authenticate: ({ token }: AuthRequest) => (tokens.push(token), token === 'alice-token' ? { id: 'alice' } : null),
    })
    const { client, messages, data } = listen(eventsOf(server), { getToken: () => 'alice-token' })
    await waitForStatus(client, 'open', 3000)
    await waitFor(() => server.stats().eventStreams === 1, 2000, 'the stream')
    // The subscription is answered before the 200: publish once it exists.
    for (let n = 1; n <= 3; n++) await server.publish('news', { n })
    await waitFor(() => messages.length === 3, 3000, 'three messages')
    expect(data()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(messages.map((message) => message.lastEventId)).toEqual(
      messages.map((_, index) => expect.stringMatching(new RegExp(`:${index + 1}$`))),
    )
    expect(tokens).toContain('alice-token')
    expect(client.getSnapshot().session.resumed).toBeNull()
  })

  it('a dropped stream resumes with Last-Event-ID: what was published meanwhile arrives once, resumed is true', async () => {
    const server = await startServer()
    const { client, data } = listen(eventsOf(server))
    await waitFor(() => server.stats().eventStreams === 1, 3000, 'the stream')
    await server.publish('news', 1)
    await waitFor(() => data().length === 1, 2000, 'the first message')
    simulateFault(client, 'offline')
    simulateFault(client, 'drop-link')
    await waitFor(() => server.stats().eventStreams === 0, 2000, 'the server to see the drop')
    for (const n of [2, 3, 4]) await server.publish('news', n)
    simulateFault(client, 'online')
    await waitFor(() => data().length === 4, 3000, 'the missed messages')
    await server.publish('news', 5)
    await waitFor(() => data().length === 5, 2000, 'a live message')
    expect(data()).toEqual([1, 2, 3, 4, 5])
    expect(client.getSnapshot().session.resumed).toBe(true)
  })

  it('a server shutdown is a 1001 (spread retry); the restarted server lost the history: resumed is false', async () => {
    const first = await startServer()
    const port = Number(new URL(first.url).port)
    const { client, data } = listen(eventsOf(first))
    await waitFor(() => first.stats().eventStreams === 1, 3000, 'the stream')
    await first.publish('news', 'before')
    await waitFor(() => data().length === 1, 2000, 'the first message')
    await first.close()
    await waitFor(() => client.getSnapshot().lastClose?.code === 1001, 2000, 'close 1001')
    const second = await startServer({ port })
    await waitFor(() => second.stats().eventStreams === 1, 5000, 'the stream on the new server')
    await waitFor(() => client.getSnapshot().session.resumed === false, 2000, 'the gap to be reported')
    await second.publish('news', 'after')
    await waitFor(() => data().length === 2, 2000, 'a message from the new server')
    expect(data()).toEqual(['before', 'after'])
  })

  it('a channel authorize refuses is a 403: failed for good with the status, no retry loop', async () => {
    const server = await startServer({ authorize: ({ channel }) => channel !== 'secret' })
    const { client } = listen(eventsOf(server, 'secret'))
    await waitForStatus(client, 'failed', 3000)
    expect(client.getSnapshot().lastError).toMatchObject({
      code: 'HANDSHAKE_FAILED',
      message: expect.stringContaining('403'),
    })
  })

  it('a subscription the broker fails after the stream opened ends in 1011; the client retries and resumes once the broker is back', async () => {
    const { broker, deliver, failHistory, recoverHistory } = failingBroker()
    const server = await startServer({ broker })
    const { client, data } = listen(eventsOf(server))
    await waitFor(() => server.stats().eventStreams === 1, 3000, 'the stream')
    await server.publish('news', 1)
    await waitFor(() => data().length === 1, 2000, 'the first message')

    failHistory()
    deliver('news', 7)
    await waitFor(() => client.getSnapshot().lastClose?.code === 1011, 2000, 'close 1011')
    expect(client.getSnapshot().status).not.toBe('failed')
    await server.publish('news', 2)
    recoverHistory()
    await waitFor(() => data().length === 2, 5000, 'the message published while the stream was down')
    expect(data()).toEqual([1, 2])
    expect(client.getSnapshot().session.resumed).toBe(true)
  })
})
