import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../integration/helpers'
import { startCluster, type Cluster } from './support/cluster'
import { createMultiChecker } from './support/multi-checker'
import { createSwarm, drain, publishStamped, subscribe, withdrawFailures } from './support/swarm'
import type { SwarmClient } from './support/swarm'

// Long-poll across nodes (issue 11): clients forced onto HTTP long-poll from their first connection, behind the
// round-robin balancer with no stickiness at all (every HTTP request gets `Connection: close`, so each poll and each
// POST goes to the next node), pass the same sequence check as the WebSocket clients, through a node kill.

const NODES = 3
const CLIENTS = 30
const CHANNELS = 10
const CHANNELS_PER_CLIENT = 5
const PUBLISH_EVERY_MS = 1000
const PUBLISH_TICK_MS = 100
const DURATION_MS = 20_000
const KILL_AT_MS = 7000
const NODE_DOWN_MS = 4000
const DRAIN_TIMEOUT_MS = 30_000

const NAME = 'longpoll'
const channel = (index: number): string => `lp-${String(index % CHANNELS)}`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let cluster: Cluster
const applied = new Map<string, number>()

beforeAll(async () => {
  cluster = await startCluster({
    nodes: NODES,
    node: {
      resumeWindowMs: 120_000,
      onPublished: (items) => {
        for (const [, data] of items) {
          const { p, n } = data as { p: string; n: number }
          applied.set(`${p} ${String(n)}`, (applied.get(`${p} ${String(n)}`) ?? 0) + 1)
        }
      },
    },
  })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
}, 30_000)

describe('long-poll across nodes, no sticky sessions (issue 11)', () => {
  it(`${String(CLIENTS)} long-poll clients behind the round-robin balancer, a node killed: in order, 0 lost, 0 duplicated, each publish applied once`, async () => {
    const checker = createMultiChecker()
    const swarm = await createSwarm({ url: cluster.url, count: CLIENTS, longPoll: true })
    const refused: unknown[] = []
    const failures: unknown[] = []
    try {
      swarm.clients.forEach((entry, index) => {
        const step = CHANNELS / CHANNELS_PER_CLIENT
        subscribe(
          entry,
          checker,
          Array.from({ length: CHANNELS_PER_CLIENT }, (_, k) => channel(index + k * step)),
        )
        withdrawFailures(entry, checker, failures)
      })
      await waitFor(
        () => swarm.clients.every((entry) => entry.subscribed.size === CHANNELS_PER_CLIENT),
        30_000,
        'every client subscribed',
      )
      // The clients run the WebSocket stack over the long-poll transport: the nodes see long-poll connections only.
      const stats = await cluster.stats()
      expect(stats.reduce((sum, each) => sum + (each?.longPolls ?? 0), 0)).toBe(CLIENTS)
      expect(stats.reduce((sum, each) => sum + (each?.connections ?? 0), 0)).toBe(CLIENTS)
      const before = cluster.balancer.upstreams.map((upstream) => upstream.forwarded)

      const started = performance.now()
      checker.start()
      let turn = 0
      const perTick = Math.max(1, Math.round((CLIENTS * PUBLISH_TICK_MS) / PUBLISH_EVERY_MS))
      const publisher = setInterval(() => {
        for (let count = 0; count < perTick; count++) {
          const index = turn++ % CLIENTS
          publishStamped(swarm.clients[index] as SwarmClient, checker, channel(index), refused)
        }
      }, PUBLISH_TICK_MS)
      try {
        await sleep(KILL_AT_MS)
        await cluster.killNode(1)
        await sleep(NODE_DOWN_MS)
        await cluster.startNode(1)
        await sleep(Math.max(0, started + DURATION_MS - performance.now()))
      } finally {
        clearInterval(publisher)
      }
      const drained = await drain(swarm.clients, checker, DRAIN_TIMEOUT_MS)
      const drainMs = drained.ms
      console.log(
        `[${NAME}] drained in ${(drainMs / 1000).toFixed(1)} s: outboxes ${JSON.stringify(drained.outbox)}, ` +
          `${String(drained.outstanding)} deliveries outstanding (excused only after a gap)`,
      )

      const report = checker.report()
      const published = checker.publishedCount() - checker.withdrawnCount()
      const requests = cluster.balancer.upstreams.map((upstream, index) => upstream.forwarded - (before[index] ?? 0))
      const twice = [...applied.values()].filter((count) => count > 1).length
      console.log(
        `[longpoll] ${String(CLIENTS)} clients, ${String(published)} publishes, ${String(report.delivered)} deliveries, ` +
          `HTTP requests per node ${requests.join(' / ')}; lost ${String(report.lost)}, duplicated ${String(report.duplicated)}, ` +
          `gaps ${String(Object.keys(report.gaps).length)}, applied ${String(applied.size)} (twice: ${String(twice)}), ` +
          `refused ${String(refused.length)}, failed ${String(failures.length)}`,
      )
      expect(report.violations).toEqual([])
      expect(drained.outbox).toMatchObject({ queued: 0, inFlight: 0 })
      expect(report).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, gaps: {} })
      expect(refused).toEqual([])
      expect(failures).toEqual([])
      expect(twice).toBe(0)
      // Applied: every acked publish reached every subscriber (lost 0); a node killed after applying one and before
      // reporting it leaves it unreported (its resend is only acknowledged).
      expect(applied.size).toBeLessThanOrEqual(published)
      // No stickiness: every node served a fair share of the requests (node 1 was down for a fifth of the run).
      expect(Math.min(...requests)).toBeGreaterThan(Math.max(...requests) / 4)
      expect(Math.min(...requests)).toBeGreaterThan(CLIENTS)
    } finally {
      swarm.dispose()
    }
  }, 120_000)
})
