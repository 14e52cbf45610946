// The cluster of `npm run start:cluster`: a redis-server (temporary directory, free port, append-only file so a stop
// and start keeps its data), three lifeline node processes over createRedisBroker (scripts/cluster-nodes.mjs), the
// testing kit's fault proxy as a round-robin balancer in front of them, and the same control API as the single
// server's (scripts/lifeline-dev-server.ts) with `mode: 'cluster'` in its state and four more actions for the fault
// panel: `kill-node?index=N`, `restart-node?index=N`, `stop-redis`, `start-redis`. scripts/start.mjs bundles it.
import type { FaultProxy } from '../src/testing'
import { startRedis } from '../test/support/redis'
import { startClusterNode, type ClusterNode } from './cluster-nodes.mjs'
import { proxyOn, startDevControl } from './dev-server-control'
import type { LifelineDevServerOptions, LifelineDevServerState } from './lifeline-dev-server'

/** Options of {@link startLifelineClusterDevServer}: those of the single server, plus the node count. */
export interface LifelineClusterDevServerOptions extends LifelineDevServerOptions {
  /**
   * Node processes behind the balancer.
   * @default 3
   */
  nodes?: number
}

/** One node in the control API's state. */
export interface ClusterNodeState {
  index: number
  /** The process is running. */
  up: boolean
  /** Its port (behind the balancer). */
  port: number
  /** Connections the balancer holds open to it (WebSocket and long-poll HTTP). */
  connections: number
  /** Connections the balancer sent it since start. */
  totalConnections: number
}

/** What the cluster's control API reports: the single server's fields, summed over the nodes, and each node's. */
export interface LifelineClusterDevServerState extends Omit<LifelineDevServerState, 'mode'> {
  mode: 'cluster'
  nodes: ClusterNodeState[]
  /** The redis-server process is running. */
  redisUp: boolean
}

/** The running cluster. */
export interface LifelineClusterDevServer {
  /** `ws://127.0.0.1:<balancer port>/lifeline`. */
  readonly url: string
  /** `http://127.0.0.1:<control port>/__control`. */
  readonly controlUrl: string
  readonly nodes: readonly ClusterNode[]
  readonly balancer: FaultProxy
  state(): LifelineClusterDevServerState
  /** Stops the control API, the balancer, the nodes and Redis. Idempotent. */
  close(): Promise<void>
}

/** Starts Redis, the nodes, the balancer and the control API. */
export async function startLifelineClusterDevServer(
  options: LifelineClusterDevServerOptions,
): Promise<LifelineClusterDevServer> {
  const { allowedOrigins, log = () => undefined } = options
  const redis = await startRedis({ appendonly: true })
  const nodes: ClusterNode[] = []
  let balancer: FaultProxy | null = null
  try {
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: options.nodes ?? 3 }, (_, index) =>
          startClusterNode({
            redisUrl: redis.url,
            name: `node-${String(index)}`,
            allowedOrigins,
            heartbeatMs: 5000,
            log,
          }),
        ),
      )),
    )
    balancer = await proxyOn(
      nodes.map((node) => node.url),
      options.port ?? 0,
    )
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.kill()))
    await redis.stop()
    throw error
  }
  const proxy = balancer

  const nodeAt = (query: URLSearchParams): ClusterNode | string => {
    const index = Number(query.get('index'))
    return nodes[index] ?? `index must be 0-${String(nodes.length - 1)}`
  }
  const running = (): ClusterNode[] => nodes.filter((node) => node.running)

  const control = await startDevControl(options, {
    proxy,
    backend: {
      kill: () => Promise.all(nodes.map((node) => node.kill())),
      restart: () => Promise.all(nodes.map((node) => node.start())),
      closeClients: (code, reason) => Promise.all(running().map((node) => node.closeClients(code, reason))),
      terminate: () => proxy.reset(),
      publish: async (channel, message) => {
        const node = running()[0]
        if (!node) return 'every node is down'
        await node.publish(channel, message)
      },
      stop: async () => {
        await Promise.all(nodes.map((node) => node.stop()))
        await redis.stop()
      },
    },
    state: (shared): LifelineClusterDevServerState => {
      const upstreams = proxy.upstreams
      const perNode = nodes.map((node, index) => ({
        index,
        up: node.running,
        port: node.port,
        connections: upstreams[index]?.connections ?? 0,
        totalConnections: upstreams[index]?.forwarded ?? 0,
      }))
      return {
        mode: 'cluster',
        up: nodes.every((node) => node.running),
        blackholed: shared.blackholed,
        rejectStatus: shared.rejectStatus,
        webSocketBlocked: shared.webSocketBlocked,
        connections: perNode.reduce((sum, node) => sum + node.connections, 0),
        totalConnections: perNode.reduce((sum, node) => sum + node.totalConnections, 0),
        proxyConnections: shared.proxyConnections,
        restartAt: shared.restartAt,
        nodes: perNode,
        redisUp: redis.running,
      }
    },
    actions: {
      'kill-node': async (query) => {
        const node = nodeAt(query)
        if (typeof node === 'string') return node
        await node.kill()
      },
      'restart-node': async (query) => {
        const node = nodeAt(query)
        if (typeof node === 'string') return node
        await node.start()
      },
      'stop-redis': () => redis.halt(),
      'start-redis': () => redis.start(),
    },
  })
  return {
    url: `${proxy.url}/lifeline`,
    controlUrl: control.controlUrl,
    nodes,
    balancer: proxy,
    state: control.state,
    close: control.close,
  }
}
