// A lifeline cluster for the `cluster` tests: a real redis-server (test/support/redis.ts), N real node processes
// (scripts/cluster-node.ts via scripts/cluster-nodes.mjs, each createLifelineServer over createRedisBroker) and the
// testing kit's fault proxy as a round-robin balancer in front of them, in the test process.
import { createFaultProxy } from '../../../src/testing'
import type { FaultProxy } from '../../../src/testing'
import { startClusterNode } from '../../../scripts/cluster-nodes.mjs'
import type { ClusterNode, ClusterNodeOptions } from '../../../scripts/cluster-nodes.mjs'
import { startRedis } from '../../support/redis'
import type { RedisInstance, StartRedisOptions } from '../../support/redis'

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /**
   * Node processes.
   * @default 3
   */
  nodes?: number
  /** Options of the redis-server. @default `{ appendonly: true }`, so a stop and start keeps the data */
  redis?: StartRedisOptions
  /** Options every node gets (not `redisUrl` or `port`). @default {} */
  node?: Omit<ClusterNodeOptions, 'redisUrl' | 'port' | 'name'>
  /** Balancer: each plain HTTP request balanced on its own. @default true */
  perRequest?: boolean
}

/** A running cluster. */
export interface Cluster {
  readonly redis: RedisInstance
  readonly nodes: readonly ClusterNode[]
  /** The balancer (`createFaultProxy` with one upstream per node, in node order). */
  readonly balancer: FaultProxy
  /** `ws://127.0.0.1:<balancer port>/lifeline`: what clients connect to (long-poll at `…/poll` over http). */
  readonly url: string
  /** SIGKILL node `index` (its clients' connections die with it, as in production). */
  killNode(index: number): Promise<void>
  /** Starts node `index` again on its port. */
  startNode(index: number): Promise<void>
  /** Every node's `stats()` (null for a node that is down). */
  stats(): Promise<Array<Awaited<ReturnType<ClusterNode['stats']>> | null>>
  /** Kills every node, the balancer and Redis. Idempotent. */
  stop(): Promise<void>
}

/** Starts Redis, then the nodes in parallel, then the balancer in front of them. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis(options.redis ?? { appendonly: true })
  const nodes: ClusterNode[] = []
  let balancer: FaultProxy | null = null
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await balancer?.close()
      await Promise.all(nodes.map((node) => node.kill('SIGKILL')))
      await redis.stop()
    })())
  try {
    const started = await Promise.all(
      Array.from({ length: options.nodes ?? 3 }, (_, index) =>
        startClusterNode({ ...options.node, redisUrl: redis.url, name: `node-${String(index)}` }),
      ),
    )
    nodes.push(...started)
    balancer = await createFaultProxy({
      target: nodes.map((node) => node.url),
      ...(options.perRequest === undefined ? {} : { perRequest: options.perRequest }),
    })
  } catch (error) {
    await stop()
    throw error
  }
  const proxy = balancer
  const node = (index: number): ClusterNode => {
    const found = nodes[index]
    if (!found) throw new Error(`no node ${String(index)}`)
    return found
  }
  return {
    redis,
    nodes,
    balancer: proxy,
    url: `${proxy.url}/lifeline`,
    killNode: (index) => node(index).kill('SIGKILL'),
    startNode: (index) => node(index).start(),
    stats: () => Promise.all(nodes.map((each) => (each.running ? each.stats().catch(() => null) : null))),
    stop,
  }
}
