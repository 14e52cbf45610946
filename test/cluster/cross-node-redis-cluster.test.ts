// The cross-node server state on a 3-master Redis Cluster: every key of a session (and of a long-poll connection) is
// under one hash tag, so its scripts run in one slot; relay pub/sub crosses the cluster bus.
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServerFrame } from '../../src/core'
import { createLifelineServer } from '../../src/server'
import type { LifelineServer } from '../../src/server'
import { createRedisBroker } from '../../src/server/redis'
import type { RedisBroker } from '../../src/server/redis'
import { call, cleanup as cleanupRaw, connectReady, PollClient, pollUrl } from '../server/helpers'
import { startRedisCluster } from '../support/redis'
import type { RedisClusterInstance } from '../support/redis'

let redis: RedisClusterInstance
const clients: Cluster[] = []
const brokers: RedisBroker[] = []
const servers: LifelineServer[] = []

async function node(): Promise<LifelineServer> {
  const client = new Cluster(redis.startupNodes.map((address) => ({ ...address })))
  clients.push(client)
  const broker = createRedisBroker({ client, keyPrefix: 'rc:' })
  brokers.push(broker)
  await broker.ready()
  const server = await createLifelineServer({ port: 0, broker, longPoll: { pollTimeoutMs: 1000 } })
  servers.push(server)
  return server
}

beforeAll(async () => {
  redis = await startRedisCluster()
})

afterAll(async () => {
  await cleanupRaw()
  await Promise.all(servers.map((server) => server.close()))
  await Promise.all(brokers.map((broker) => broker.close()))
  for (const client of clients) client.disconnect()
  await redis?.stop()
})

describe('cross-node state on a Redis Cluster', () => {
  it('resumes sessions, dedupes publishes and forwards long-poll across nodes, over many slots', async () => {
    const a = await node()
    const b = await node()
    // Several sessions, so that their hash tags land on different masters.
    for (let round = 0; round < 6; round++) {
      const first = await connectReady(a.url)
      const { session } = first.welcome
      first.client.send({ type: 'pub', id: 'm', ch: `c${String(round)}`, data: round })
      expect(await first.client.next('ack')).toEqual({ type: 'ack', id: 'm' })
      const second = await connectReady(b.url, { session })
      expect(second.welcome.resumed).toBe(true)
      second.client.send({ type: 'pub', id: 'm', ch: `c${String(round)}`, data: round })
      expect(await second.client.next('ack')).toEqual({ type: 'ack', id: 'm' })
      expect(await first.client.closed()).toMatchObject({ code: 1008 })
      expect((await b.broker.history(`c${String(round)}`, undefined)).head.seq).toBe(1)
    }
    const opened = await call(pollUrl(a), { method: 'POST', body: JSON.stringify([{ type: 'hello', v: 1 }]) })
    const id = opened.headers.get('Lifeline-Connection') ?? ''
    const onB = new PollClient(pollUrl(b), id)
    expect(((await onB.next('welcome')) as Extract<ServerFrame, { type: 'welcome' }>).resumed).toBe(false)
  })
})
