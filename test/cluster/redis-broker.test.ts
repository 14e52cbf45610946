// createRedisBroker against real redis-server processes (test/support/redis.ts): the Broker contract the memory broker
// passes, then what only a shared, fallible store can show: two nodes, lost links, lost data, a 3-master Cluster.
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { InvalidOptionsError } from '../../src/core'
import type { BrokerMessage } from '../../src/server'
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '../../src/server/redis'
import { describeBrokerContract, uniqueChannel } from '../support/broker-contract'
import { startRedis, startRedisCluster, type RedisClusterInstance, type RedisInstance } from '../support/redis'

let redis: RedisInstance
let cluster: RedisClusterInstance
let clusterClient: Cluster
const brokers: RedisBroker[] = []

beforeAll(async () => {
  ;[redis, cluster] = await Promise.all([startRedis(), startRedisCluster()])
  clusterClient = new Cluster(cluster.startupNodes.map((node) => ({ ...node })))
})

afterAll(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.close()))
  clusterClient?.disconnect()
  await Promise.all([redis?.stop(), cluster?.stop()])
})

async function broker(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
  const created = createRedisBroker(options.client ? options : { url: redis.url, ...options })
  brokers.push(created)
  await created.ready()
  return created
}

/** Collects a channel's deliveries and checks each one continues the last: same epoch and seq + 1, or a new epoch. */
function recorder() {
  const seen: BrokerMessage[] = []
  const problems: string[] = []
  const listener = (message: BrokerMessage): void => {
    const last = seen.at(-1)
    if (last && last.epoch === message.epoch && message.seq !== last.seq + 1) {
      problems.push(`${message.channel}: seq ${String(message.seq)} after ${String(last.seq)}`)
    }
    seen.push(message)
  }
  return { seen, problems, listener }
}

describeBrokerContract('redis (single server)', (options) => broker(options))
describeBrokerContract('redis (3-master Cluster)', (options) => broker({ client: clusterClient, ...options }))

describe('createRedisBroker', () => {
  it('lists every bad option in one InvalidOptionsError', () => {
    try {
      createRedisBroker({ windowMs: -1, keyPrefix: 'a{b}', url: 'http://x', idleTtlMs: 0 })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError)
      expect((error as InvalidOptionsError).issues.map((issue) => issue.field)).toEqual([
        'windowMs',
        'idleTtlMs',
        'keyPrefix',
        'url',
      ])
    }
  })

  it('keeps every key of a channel in one Cluster slot', async () => {
    const node = await broker({ client: clusterClient, keyPrefix: 'slots:' })
    const channel = uniqueChannel('a}b{c')
    await node.publish(channel, '1')
    const keys = (await Promise.all(clusterClient.nodes('master').map((master) => master.keys('slots:*')))).flat()
    expect(keys).toHaveLength(2)
    const slots = await Promise.all(keys.map((key) => clusterClient.cluster('KEYSLOT', key)))
    expect(new Set(slots).size).toBe(1)
  })

  it('fans out the publishes of two nodes to both, in one order, without gap or duplicate', async () => {
    const [a, b] = await Promise.all([broker(), broker()])
    const channel = uniqueChannel('two-nodes')
    const atA = recorder()
    const atB = recorder()
    await a.subscribe(channel, atA.listener)
    await b.subscribe(channel, atB.listener)
    const publishes = Array.from({ length: 200 }, (_, index) => (index % 2 === 0 ? a : b).publish(channel, `${index}`))
    const positions = await Promise.all(publishes)
    expect(positions.map((position) => position.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 200 }, (_, index) => index + 1),
    )
    await vi.waitFor(() => expect(atA.seen).toHaveLength(200))
    await vi.waitFor(() => expect(atB.seen).toHaveLength(200))
    expect(atA.problems).toEqual([])
    expect(atB.seen).toEqual(atA.seen)
  })

  it.each(['single server', 'Cluster'] as const)(
    'backfills what a node missed while its pub/sub link was down: no gap, no duplicate, in order (%s)',
    async (where) => {
      const options: RedisBrokerOptions = where === 'Cluster' ? { client: clusterClient } : {}
      const [a, b] = await Promise.all([broker(options), broker(options)])
      const channel = uniqueChannel('dropped')
      const atB = recorder()
      await b.subscribe(channel, atB.listener)
      const statuses: string[] = []
      b.onHealth((health) => statuses.push(health.status))
      let published = 0
      const publishing = (async () => {
        const until = Date.now() + 1500
        while (Date.now() < until) {
          await a.publish(channel, `${published}`)
          published += 1
        }
      })()
      await new Promise((resolve) => setTimeout(resolve, 200))
      // Every pub/sub connection of the server (both nodes'): what is published until they are back is only in streams.
      const servers = where === 'Cluster' ? cluster.nodes : [redis]
      await Promise.all(servers.map((server) => server.cli('CLIENT', 'KILL', 'TYPE', 'pubsub')))
      await publishing
      await vi.waitFor(() => expect(atB.seen).toHaveLength(published), { timeout: 10_000 })
      expect(statuses).toContain('down')
      expect(atB.problems).toEqual([])
      expect(atB.seen.map((message) => message.payload)).toEqual(Array.from({ length: published }, (_, i) => `${i}`))
    },
  )

  it('trims by age: a message older than windowMs is not replayed', async () => {
    const node = await broker({ windowMs: 300 })
    const channel = uniqueChannel('age')
    const { epoch } = await node.publish(channel, '1')
    await new Promise((resolve) => setTimeout(resolve, 450))
    await node.publish(channel, '2')
    expect(await node.history(channel, { epoch, seq: 0 })).toMatchObject({ resumed: false, messages: [] })
    expect((await node.history(channel, { epoch, seq: 1 })).messages.map((message) => message.seq)).toEqual([2])
    await new Promise((resolve) => setTimeout(resolve, 450))
    // Expired without a publish since: history still refuses it, and the head is still current.
    expect(await node.history(channel, { epoch, seq: 1 })).toMatchObject({ resumed: false })
    expect(await node.history(channel, { epoch, seq: 2 })).toMatchObject({ resumed: true, messages: [] })
  })

  it('covers many channels over the 3 masters, each with its own ordered stream', async () => {
    const [a, b] = await Promise.all([
      broker({ client: clusterClient, keyPrefix: 'many:' }),
      broker({ client: clusterClient, keyPrefix: 'many:' }),
    ])
    const channels = Array.from({ length: 40 }, (_, index) => uniqueChannel(`many-${index}`))
    const recorders = channels.map(() => recorder())
    await Promise.all(channels.map((channel, index) => b.subscribe(channel, recorders[index]!.listener)))
    await Promise.all(
      channels.map(async (channel) => {
        for (let index = 0; index < 10; index += 1) await (index % 2 ? a : b).publish(channel, `${index}`)
      }),
    )
    for (const [index, channel] of channels.entries()) {
      const seen = recorders[index]!
      await vi.waitFor(() => expect(seen.seen).toHaveLength(10))
      expect(seen.problems).toEqual([])
      const history = await a.history(channel, { epoch: seen.seen[0]!.epoch, seq: 0 })
      expect(history.messages).toEqual(seen.seen)
    }
    const perMaster = await Promise.all(clusterClient.nodes('master').map((master) => master.keys('many:*')))
    for (const keys of perMaster) expect(keys.length).toBeGreaterThan(0)
  })
})

describe('createRedisBroker when Redis fails', () => {
  it('refuses publishes promptly while Redis is down, says so, and recovers', async () => {
    const node = await broker()
    const channel = uniqueChannel('down')
    await node.publish(channel, '1')
    const changes: string[] = []
    node.onHealth((health) => changes.push(health.status))
    await redis.kill()
    await vi.waitFor(() => expect(node.status()).toBe('reconnecting'))
    const started = Date.now()
    await expect(node.publish(channel, '2')).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' })
    expect(Date.now() - started).toBeLessThan(2500)
    expect(node.health().status).toBe('down')
    expect(node.lastError).toBeInstanceOf(Error)
    await expect(node.history(channel, undefined)).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' })
    await expect(node.subscribe(uniqueChannel('other'), () => undefined)).rejects.toMatchObject({
      code: 'BROKER_UNAVAILABLE',
    })
    expect(Date.now() - started).toBeLessThan(2500)
    await redis.start()
    await node.ready()
    expect(changes).toEqual(['down', 'ok'])
    expect((await node.publish(channel, '3')).seq).toBe(1)
  })

  it('starts a new epoch when Redis restarts without its data; resuming across it is refused', async () => {
    const [a, b] = await Promise.all([broker(), broker()])
    const channel = uniqueChannel('restart')
    const atB = recorder()
    await b.subscribe(channel, atB.listener)
    const before = await a.publish(channel, 'old')
    await vi.waitFor(() => expect(atB.seen).toHaveLength(1))
    await redis.restart({ keepData: false })
    await Promise.all([a.ready(), b.ready()])
    const history = await a.history(channel, before)
    expect(history.resumed).toBe(false)
    expect(history.messages).toEqual([])
    expect(history.head.epoch).not.toBe(before.epoch)
    const after = await a.publish(channel, 'new')
    expect(after).toEqual({ epoch: history.head.epoch, seq: 1 })
    await vi.waitFor(() => expect(atB.seen).toHaveLength(2))
    expect(atB.seen[1]).toEqual({ channel, epoch: after.epoch, seq: 1, payload: 'new' })
  })

  it('keeps a passed-in client open after close()', async () => {
    const client = new Redis(redis.url)
    const node = createRedisBroker({ client })
    await node.ready()
    await node.close()
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
  })
})
