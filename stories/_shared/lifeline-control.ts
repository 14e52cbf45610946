/** What the embedded server's control API reports (scripts/lifeline-dev-server.ts). */
export interface LifelineServerState {
  /** `npm start` runs one server; `npm run start:cluster` runs nodes over Redis behind a balancer. */
  mode: 'single' | 'cluster'
  /** False after `kill` until `restart`. */
  up: boolean
  /** The proxy drops every byte (half-open links). */
  blackholed: boolean
  /** Status every new connection is refused with, or `null`. */
  rejectStatus: number | null
  /** WebSocket upgrades are refused while plain HTTP (long-poll) passes. */
  webSocketBlocked: boolean
  /** Open WebSocket connections on the server. */
  connections: number
  /** WebSocket connections accepted since start. */
  totalConnections: number
  /** Connections through the proxy (WebSocket and long-poll HTTP). */
  proxyConnections: number
  /** Epoch ms of a pending restart, else `null`. */
  restartAt: number | null
  /** Cluster mode: each node process and the balancer's connections to it. */
  nodes?: ReadonlyArray<{ index: number; up: boolean; connections: number }>
  /** Cluster mode: the redis-server is running. */
  redisUp?: boolean
}

/** A fault or action of the control API, by endpoint name. */
export type LifelineServerAction =
  | 'kill'
  | 'restart'
  | 'restart-after'
  | 'blackhole'
  | 'unblackhole'
  | 'close'
  | 'terminate'
  | 'reject'
  | 'accept'
  | 'block-websocket'
  | 'unblock-websocket'
  | 'publish'
  | 'kill-node'
  | 'restart-node'
  | 'stop-redis'
  | 'start-redis'

/** Client of the control API. */
export interface LifelineControl {
  /** Runs one action; resolves with the state after it, rejects with a readable error. */
  run(action: LifelineServerAction, params?: Readonly<Record<string, string | number>>): Promise<LifelineServerState>
  /** The current state. */
  state(): Promise<LifelineServerState>
}

async function request(url: string, method: 'GET' | 'POST'): Promise<LifelineServerState> {
  let response: Response
  try {
    response = await fetch(url, { method })
  } catch (error) {
    throw new Error(`Control API unreachable at ${url} (is npm start still running?)`, { cause: error })
  }
  const body = (await response.json()) as { state?: LifelineServerState; error?: string }
  if (!response.ok || !body.state) throw new Error(body.error ?? `Control API answered ${String(response.status)}`)
  return body.state
}

/** Creates the client of the control API at `baseUrl` (`http://host:port/__control`). */
export function createLifelineControl(baseUrl: string): LifelineControl {
  return {
    run(action, params = {}) {
      const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)])).toString()
      return request(`${baseUrl}/${action}${query ? `?${query}` : ''}`, 'POST')
    },
    state: () => request(`${baseUrl}/state`, 'GET'),
  }
}
