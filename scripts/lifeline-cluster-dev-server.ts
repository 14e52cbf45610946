// The cluster of `npm run start:cluster`: a redis-server (temporary directory, free port, append-only file so a stop
// and start keeps its data), three lifeline node processes over createRedisBroker (scripts/cluster-nodes.mjs), the
// testing kit's fault proxy as a round-robin balancer in front of them, and the same control API as the single
// server's (scripts/lifeline-dev-server.ts) with `mode: 'cluster'` in its state and four more actions for the fault
// panel: `kill-node?index=N`, `restart-node?index=N`, `stop-redis`, `start-redis`. scripts/start.mjs bundles it.
import { createFaultProxy, type FaultProxy } from '../src/testing'
import { startRedis } from '../test/support/redis'
import { startClusterNode, type ClusterNode } from './cluster-nodes.mjs'
import { startControlApi, type ControlAction } from './control-api'
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

const closeReasons: Readonly<Record<number, string>> = {
  1001: 'server going away',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'internal error',
  1013: 'try again later',
  4001: 'token expired',
  4002: '{"retryAfterMs":5000}',
  4003: 'session expired',
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
    const target = nodes.map((node) => node.url)
    balancer = await createFaultProxy({ target, port: options.port ?? 0 }).catch(() =>
      createFaultProxy({ target, port: 0 }),
    )
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.kill()))
    await redis.stop()
    throw error
  }
  const proxy = balancer

  let rejectStatus: number | null = null
  let restartTimer: ReturnType<typeof setTimeout> | null = null
  let restartAt: number | null = null
  const cancelRestart = (): void => {
    if (restartTimer !== null) clearTimeout(restartTimer)
    restartTimer = null
    restartAt = null
  }
  const nodeAt = (query: URLSearchParams): ClusterNode | string => {
    const index = Number(query.get('index'))
    return nodes[index] ?? `index must be 0-${String(nodes.length - 1)}`
  }
  const running = (): ClusterNode[] => nodes.filter((node) => node.running)

  const state = (): LifelineClusterDevServerState => {
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
      blackholed: proxy.faults.blackhole,
      rejectStatus,
      webSocketBlocked: proxy.faults.blockWebSocket !== null,
      connections: perNode.reduce((sum, node) => sum + node.connections, 0),
      totalConnections: perNode.reduce((sum, node) => sum + node.totalConnections, 0),
      proxyConnections: proxy.connections,
      restartAt,
      nodes: perNode,
      redisUp: redis.running,
    }
  }

  const actions: Record<string, ControlAction> = {
    kill: async () => {
      cancelRestart()
      await Promise.all(nodes.map((node) => node.kill()))
    },
    restart: async () => {
      cancelRestart()
      await Promise.all(nodes.map((node) => node.start()))
    },
    'restart-after': async (query) => {
      const ms = Number(query.get('ms') ?? 3000)
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) return 'ms must be an integer 0-60000'
      cancelRestart()
      await Promise.all(nodes.map((node) => node.kill()))
      restartAt = Date.now() + ms
      restartTimer = setTimeout(() => {
        restartTimer = null
        restartAt = null
        Promise.all(nodes.map((node) => node.start())).catch((error: unknown) =>
          log(`restart failed: ${String(error)}`),
        )
      }, ms)
    },
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
    blackhole: () => proxy.blackhole(),
    unblackhole: () => {
      const blocked = proxy.faults.blockWebSocket
      proxy.restore()
      if (rejectStatus !== null) proxy.rejectUpgrade(rejectStatus)
      if (blocked !== null) proxy.blockWebSocket(blocked)
    },
    close: async (query) => {
      const code = Number(query.get('code'))
      const reason = closeReasons[code]
      if (reason === undefined) return `code must be one of ${Object.keys(closeReasons).join(', ')}`
      await Promise.all(running().map((node) => node.closeClients(code, reason)))
    },
    terminate: () => proxy.reset(),
    reject: (query) => {
      const status = Number(query.get('status'))
      if (status !== 401 && status !== 403) return 'status must be 401 or 403'
      rejectStatus = status
      proxy.rejectUpgrade(status)
    },
    accept: () => {
      rejectStatus = null
      proxy.acceptUpgrade()
    },
    'block-websocket': () => proxy.blockWebSocket('strip'),
    'unblock-websocket': () => proxy.unblockWebSocket(),
    publish: async (query) => {
      const channel = query.get('channel') ?? ''
      const text = query.get('text') ?? ''
      if (!channel || channel.length > 200 || text.length > 500) return 'channel (≤ 200) and text (≤ 500) required'
      const node = running()[0]
      if (!node) return 'every node is down'
      await node.publish(channel, { from: 'server', text, at: Date.now() })
    },
  }

  const control = await startControlApi({
    allowedOrigins,
    ...(options.controlPort === undefined ? {} : { port: options.controlPort }),
    state,
    actions,
    log,
  })

  let closing: Promise<void> | null = null
  return {
    url: `${proxy.url}/lifeline`,
    controlUrl: control.url,
    nodes,
    balancer: proxy,
    state,
    close() {
      closing ??= (async () => {
        cancelRestart()
        await control.close()
        await proxy.close()
        await Promise.all(nodes.map((node) => node.stop()))
        await redis.stop()
      })()
      return closing
    },
  }
}
