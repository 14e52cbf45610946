// The embedded reference server of `npm start` and of the Storybook test project: the lifeline server
// (createLifelineServer, through the testing kit's createTestServer) behind the fault proxy, plus an HTTP control API
// on a port of its own for the stories' fault panel. Node only. scripts/start.mjs bundles this file with esbuild on
// the fly; the vitest global setup imports it directly.
import { createFaultProxy, createTestServer, type FaultProxy, type TestServer } from '../src/testing'
import { startControlApi, type ControlAction } from './control-api'

/** Options of {@link startLifelineDevServer}. */
export interface LifelineDevServerOptions {
  /** Browser origins allowed to connect (WebSocket, long-poll) and to call the control API, compared exactly. */
  allowedOrigins: readonly string[]
  /**
   * Port of the fault proxy, the address clients connect to; a busy port is swapped for a free one.
   * @default 0
   */
  port?: number
  /**
   * Port of the control API; a busy port is swapped for a free one.
   * @default 0
   */
  controlPort?: number
  /**
   * Where one line per control action goes.
   * @default no logging
   */
  log?: (line: string) => void
}

/** What the control API reports (`GET /__control/state`, and after every action). */
export interface LifelineDevServerState {
  /** One server (`npm start`); `npm run start:cluster` answers `'cluster'` (scripts/lifeline-cluster-dev-server.ts). */
  mode: 'single'
  /** False after `kill` until `restart`: connections are dropped and refused. */
  up: boolean
  /** True while the proxy drops every byte (half-open links). */
  blackholed: boolean
  /** HTTP status the proxy answers every new connection with, `null` when it forwards them. */
  rejectStatus: number | null
  /** True while the proxy refuses WebSocket upgrades but lets plain HTTP (long-poll, probes) through. */
  webSocketBlocked: boolean
  /** Open WebSocket connections on the server. */
  connections: number
  /** WebSocket connections accepted since start. */
  totalConnections: number
  /** Connections through the proxy (WebSocket and HTTP). */
  proxyConnections: number
  /** Epoch ms of a pending `restart-after`, else `null`. */
  restartAt: number | null
}

/** The running servers. */
export interface LifelineDevServer {
  /** `ws://127.0.0.1:<proxy port>/lifeline`: what clients connect to (long-poll at `<url>/poll` over http). */
  readonly url: string
  /** `http://127.0.0.1:<control port>/__control`. */
  readonly controlUrl: string
  /** The server behind the proxy (for tests). */
  readonly server: TestServer
  /** The fault proxy (for tests). */
  readonly proxy: FaultProxy
  /** The state the control API reports. */
  state(): LifelineDevServerState
  /** Stops the control API, the proxy and the server. Idempotent. */
  close(): Promise<void>
}

const HOST = '127.0.0.1'

/** Close codes the panel may send, each with the reason the server gives. */
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

/** A proxy on `preferred` when that port is free, else on one the system picks. */
async function proxyOn(target: string, preferred: number): Promise<FaultProxy> {
  try {
    return await createFaultProxy({ target, host: HOST, port: preferred })
  } catch (error) {
    if (preferred === 0) throw error
    return createFaultProxy({ target, host: HOST, port: 0 })
  }
}

/**
 * Starts the reference server on a free port, the fault proxy in front of it and the control API. The server's
 * heartbeat is short (5 s) so the panel's faults show quickly; everything else keeps the server's defaults.
 */
export async function startLifelineDevServer(options: LifelineDevServerOptions): Promise<LifelineDevServer> {
  const { allowedOrigins, log = () => undefined } = options
  const server = await createTestServer({
    allowedOrigins,
    heartbeat: { intervalMs: 5000 },
  })
  const proxy = await proxyOn(server.url, options.port ?? 0)
  const url = `ws://${HOST}:${String(proxy.port)}/lifeline`

  let rejectStatus: number | null = null
  let restartTimer: ReturnType<typeof setTimeout> | null = null
  let restartAt: number | null = null
  const cancelRestart = (): void => {
    if (restartTimer !== null) clearTimeout(restartTimer)
    restartTimer = null
    restartAt = null
  }

  const state = (): LifelineDevServerState => ({
    mode: 'single',
    up: server.listening,
    blackholed: proxy.faults.blackhole,
    rejectStatus,
    webSocketBlocked: proxy.faults.blockWebSocket !== null,
    connections: server.connections,
    totalConnections: server.totalConnections,
    proxyConnections: proxy.connections,
    restartAt,
  })

  /** Each action returns an error message for bad input, else nothing. */
  const actions: Record<string, ControlAction> = {
    kill: async () => {
      cancelRestart()
      await server.kill()
    },
    restart: async () => {
      cancelRestart()
      await server.restart()
    },
    'restart-after': async (query) => {
      const ms = Number(query.get('ms') ?? 3000)
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) return 'ms must be an integer 0-60000'
      cancelRestart()
      await server.kill()
      restartAt = Date.now() + ms
      restartTimer = setTimeout(() => {
        restartTimer = null
        restartAt = null
        server.restart().catch((error: unknown) => log(`restart failed: ${String(error)}`))
      }, ms)
    },
    blackhole: () => proxy.blackhole(),
    // restore() clears every proxy mode: put back the ones that have buttons of their own.
    unblackhole: () => {
      const blocked = proxy.faults.blockWebSocket
      proxy.restore()
      if (rejectStatus !== null) proxy.rejectUpgrade(rejectStatus)
      if (blocked !== null) proxy.blockWebSocket(blocked)
    },
    close: (query) => {
      const code = Number(query.get('code'))
      const reason = closeReasons[code]
      if (reason === undefined) return `code must be one of ${Object.keys(closeReasons).join(', ')}`
      // 4003 for real: the session is forgotten, so the client cannot resume it.
      if (code === 4003) server.expireSessions()
      else server.closeClients(code, reason)
    },
    terminate: () => void server.terminateClients(),
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
      await server.publish(channel, { from: 'server', text, at: Date.now() })
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
    url,
    controlUrl: control.url,
    server,
    proxy,
    state,
    close() {
      closing ??= (async () => {
        cancelRestart()
        await control.close()
        await proxy.close()
        await server.close()
      })()
      return closing
    },
  }
}
