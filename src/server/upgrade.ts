import { STATUS_CODES } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import { errorName } from './errors'
import { isPrincipal } from './options'
import type { AuthRequest, Principal, ResolvedServerOptions, ServerLog } from './options'

/** What the upgrade handler needs from its server. Internal. */
export interface UpgradeContext {
  readonly options: ResolvedServerOptions
  readonly wss: WebSocketServer
  readonly authenticateUpgrade: ((request: AuthRequest) => Principal | null | Promise<Principal | null>) | undefined
  readonly log: ServerLog
  /** Whether the server is shutting down (upgrades are then refused with 503). */
  readonly closing: () => boolean
  /** Sockets between the `upgrade` event and the end of the handshake, destroyed by `close()`. */
  readonly handshakes: Set<Duplex>
  accept(socket: WebSocket, request: IncomingMessage, principal: Principal | null): void
  /** An upgrade or a probe was refused for its `Origin` (the server tells a user without a logger once). */
  originRefused(origin: string | undefined): void
}

/** The pathname of a request URL, without decoding. */
export function pathnameOf(url: string | undefined): string {
  return (url ?? '').split('?', 1)[0] ?? ''
}

/**
 * Why the request's `Origin` is refused, or '' when it is allowed. Exact comparison only: no wildcard, no suffix or
 * prefix matching, the `null` origin (sandboxed frames, file: pages) always refused, and a missing header (a client
 * that is not a browser) allowed only with `allowNoOrigin`.
 */
export function originRefusal(request: IncomingMessage, options: ResolvedServerOptions): string {
  const origin = request.headers.origin
  if (origin === undefined) return options.allowNoOrigin ? '' : 'origin required'
  if (origin === 'null') return 'origin not allowed'
  return options.allowedOrigins.has(origin) ? '' : 'origin not allowed'
}

/**
 * What a server without a logger prints, once, when it refuses an origin: which one, and the option that lets it in.
 * The origin is quoted (control characters escaped) and cut short; it carries no token or session id.
 */
export function originNotice(origin: string | undefined): string {
  const prefix = 'react-lifeline/server refused a connection'
  const suffix = 'Shown once; pass a `logger` to see every refusal.'
  if (origin === undefined) return `${prefix} without an Origin header (allowNoOrigin is false). ${suffix}`
  if (origin === 'null') {
    return `${prefix} from the "null" origin (a sandboxed frame or a file: page), which is always refused. ${suffix}`
  }
  const quoted = JSON.stringify(origin.length > 120 ? `${origin.slice(0, 120)}…` : origin)
  return (
    `${prefix} from origin ${quoted}: it is not in \`allowedOrigins\` (default [], which refuses every browser ` +
    `page). To let that page connect: allowedOrigins: [${quoted}]. ${suffix}`
  )
}

/** Answers a refused upgrade on the raw socket with a short JSON body, then destroys the socket once flushed. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  error: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return
  const body = JSON.stringify({ error })
  const head = [
    `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? 'Error'}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${String(Buffer.byteLength(body))}`,
    'Cache-Control: no-store',
  ].join('\r\n')
  socket.once('finish', () => socket.destroy())
  socket.end(`${head}\r\n\r\n${body}`)
}

export const authRequestOf = (request: IncomingMessage): AuthRequest => ({
  headers: request.headers,
  url: request.url ?? '',
  remoteAddress: request.socket.remoteAddress,
})

/** What {@link authenticateRequest} decided: the principal (`null` without a hook), or the refusal to answer with. */
export type Authentication = { principal: Principal | null } | { status: 401 | 500; error: string }

/**
 * Runs `authenticateUpgrade` on a request, as the upgrade, its HTTP probe and long-poll all do: no hook lets everyone
 * in, a hook that throws is a 500 (logged, without the error's message), anything but a principal a 401.
 */
export async function authenticateRequest(
  hook: UpgradeContext['authenticateUpgrade'],
  request: IncomingMessage,
  log: ServerLog,
  details: Record<string, unknown> = {},
): Promise<Authentication> {
  if (!hook) return { principal: null }
  let result: unknown
  try {
    result = await hook(authRequestOf(request))
  } catch (error) {
    log('warn', 'authenticateUpgrade threw', { ...details, error: errorName(error) })
    return { status: 500, error: 'authentication failed' }
  }
  return isPrincipal(result) ? { principal: result } : { status: 401, error: 'unauthorized' }
}

/**
 * Checks an upgrade request for our path (origin, then `authenticateUpgrade`) and completes the handshake, all before
 * any 101 is sent. A handshake that takes longer than `handshakeTimeoutMs` (a hung hook) is destroyed.
 */
export async function handleUpgrade(
  context: UpgradeContext,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const { options, log } = context
  const details = { origin: request.headers.origin ?? null, remoteAddress: request.socket.remoteAddress ?? null }
  const onError = (error: Error): void => log('warn', 'handshake socket error', { error: errorName(error) })
  const timer = setTimeout(() => {
    // No answer: a peer that stalls its own handshake may not read one either.
    log('warn', 'handshake timed out', details)
    socket.destroy()
  }, options.handshakeTimeoutMs)
  const done = (): void => {
    clearTimeout(timer)
    socket.off('error', onError)
    socket.off('close', done)
    context.handshakes.delete(socket)
  }
  socket.on('error', onError)
  socket.once('close', done)
  context.handshakes.add(socket)

  if (context.closing()) return refuseUpgrade(socket, 503, 'server shutting down')
  const refusal = originRefusal(request, options)
  if (refusal) {
    log('warn', 'upgrade refused: ' + refusal, details)
    context.originRefused(request.headers.origin)
    return refuseUpgrade(socket, 403, refusal)
  }
  const auth = await authenticateRequest(context.authenticateUpgrade, request, log, details)
  if ('status' in auth && auth.status === 500) return refuseUpgrade(socket, 500, auth.error)
  if (socket.destroyed) return done()
  if ('status' in auth) {
    log('warn', 'upgrade refused: unauthorized', details)
    return refuseUpgrade(socket, auth.status, auth.error)
  }
  const { principal } = auth
  if (context.closing()) return refuseUpgrade(socket, 503, 'server shutting down')
  context.wss.handleUpgrade(request, socket, head, (webSocket) => {
    done()
    context.accept(webSocket, request, principal)
  })
}

/**
 * Answers a plain HTTP request to the lifeline path the way the upgrade would be refused (403, 401) or with 426, so a
 * browser client that cannot see why its upgrade failed can probe the same URL and tell the user. Other paths get 404.
 */
export async function handleProbe(
  context: UpgradeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const answer = (status: number, error: string, headers: Record<string, string> = {}): void => {
    if (response.headersSent || response.destroyed) return
    const body = JSON.stringify({ error })
    response.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
    })
    response.end(body)
  }
  if (pathnameOf(request.url) !== context.options.path) return answer(404, 'not found')
  const refusal = originRefusal(request, context.options)
  if (refusal) {
    context.originRefused(request.headers.origin)
    return answer(403, refusal)
  }
  const origin = request.headers.origin
  const cors: Record<string, string> =
    origin === undefined
      ? {}
      : { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }
  const auth = await authenticateRequest(context.authenticateUpgrade, request, context.log)
  if ('status' in auth) return answer(auth.status, auth.error, cors)
  answer(426, 'upgrade required', { ...cors, Upgrade: 'websocket' })
}
