// The HTTP control API of the dev servers (scripts/lifeline-dev-server.ts, scripts/lifeline-cluster-dev-server.ts):
// `GET <base>/state` and `POST <base>/<action>?params`, on 127.0.0.1, callable from the allowed browser origins only.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

/** An action: returns an error message for bad input, else nothing. */
export type ControlAction = (query: URLSearchParams) => Promise<string | void> | string | void

/** Options of {@link startControlApi}. */
export interface ControlApiOptions {
  /** Browser origins allowed to call it, compared exactly. */
  allowedOrigins: readonly string[]
  /** Port; a busy one is swapped for a free one. @default 0 */
  port?: number
  /** What `GET …/state` answers (and every action after it ran). */
  state: () => unknown
  /** The actions, by name. */
  actions: Readonly<Record<string, ControlAction>>
  /** One line per action run. @default no logging */
  log?: (line: string) => void
}

/** The running control API. */
export interface ControlApi {
  /** `http://127.0.0.1:<port>/__control`. */
  readonly url: string
  /** Stops it. Idempotent. */
  close(): Promise<void>
}

const HOST = '127.0.0.1'
const CONTROL = '/__control'

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, () => {
      server.off('error', reject)
      resolve((server.address() as { port: number }).port)
    })
  })
}

/** Listens on `port`, or on a free port when it is busy. */
export async function listenPreferring(server: Server, port: number): Promise<number> {
  try {
    return await listen(server, port)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    return listen(server, 0)
  }
}

/** Starts the control API on 127.0.0.1. */
export async function startControlApi(options: ControlApiOptions): Promise<ControlApi> {
  const { allowedOrigins, state, actions, log = () => undefined } = options
  const answer = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    response.end(JSON.stringify(body))
  }

  let controlPort = 0
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestUrl = new URL(request.url ?? '/', 'http://localhost')
    // DNS rebinding: only the loopback names of this port.
    if (![`${HOST}:${String(controlPort)}`, `localhost:${String(controlPort)}`].includes(request.headers.host ?? '')) {
      return answer(response, 421, { error: 'Wrong Host' })
    }
    const origin = request.headers.origin
    const cors: Record<string, string> = {}
    if (origin !== undefined) {
      if (!allowedOrigins.includes(origin)) return answer(response, 403, { error: `Origin ${origin} not allowed` })
      Object.assign(cors, { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' })
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Max-Age': '600' })
      return void response.end()
    }
    if (!requestUrl.pathname.startsWith(`${CONTROL}/`)) return answer(response, 404, { error: 'Not found' }, cors)
    const name = requestUrl.pathname.slice(CONTROL.length + 1)
    if (name === 'state') {
      if (request.method !== 'GET') return answer(response, 405, { error: 'Use GET' }, { ...cors, Allow: 'GET' })
      return answer(response, 200, { state: state() }, cors)
    }
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined
    if (!action) return answer(response, 404, { error: `Unknown control action ${name}` }, cors)
    if (request.method !== 'POST') return answer(response, 405, { error: 'Use POST' }, { ...cors, Allow: 'POST' })
    const problem = await action(requestUrl.searchParams)
    if (problem) return answer(response, 400, { error: problem }, cors)
    log(`${name}${requestUrl.search}`)
    return answer(response, 200, { action: name, state: state() }, cors)
  }

  const control = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error)
      if (!response.headersSent) answer(response, 500, { error: message || STATUS_CODES[500] })
    })
  })
  controlPort = await listenPreferring(control, options.port ?? 0)
  let closing: Promise<void> | null = null
  return {
    url: `http://${HOST}:${String(controlPort)}${CONTROL}`,
    close() {
      closing ??= (async () => {
        control.closeAllConnections()
        await new Promise<void>((resolve) => control.close(() => resolve()))
      })()
      return closing
    },
  }
}
