// The embedded reference server of `npm start` and of the Storybook test project: the lifeline server
// (createLifelineServer, through the testing kit's createTestServer) behind the fault proxy, plus an HTTP control API
// on a port of its own for the stories' fault panel. Node only. scripts/start.mjs bundles this file with esbuild on
// the fly; the vitest global setup imports it directly.
import { createTestServer, type FaultProxy, type TestServer } from '../src/testing'
import { HOST, proxyOn, startDevControl } from './dev-server-control'

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

/**
 * Starts the reference server on a free port, the fault proxy in front of it and the control API. The server's
 * heartbeat is short (5 s) so the panel's faults show quickly; everything else keeps the server's defaults.
 */
export async function startLifelineDevServer(options: LifelineDevServerOptions): Promise<LifelineDevServer> {
  const server = await createTestServer({
    allowedOrigins: options.allowedOrigins,
    heartbeat: { intervalMs: 5000 },
  })
  const proxy = await proxyOn(server.url, options.port ?? 0)
  const url = `ws://${HOST}:${String(proxy.port)}/lifeline`

  const control = await startDevControl(options, {
    proxy,
    backend: {
      kill: () => server.kill(),
      restart: () => server.restart(),
      closeClients: (code, reason) => {
        // 4003 for real: the session is forgotten, so the client cannot resume it.
        if (code === 4003) server.expireSessions()
        else server.closeClients(code, reason)
      },
      terminate: () => void server.terminateClients(),
      publish: async (channel, message) => {
        await server.publish(channel, message)
      },
      stop: () => server.close(),
    },
    state: (shared): LifelineDevServerState => ({
      mode: 'single',
      up: server.listening,
      blackholed: shared.blackholed,
      rejectStatus: shared.rejectStatus,
      webSocketBlocked: shared.webSocketBlocked,
      connections: server.connections,
      totalConnections: server.totalConnections,
      proxyConnections: shared.proxyConnections,
      restartAt: shared.restartAt,
    }),
  })
  return { url, controlUrl: control.controlUrl, server, proxy, state: control.state, close: control.close }
}
