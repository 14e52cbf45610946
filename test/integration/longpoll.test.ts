import { afterEach, describe, expect, it } from 'vitest'
import { createLifeline, lifelineProtocol } from '../../src/core'
import type { ChannelMessage, LifelineClient, LifelineError, ServerFrame } from '../../src/core'
import {
  createLongPollTransport,
  type FetchLike,
  type LongPollTransportConfig,
} from '../../src/core/longpoll-transport'
import type { Transport } from '../../src/core/transport'
import {
  createLifelineServer,
  type LifelineServer,
  type LifelineServerOptions,
  type PublishedEvent,
} from '../../src/server'
import { longPollWebSocket } from './helpers'

const servers: LifelineServer[] = []
const transports: Transport[] = []
const clients: LifelineClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose()
  for (const transport of transports.splice(0)) transport.drop()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function startServer(options: Partial<LifelineServerOptions> = {}): Promise<LifelineServer> {
  const server = await createLifelineServer({ port: 0, ...options })
  servers.push(server)
  return server
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(label: string, predicate: () => boolean, timeout = 5000): Promise<void> {
  const deadline = performance.now() + timeout
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${String(timeout)} ms waiting for ${label}`)
    await sleep(5)
  }
}

/** A long-poll transport to `server` with a record of everything it reported. */
class Link {
  readonly frames: ServerFrame[] = []
  readonly errors: LifelineError[] = []
  opened = false
  close: { code: number; reason: string; wasClean: boolean } | null = null
  readonly transport: Transport

  constructor(server: LifelineServer, config: Partial<LongPollTransportConfig> = {}) {
    this.transport = createLongPollTransport(
      {
        url: server.url,
        fetch: globalThis.fetch,
        timers: {
          setTimeout: (callback, ms) => setTimeout(callback, ms),
          clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
        },
        ...config,
      },
      {
        open: () => {
          this.opened = true
        },
        message: (data) => this.frames.push(JSON.parse(data as string) as ServerFrame),
        close: (code, reason, wasClean) => {
          this.close = { code, reason, wasClean }
        },
        error: (error) => this.errors.push(error),
      },
    )
    transports.push(this.transport)
  }

  send(frame: Record<string, unknown>): void {
    this.transport.send(JSON.stringify(frame))
  }

  async ready(hello: Record<string, unknown> = {}): Promise<Extract<ServerFrame, { type: 'welcome' }>> {
    await waitFor('open', () => {
      if (this.close) throw new Error(`closed ${String(this.close.code)} before open`)
      return this.opened
    })
    this.send({ type: 'hello', v: 1, ...hello })
    return this.next('welcome')
  }

  async next<T extends ServerFrame['type']>(
    type: T,
    predicate: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeout = 5000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    let found: Extract<ServerFrame, { type: T }> | undefined
    await waitFor(
      type,
      () => {
        found = this.frames.find(
          (frame): frame is Extract<ServerFrame, { type: T }> =>
            frame.type === type && predicate(frame as Extract<ServerFrame, { type: T }>),
        )
        if (!found && this.close) throw new Error(`closed ${String(this.close.code)} waiting for ${type}`)
        return found !== undefined
      },
      timeout,
    )
    return found!
  }

  all<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.frames.filter((frame): frame is Extract<ServerFrame, { type: T }> => frame.type === type)
  }

  async closed(timeout = 5000): Promise<{ code: number; reason: string; wasClean: boolean }> {
    await waitFor('close', () => this.close !== null, timeout)
    return this.close!
  }
}

/** Checks a channel's messages are exactly seq 1..count, in order. */
function expectContiguous(link: Link, channel: string, count: number): void {
  const seqs = link
    .all('msg')
    .filter((frame) => frame.ch === channel)
    .map((frame) => frame.seq)
  const duplicates = seqs.length - new Set(seqs).size
  const missing = count - new Set(seqs).size
  expect({ duplicates, missing, ordered: seqs.every((seq, index) => seq === index + 1) }).toEqual({
    duplicates: 0,
    missing: 0,
    ordered: true,
  })
}

describe('long-poll transport against the reference server', () => {
  it('says hello, subscribes, publishes with an ack and receives messages in order', async () => {
    const server = await startServer()
    const link = new Link(server)
    const welcome = await link.ready()
    expect(welcome.resumed).toBe(false)
    link.send({ type: 'sub', ch: 'news' })
    await link.next('subscribed', (frame) => frame.ch === 'news')
    for (let index = 0; index < 20; index++) await server.publish('news', { index })
    link.send({ type: 'pub', ch: 'news', id: 'p1', data: { index: 20 } })
    await link.next('ack', (frame) => frame.id === 'p1')
    await link.next('msg', (frame) => frame.seq === 21)
    expectContiguous(link, 'news', 21)
    expect(link.all('msg').map((frame) => (frame.data as { index: number }).index)).toEqual(
      Array.from({ length: 21 }, (_, index) => index),
    )
    expect(server.connections()[0]?.transport).toBe('longpoll')
    expect(link.errors).toEqual([])
  })

  it('carries ~1000 msg/s each way for 5 s with 0 lost and 0 duplicated, while poll responses get lost', async () => {
    const applied: PublishedEvent[] = []
    const server = await startServer({
      rateLimit: { messages: 5000, perMs: 1000 },
      onPublished: (event) => applied.push(event),
    })
    // Every 25th poll response is lost after the server sent it: the transport polls again with the old cursor.
    let polls = 0
    let lost = 0
    const lossyFetch: FetchLike = async (url, init) => {
      const response = await fetch(url, init)
      if (init.method !== 'GET' || ++polls % 25 !== 0) return response
      await response.text()
      lost += 1
      throw new TypeError('fetch failed: response lost')
    }
    const link = new Link(server, { fetch: lossyFetch })
    await link.ready()
    link.send({ type: 'sub', ch: 'feed' })
    link.send({ type: 'sub', ch: 'echo' })
    await link.next('subscribed', (frame) => frame.ch === 'feed')
    await link.next('subscribed', (frame) => frame.ch === 'echo')

    // 1 message per ms each way, paced by the clock: a late timer (a loaded machine) sends the backlog at once.
    const durationMs = 5000
    const ratePerMs = 1
    let published = 0
    let sent = 0
    const started = performance.now()
    while (performance.now() - started < durationMs) {
      const due = Math.floor((performance.now() - started) * ratePerMs)
      while (published < due) {
        void server.publish('feed', { n: ++published })
        link.send({ type: 'pub', ch: 'echo', id: `e${String(++sent)}`, data: { n: sent } })
      }
      await sleep(10)
    }
    const elapsedS = (performance.now() - started) / 1000
    await link.next('msg', (frame) => frame.ch === 'feed' && frame.seq === published, 15_000)
    await link.next('msg', (frame) => frame.ch === 'echo' && frame.seq === sent, 15_000)
    await waitFor('every ack', () => link.all('ack').length >= sent, 10_000)

    expect(published / elapsedS).toBeGreaterThan(900)
    expect(lost).toBeGreaterThan(0)
    expectContiguous(link, 'feed', published)
    expectContiguous(link, 'echo', sent)
    const acked = link.all('ack').map((frame) => frame.id)
    expect(new Set(acked).size).toBe(sent)
    expect(applied).toHaveLength(sent)
    expect(link.close).toBeNull()
  }, 40_000)

  it('splits batches over maxPayload (413) so that every frame arrives, and fails a frame over it alone with 1009', async () => {
    const applied: PublishedEvent[] = []
    const server = await startServer({ maxPayload: 2048, onPublished: (event) => applied.push(event) })
    const link = new Link(server)
    await link.ready()
    for (let index = 0; index < 40; index++) {
      link.send({ type: 'pub', ch: 'c', id: `m${String(index)}`, data: 'x'.repeat(200) })
    }
    await waitFor('40 acks', () => link.all('ack').length === 40)
    expect(link.all('ack').map((frame) => frame.id)).toEqual(
      Array.from({ length: 40 }, (_, index) => `m${String(index)}`),
    )
    expect(applied).toHaveLength(40)
    link.send({ type: 'pub', ch: 'c', id: 'huge', data: 'y'.repeat(3000) })
    expect(await link.closed()).toEqual({ code: 1009, reason: 'message too big (413)', wasClean: false })
    await waitFor('released', () => server.stats().connections === 0)
  })

  it('reports 4002 with the server wait when the rate limit trips', async () => {
    const server = await startServer({ rateLimit: { messages: 20, perMs: 60_000 } })
    const link = new Link(server)
    await link.ready()
    for (let index = 0; index < 30; index++) link.send({ type: 'ping' })
    const close = await link.closed()
    expect(close.code).toBe(4002)
    const { retryAfterMs } = JSON.parse(close.reason) as { retryAfterMs: number }
    expect(retryAfterMs).toBeGreaterThanOrEqual(1000)
    expect(retryAfterMs).toBeLessThanOrEqual(60_000)
  })

  it('after a 410 (idle expiry) starts over: a new connection resumes the session and replays what was missed', async () => {
    const server = await startServer({ longPoll: { pollTimeoutMs: 100, idleTimeoutMs: 500 } })
    // A poll that "hangs" for 1.5 s on the client: the server sees no request and expires the connection.
    let stall = false
    const stallingFetch: FetchLike = async (url, init) => {
      if (stall && init.method === 'GET') await sleep(1500)
      return fetch(url, init)
    }
    const first = new Link(server, { fetch: stallingFetch })
    const welcome = await first.ready()
    first.send({ type: 'sub', ch: 'a' })
    await first.next('subscribed')
    await server.publish('a', 1)
    const seen = await first.next('msg')
    stall = true
    await waitFor('expired', () => server.stats().connections === 0, 3000)
    for (let index = 2; index <= 5; index++) await server.publish('a', index)
    expect(await first.closed()).toEqual({ code: 1006, reason: 'long-poll connection expired (410)', wasClean: false })

    const second = new Link(server)
    const resumed = await second.ready({ session: welcome.session })
    expect(resumed).toMatchObject({ session: welcome.session, resumed: true })
    second.send({ type: 'sub', ch: 'a', since: { epoch: seen.epoch, seq: seen.seq } })
    const subscribed = await second.next('subscribed')
    expect(subscribed).toMatchObject({ resumed: true, seq: 5 })
    expect(second.all('msg').map((frame) => frame.seq)).toEqual([2, 3, 4, 5])
  })

  it('reports server closes: 4003 on an expired session, 1001 on shutdown, both clean', async () => {
    const server = await startServer()
    const first = new Link(server)
    const welcome = await first.ready()
    server.expireSession(welcome.session)
    expect(await first.closed()).toEqual({ code: 4003, reason: 'session expired', wasClean: true })
    const second = new Link(server)
    await second.ready()
    await server.close()
    expect(await second.closed()).toEqual({ code: 1001, reason: 'server shutting down', wasClean: true })
  })

  it('closes cleanly with close(): frames written before it are applied, the server releases the connection', async () => {
    const applied: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => applied.push(event) })
    const link = new Link(server)
    await link.ready()
    link.send({ type: 'pub', ch: 'c', id: 'last', data: 1 })
    link.transport.close(1000, 'done')
    expect(await link.closed()).toEqual({ code: 1000, reason: 'done', wasClean: true })
    await waitFor('released', () => server.stats().connections === 0)
    expect(server.stats().longPolls).toBe(0)
    await waitFor('applied', () => applied.length === 1)
  })

  it('drop() releases the server connection at once', async () => {
    const server = await startServer()
    const link = new Link(server)
    await link.ready()
    expect(server.stats().longPolls).toBe(1)
    link.transport.drop()
    await waitFor('released', () => server.stats().connections === 0)
    expect(link.close).toBeNull()
  })

  it('refuses the opening request with the upgrade rules: 401 from authenticateUpgrade is close 4001', async () => {
    const server = await startServer({ authenticateUpgrade: () => null })
    const link = new Link(server)
    expect(await link.closed()).toMatchObject({ code: 4001, wasClean: false })
    expect(link.opened).toBe(false)
  })
})

describe('the whole client over long-poll (createLifeline with a long-poll WebSocket adapter)', () => {
  it('keeps channels gap-free and publishes applied once across a killed long-poll connection', async () => {
    const applied: PublishedEvent[] = []
    const server = await startServer({
      heartbeat: { intervalMs: 500 },
      rateLimit: { messages: 5000, perMs: 1000 },
      onPublished: (event) => applied.push(event),
    })
    const protocol = lifelineProtocol()
    const client = createLifeline({
      url: server.url,
      protocol,
      minDelayMs: 50,
      maxDelayMs: 300,
      connectTimeoutMs: 2000,
      heartbeat: { intervalMs: 300, timeoutMs: 1500 },
      environment: { WebSocket: longPollWebSocket((transport) => transports.push(transport)) },
    })
    clients.push(client)
    const received: ChannelMessage[] = []
    const gaps: unknown[] = []
    protocol.channel('feed', { message: (message) => received.push(message), gap: (gap) => gaps.push(gap) })
    await waitFor('open', () => client.getSnapshot().status === 'open')
    await waitFor('subscribed', () => server.stats().subscriptions === 1)

    let published = 0
    let sent = 0
    for (let round = 0; round < 60; round++) {
      for (let index = 0; index < 10; index++) {
        void server.publish('feed', ++published)
        protocol.publish('inbox', { n: ++sent })
      }
      // Mid-stream the server drops the long-poll connection: the waiting poll is cut, the next one gets 410. The
      // second time only once the client is back (a 1006 after open spreads its retry over [min, 10·min]).
      if (round === 40)
        await waitFor('reopened', () => client.getSnapshot().status === 'open' && server.connections().length > 0)
      if (round === 20 || round === 40) server.connections()[0]?.terminate()
      await sleep(10)
    }
    await waitFor('every message', () => received.length >= published, 15_000)
    await waitFor(
      'outbox drained',
      () => client.getSnapshot().outbox.queued + client.getSnapshot().outbox.inFlight === 0,
      15_000,
    )

    expect(received.map((message) => message.data)).toEqual(Array.from({ length: published }, (_, index) => index + 1))
    expect(gaps).toEqual([])
    expect(applied.map((event) => (event.data as { n: number }).n)).toEqual(
      Array.from({ length: sent }, (_, index) => index + 1),
    )
    expect(server.stats().accepted).toBeGreaterThanOrEqual(3)
    expect(client.getSnapshot().session.resumed).toBe(true)
  }, 30_000)
})
