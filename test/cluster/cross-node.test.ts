// Cross-node server state over one real redis-server: sessions, publish dedupe and long-poll shared by two servers
// (two createLifelineServer instances in this process, each with its own Redis broker, as two nodes would have), and
// the retryable refusal while Redis is down. The multi-process scenarios live in the other cluster tests.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLifeline, lifelineProtocol } from '../../src/core'
import { WebSocket as NodeWebSocket } from 'ws'
import type { ChannelGap, LifelineClient, ServerFrame, WebSocketConstructor } from '../../src/core'
import { createLifelineServer } from '../../src/server'
import type { LifelineServer } from '../../src/server'
import { createRedisBroker } from '../../src/server/redis'
import type { RedisBroker } from '../../src/server/redis'
import { createFaultProxy } from '../../src/testing'
import type { FaultProxy } from '../../src/testing'
import { call, cleanup as cleanupRaw, connectReady, PollClient, pollUrl } from '../server/helpers'
import { secretKey } from '../../src/server/sessions'
import { startRedis } from '../support/redis'
import type { RedisInstance } from '../support/redis'

const FAST = { minDelayMs: 50, maxDelayMs: 400, connectTimeoutMs: 1000, closeTimeoutMs: 500 } as const
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(label: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${label}`)
    await sleep(10)
  }
}

let redis: RedisInstance
let prefixes = 0
let servers: LifelineServer[] = []
let brokers: RedisBroker[] = []
let proxies: FaultProxy[] = []
let clients: LifelineClient[] = []
const logs: string[] = []
const sessionIds: string[] = []

/** Two nodes on one Redis: each its own broker (own connections, own node id), a key prefix of their own per test. */
async function twoNodes(options: { windowMs?: number } = {}): Promise<[LifelineServer, LifelineServer]> {
  prefixes += 1
  const keyPrefix = `t${String(prefixes)}:`
  const windowMs = options.windowMs ?? 10_000
  const nodes: LifelineServer[] = []
  for (const name of ['A', 'B']) {
    const broker = createRedisBroker({ url: redis.url, keyPrefix, windowMs, commandTimeoutMs: 500 })
    brokers.push(broker)
    await broker.ready()
    const server = await createLifelineServer({
      port: 0,
      broker,
      resume: { windowMs },
      longPoll: { pollTimeoutMs: 1000 },
      logger: {
        info: (message, details) => logs.push(`${name} info ${message} ${JSON.stringify(details ?? {})}`),
        warn: (message, details) => logs.push(`${name} warn ${message} ${JSON.stringify(details ?? {})}`),
      },
    })
    servers.push(server)
    nodes.push(server)
  }
  return nodes as [LifelineServer, LifelineServer]
}

function client(url: string): { client: LifelineClient; protocol: ReturnType<typeof lifelineProtocol> } {
  const protocol = lifelineProtocol()
  const created = createLifeline({
    url,
    protocol,
    ...FAST,
    heartbeat: { intervalMs: 300, timeoutMs: 600 },
    environment: { WebSocket: NodeWebSocket as unknown as WebSocketConstructor },
  })
  clients.push(created)
  return { client: created, protocol }
}

const healthOf = async (server: LifelineServer): Promise<{ status: number; body: unknown }> => {
  const reply = await call(`${server.url.replace(/^ws/, 'http')}/healthz`, {})
  return { status: reply.status, body: reply.body }
}

beforeAll(async () => {
  redis = await startRedis()
})

afterEach(async () => {
  for (const created of clients) created.dispose()
  await cleanupRaw()
  await Promise.all(proxies.map((proxy) => proxy.close()))
  await Promise.all(servers.map((server) => server.close()))
  await Promise.all(brokers.map((broker) => broker.close()))
  if (!redis.running) await redis.start()
  clients = []
  proxies = []
  servers = []
  brokers = []
  // The session id is a secret: never in a log line, never in a Redis key.
  for (const id of sessionIds) expect(logs.join('\n')).not.toContain(id)
  const keys = await redis.cli('--scan')
  for (const id of sessionIds) expect(keys).not.toContain(id)
  sessionIds.length = 0
  logs.length = 0
})

afterAll(async () => {
  await redis.stop()
})

describe('cross-node sessions, dedupe and long-poll over Redis', () => {
  it('a session created on A resumes on B: positions kept, no gap, nothing lost or repeated', async () => {
    const [a, b] = await twoNodes()
    const proxy = await createFaultProxy({ target: [a.url, b.url], perRequest: false })
    proxies.push(proxy)
    const { client: lifeline, protocol } = client(`${proxy.url}/lifeline`)
    const received: number[] = []
    const gaps: ChannelGap[] = []
    let subscribed = false
    protocol.channel('news', {
      message: ({ data }) => received.push((data as { n: number }).n),
      gap: (gap) => gaps.push(gap),
      status: (status) => {
        subscribed = status.state === 'subscribed'
      },
    })
    lifeline.connect()
    await waitFor('open on A', () => lifeline.getSnapshot().status === 'open' && a.stats().connections === 1)
    // Messages published before `subscribed` precede the subscription: wait for it.
    await waitFor('subscribed on A', () => subscribed)
    for (let n = 1; n <= 5; n++) await a.publish('news', { n })
    await waitFor('5 messages', () => received.length === 5)
    const session = lifeline.getSnapshot().session.id
    expect(session).not.toBeNull()
    sessionIds.push(session ?? '')
    // Off A: the balancer's next connection goes to B. Messages published meanwhile (on A) must be replayed by B.
    proxy.reset()
    for (let n = 6; n <= 10; n++) await a.publish('news', { n })
    await waitFor('resumed on B', () => b.stats().connections === 1 && lifeline.getSnapshot().status === 'open')
    await waitFor('10 messages', () => received.length === 10)
    for (let n = 11; n <= 12; n++) await b.publish('news', { n })
    await waitFor('12 messages', () => received.length === 12)
    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    expect(gaps).toEqual([])
    expect(lifeline.getSnapshot().session).toEqual({ id: session, resumed: true })
    expect(b.connections()[0]?.session).toBe(session)
  })

  it('a session is bound to its principal on every node', async () => {
    prefixes += 1
    const keyPrefix = `t${String(prefixes)}:`
    const make = async (): Promise<LifelineServer> => {
      const broker = createRedisBroker({ url: redis.url, keyPrefix })
      brokers.push(broker)
      const server = await createLifelineServer({
        port: 0,
        broker,
        authenticate: ({ token }) => (token ? { id: token } : null),
      })
      servers.push(server)
      return server
    }
    const a = await make()
    const b = await make()
    const alice = await connectReady(a.url, { token: 'alice' })
    sessionIds.push(alice.welcome.session)
    const mallory = await connectReady(b.url, { token: 'mallory', session: alice.welcome.session })
    expect(mallory.welcome.resumed).toBe(false)
    expect(mallory.welcome.session).not.toBe(alice.welcome.session)
    sessionIds.push(mallory.welcome.session)
  })

  it('a session moved back and forth between nodes ends every previous connection and keeps the latest', async () => {
    const [a, b] = await twoNodes()
    const first = await connectReady(a.url, { label: 'A1' })
    const session = first.welcome.session
    sessionIds.push(session)
    let previous = first.client
    for (const [index, target] of [b, a, b, a].entries()) {
      const next = await connectReady(target.url, { session, label: `hop ${String(index)}` })
      expect(next.welcome.resumed).toBe(true)
      expect(await previous.closed()).toMatchObject({ code: 1008, reason: 'session resumed on another connection' })
      previous = next.client
    }
    await sleep(200)
    expect(previous.close).toBeNull()
    expect(a.connections().map((connection) => connection.session)).toEqual([session])
    expect(b.stats().connections).toBe(0)
  })

  it('a publish sent to A and resent to B with the same id is applied once and acked both times', async () => {
    const [a, b] = await twoNodes()
    const first = await connectReady(a.url, { label: 'on A' })
    const session = first.welcome.session
    sessionIds.push(session)
    first.client.send({ type: 'pub', id: 'm-1', ch: 'orders', data: { item: 1 } })
    expect(await first.client.next('ack')).toEqual({ type: 'ack', id: 'm-1' })
    // The ack was "lost": the client resumes through B and sends the message again.
    const second = await connectReady(b.url, { session, label: 'on B' })
    expect(second.welcome.resumed).toBe(true)
    second.client.send({ type: 'pub', id: 'm-1', ch: 'orders', data: { item: 1 } })
    expect(await second.client.next('ack')).toEqual({ type: 'ack', id: 'm-1' })
    // A new id is applied; the connection A held for the session was ended by the move.
    second.client.send({ type: 'pub', id: 'm-2', ch: 'orders', data: { item: 2 } })
    expect(await second.client.next('ack')).toEqual({ type: 'ack', id: 'm-2' })
    expect(await first.client.closed()).toMatchObject({ code: 1008 })
    const history = await b.broker.history('orders', undefined)
    expect(history.head.seq).toBe(2)
    const replay = await b.broker.history('orders', { epoch: history.head.epoch, seq: 0 })
    expect(replay.messages.map((message) => JSON.parse(message.payload) as unknown)).toEqual([{ item: 1 }, { item: 2 }])
  })

  it('a publish a node applied but never recorded (it died) is not applied again when resent through another node', async () => {
    const [a, b] = await twoNodes()
    const first = await connectReady(a.url, { label: 'on A' })
    const { session } = first.welcome
    sessionIds.push(session)
    // What node A did before it was killed: claimed the id, appended the message, and died before `settle` and the ack.
    const cluster = brokers[0]?.cluster
    expect(await cluster?.dedupe.claim(session, 'm-9', { leaseMs: 300, maxIds: 100 })).toBe('claimed')
    const once = { scope: secretKey(session), id: 'm-9', ttlMs: 60_000, maxIds: 100 }
    await a.broker.publish('orders', JSON.stringify({ item: 9 }), once)
    first.client.socket.terminate()
    // The client resends through B: it waits out the dead node's claim, then must not append a second copy.
    const second = await connectReady(b.url, { session, label: 'on B' })
    expect(second.welcome.resumed).toBe(true)
    second.client.send({ type: 'pub', id: 'm-9', ch: 'orders', data: { item: 9 } })
    expect(await second.client.next('ack')).toEqual({ type: 'ack', id: 'm-9' })
    second.client.send({ type: 'pub', id: 'm-9', ch: 'orders', data: { item: 9 } })
    expect(await second.client.next('ack')).toEqual({ type: 'ack', id: 'm-9' })
    expect((await b.broker.history('orders', undefined)).head.seq).toBe(1)
  })

  it('long-poll: a connection opened on A is polled and posted to on B, and still on A', async () => {
    const [a, b] = await twoNodes()
    const opened = await call(pollUrl(a), { method: 'POST', body: JSON.stringify([{ type: 'hello', v: 1 }]) })
    expect(opened.status).toBe(200)
    const id = opened.headers.get('Lifeline-Connection') ?? ''
    expect(id).toMatch(/^[\w-]{22}$/)
    const onA = new PollClient(pollUrl(a), id)
    const onB = new PollClient(pollUrl(b), id)
    // Poll on B: the welcome queued on A arrives through B.
    const welcome = (await onB.next('welcome')) as Extract<ServerFrame, { type: 'welcome' }>
    sessionIds.push(welcome.session)
    onA.cursor = onB.cursor
    // POST on B, answered by A's protocol; the frames come back through a poll on B.
    const posted = await call(pollUrl(b), {
      method: 'POST',
      headers: { 'Lifeline-Connection': id },
      body: JSON.stringify([
        { type: 'sub', ch: 'lp' },
        { type: 'pub', id: 'p-1', ch: 'lp', data: { x: 1 } },
      ]),
    })
    expect(posted.status).toBe(200)
    expect(await onB.next('subscribed')).toMatchObject({ ch: 'lp' })
    expect(await onB.next('ack')).toEqual({ type: 'ack', id: 'p-1' })
    expect(await onB.next('msg')).toMatchObject({ ch: 'lp', seq: 1, data: { x: 1 } })
    // And again on A, from B's cursor: nothing lost or repeated between the two.
    onA.cursor = onB.cursor
    await b.publish('lp', { x: 2 })
    expect(await onA.next('msg')).toMatchObject({ ch: 'lp', seq: 2, data: { x: 2 } })
    expect(a.stats().longPolls).toBe(1)
    expect(b.stats().longPolls).toBe(0)
    // An unknown id is 410 on every node; DELETE through B closes it on A.
    const unknown = await call(pollUrl(b), { headers: { 'Lifeline-Connection': 'x'.repeat(22) } })
    expect(unknown.status).toBe(410)
    const deleted = await call(pollUrl(b), { method: 'DELETE', headers: { 'Lifeline-Connection': id } })
    expect(deleted.status).toBe(204)
    await waitFor('closed on A', () => a.stats().longPolls === 0)
  })

  it('Redis down: publishes get the retryable nack, stay in the outbox, and are applied once when it is back', async () => {
    const [a] = await twoNodes({ windowMs: 30_000 })
    const { client: lifeline, protocol } = client(a.url)
    lifeline.connect()
    await waitFor('open', () => lifeline.getSnapshot().status === 'open')
    sessionIds.push(lifeline.getSnapshot().session.id ?? '')
    expect(a.stats().broker.status).toBe('ok')
    expect(await healthOf(a)).toEqual({ status: 200, body: { status: 'ok' } })

    await redis.halt()
    await waitFor('broker down', () => a.stats().broker.status === 'down')
    expect(await healthOf(a)).toEqual({ status: 503, body: { status: 'degraded', broker: 'down' } })
    for (let n = 1; n <= 3; n++) protocol.publish('during', { n })
    await waitFor('nacked UNAVAILABLE', () =>
      logs.some((line) => line.includes('publish dedupe failed') || line.includes('publish failed')),
    )
    await sleep(300)
    const waiting = lifeline.getSnapshot().outbox
    expect(waiting.failed).toBe(0)
    expect(waiting.queued + waiting.inFlight).toBe(3)
    expect(lifeline.getSnapshot().status).toBe('open')
    expect(a.stats().connections).toBe(1)
    expect(logs.filter((line) => line.startsWith('A warn broker unreachable'))).toHaveLength(1)

    await redis.start()
    await waitFor('broker ok', () => a.stats().broker.status === 'ok', 10_000)
    await waitFor(
      'outbox drained',
      () => lifeline.getSnapshot().outbox.queued + lifeline.getSnapshot().outbox.inFlight === 0,
      10_000,
    )
    expect(lifeline.getSnapshot().outbox.failed).toBe(0)
    expect(await healthOf(a)).toEqual({ status: 200, body: { status: 'ok' } })
    expect(logs.filter((line) => line.startsWith('A info broker reachable again'))).toHaveLength(1)
    const head = (await a.broker.history('during', undefined)).head
    const replay = await a.broker.history('during', { epoch: head.epoch, seq: 0 })
    expect(replay.messages.map((message) => (JSON.parse(message.payload) as { n: number }).n)).toEqual([1, 2, 3])
  })
})
