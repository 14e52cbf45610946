/** What the playground's echo server reports about itself (`GET /__control/state`, and after every action). */
export interface EchoServerState {
  /** False after `kill` until `restart`: sockets are terminated and upgrades dropped, but the control API answers. */
  up: boolean
  /** HTTP status every upgrade is refused with, `null` when upgrades are accepted. */
  rejectStatus: number | null
  /** Open WebSocket connections. */
  connections: number
  /** Connections accepted since the server started. */
  totalConnections: number
  /** Epoch ms of a pending `restart-after`, else `null`. */
  restartAt: number | null
}

/** A fault the panel can inject, by name of its control endpoint. */
export type EchoAction = 'kill' | 'restart' | 'restart-after' | 'close' | 'terminate' | 'reject' | 'accept'

/** Client of the echo server's HTTP control API (served by scripts/start.mjs on the same port as the WebSocket). */
export interface EchoControl {
  /** `http://host:port/__control`. */
  readonly baseUrl: string
  /** Runs one action; resolves with the server state after it, rejects with a readable error. */
  run(action: EchoAction, params?: Readonly<Record<string, string | number>>): Promise<EchoServerState>
  /** The current server state. */
  state(): Promise<EchoServerState>
}

/** The control API that belongs to a `ws://host:port` echo URL. */
export function controlUrlFor(url: string): string {
  const parsed = new URL(url)
  parsed.protocol = parsed.protocol === 'wss:' ? 'https:' : 'http:'
  parsed.pathname = '/__control'
  parsed.search = ''
  return parsed.href
}

async function request(url: string, method: 'GET' | 'POST'): Promise<EchoServerState> {
  let response: Response
  try {
    response = await fetch(url, { method })
  } catch (error) {
    throw new Error(`Control API unreachable at ${url} (start the playground with npm start)`, { cause: error })
  }
  const body = (await response.json()) as { state?: EchoServerState; error?: string }
  if (!response.ok || !body.state) throw new Error(body.error ?? `Control API answered ${String(response.status)}`)
  return body.state
}

/** Creates the control API client for an echo server URL. */
export function createEchoControl(url: string): EchoControl {
  const baseUrl = controlUrlFor(url)
  return {
    baseUrl,
    run(action, params = {}) {
      const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]))
      const search = query.toString()
      return request(`${baseUrl}/${action}${search ? `?${search}` : ''}`, 'POST')
    },
    state: () => request(`${baseUrl}/state`, 'GET'),
  }
}
