// Server-Sent Events across nodes: two createLifelineServer instances in this process, each with its own Redis broker on
// one real redis-server (as two nodes would have). A stream on node A carries what is published on node B, and resumes
// on node B from the id it last received on node A.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLifelineServer } from '../../src/server'
import type { LifelineServer } from '../../src/server'
import { createRedisBroker } from '../../src/server/redis'
import type { RedisBroker } from '../../src/server/redis'
import { cleanup, connectReady, waitFor } from '../server/helpers'
import { closeStreams, eventsUrl, openStream } from '../server/sse-helpers'
import type { EventStream } from '../server/sse-helpers'
import { startRedis } from '../support/redis'
import type { RedisInstance } from '../support/redis'

let redis: RedisInstance
let servers: LifelineServer[] = []
let brokers: RedisBroker[] = []

async function twoNodes(): Promise<[LifelineServer, LifelineServer]> {
  const keyPrefix = `sse${String(Date.now())}:`
  for (let node = 0; node < 2; node++) {
    const broker = createRedisBroker({ url: redis.url, keyPrefix, windowMs: 10_000, commandTimeoutMs: 500 })
    brokers.push(broker)
    await broker.ready()
    servers.push(await createLifelineServer({ port: 0, broker, resume: { windowMs: 10_000 } }))
  }
  return servers as [LifelineServer, LifelineServer]
}

const dataOf = (stream: EventStream): unknown[] =>
  stream.events.filter((event) => event.event === 'message').map((event) => JSON.parse(event.data) as unknown)

beforeAll(async () => {
  redis = await startRedis()
}, 20_000)

afterEach(async () => {
  closeStreams()
  await cleanup()
  await Promise.all(servers.map((server) => server.close()))
  await Promise.all(brokers.map((broker) => broker.close()))
  servers = []
  brokers = []
})

afterAll(async () => {
  await redis.stop()
})

describe('SSE across nodes over Redis', () => {
  it('a stream on node A receives what node B publishes (server.publish and a WebSocket pub), and resumes on node B', async () => {
    const [a, b] = await twoNodes()
    const stream = await openStream(eventsUrl(a), { ch: 'room' })
    expect(stream.status).toBe(200)
    await stream.next('lifeline:subscribed')
    await b.publish('room', 1)
    const { client } = await connectReady(b.url)
    client.send({ type: 'pub', ch: 'room', id: 'p1', data: 2 })
    await client.next('ack')
    await waitFor('2 messages on node A', () => dataOf(stream).length === 2, 5000)
    expect(dataOf(stream)).toEqual([1, 2])

    const lastId = stream.events.filter((event) => event.event === 'message')[1]?.id ?? ''
    stream.destroy()
    await a.publish('room', 3)
    const resumed = await openStream(eventsUrl(b), { ch: 'room', headers: { 'Last-Event-ID': lastId } })
    const subscribed = JSON.parse((await resumed.next('lifeline:subscribed', 5000)).data) as Record<string, unknown>
    expect(subscribed).toMatchObject({ resumed: true, seq: 3 })
    expect(dataOf(resumed)).toEqual([3])
  }, 20_000)
})
