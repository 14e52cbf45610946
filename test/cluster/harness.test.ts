import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createLifeline, lifelineProtocol } from '../../src/core'
import type { LifelineClient, WebSocketConstructor } from '../../src/core'
import { waitFor, waitForStatus } from '../integration/helpers'
import { startCluster, type Cluster } from './support/cluster'

// The cluster harness itself: real node processes over a real Redis behind the balancer.

let cluster: Cluster
const clients: LifelineClient[] = []

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 })
}, 60_000)

afterAll(async () => {
  for (const client of clients) client.dispose()
  await cluster?.stop()
}, 30_000)

function client(): { client: LifelineClient; received: unknown[]; subscribed: () => boolean } {
  const protocol = lifelineProtocol()
  const lifeline = createLifeline({
    url: cluster.url,
    protocol,
    environment: { WebSocket: WebSocket as unknown as WebSocketConstructor },
    minDelayMs: 50,
    maxDelayMs: 500,
  })
  clients.push(lifeline)
  const received: unknown[] = []
  let subscribed = false
  protocol.channel('room', {
    message: (message) => received.push(message.data),
    status: (status) => {
      if (status.state === 'subscribed') subscribed = true
    },
  })
  return { client: lifeline, received, subscribed: () => subscribed }
}

describe('the cluster harness', () => {
  it('spreads clients over the node processes round-robin, and a message published on one node reaches all', async () => {
    const entries = Array.from({ length: 6 }, () => client())
    for (const entry of entries) await waitForStatus(entry.client, 'open', 10_000)
    expect(cluster.balancer.upstreams.map((upstream) => upstream.connections)).toEqual([2, 2, 2])
    const stats = await cluster.stats()
    expect(stats.map((each) => each?.connections)).toEqual([2, 2, 2])
    await waitFor(() => entries.every((entry) => entry.subscribed()), 5000, 'everyone subscribed')
    await cluster.nodes[1]!.publish('room', 'hello')
    await waitFor(() => entries.every((entry) => entry.received.length === 1), 5000, 'everyone got it')
  }, 30_000)

  it('kills a node with SIGKILL and starts it again on the same port', async () => {
    const pid = cluster.nodes[2]!.pid
    await cluster.killNode(2)
    expect(cluster.nodes[2]!.running).toBe(false)
    await cluster.startNode(2)
    expect(cluster.nodes[2]!.running).toBe(true)
    expect(cluster.nodes[2]!.pid).not.toBe(pid)
  }, 30_000)
})
