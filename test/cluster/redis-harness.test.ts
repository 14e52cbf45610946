import { afterAll, describe, expect, it } from 'vitest'
import { startRedis, startRedisCluster, type RedisClusterInstance, type RedisInstance } from '../support/redis'

describe('test/support/redis', () => {
  const started: (RedisInstance | RedisClusterInstance)[] = []
  afterAll(async () => {
    await Promise.all(started.map((instance) => instance.stop()))
  })

  it('starts a server, restarts it without its data, and stops it', async () => {
    const redis = await startRedis()
    started.push(redis)
    await redis.cli('SET', 'k', 'v')
    await redis.restart({ keepData: true })
    expect(await redis.cli('GET', 'k')).toBe('v')
    await redis.restart({ keepData: false })
    expect(await redis.cli('GET', 'k')).toBe('')
    await redis.stop()
    expect(redis.running).toBe(false)
  })

  it('starts a 3-master Cluster', async () => {
    const cluster = await startRedisCluster()
    started.push(cluster)
    expect(cluster.urls).toHaveLength(3)
    const info = await cluster.nodes[0]!.cli('CLUSTER', 'INFO')
    expect(info).toContain('cluster_known_nodes:3')
    expect(info).toContain('cluster_slots_assigned:16384')
  })
})
