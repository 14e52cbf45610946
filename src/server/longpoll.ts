import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ConnectionRequest } from './connection'
import { CROWDED_RETRY_AFTER_S } from './caps'
import { errorName } from './errors'
import { parseBatch, readBody } from './longpoll-body'
import type { NodeRelay } from './broker'
import type { Answer, LongPollForwarder, RelayMessage } from './longpoll-relay'
import { LongPollSocket } from './longpoll-socket'
import type { PollResponder } from './longpoll-socket'
import type { AuthRequest, Principal, ResolvedServerOptions, ServerLog } from './options'
import { secretKey } from './sessions'
import { headerOf, httpAnswer, retryAfterOf } from './http-answer'
import { authenticateRequest, authRequestOf, pathnameOf } from './upgrade'

/** Header carrying the long-poll connection id (never the URL: it is a bearer secret). */
export const CONNECTION_HEADER = 'Lifeline-Connection'
/** Header carrying the last cursor a client received, on every `GET`. */
export const CURSOR_HEADER = 'Lifeline-Cursor'

const CONNECTION_ID = /^[A-Za-z0-9_-]{22}$/
const CURSOR = /^\d{1,15}$/
/**
 * Longest wait of a `POST` answer for the inbound queue to drain (flow control): well below the reference client's
 * 10 s request timeout, so that a slow server paces a client without making it give up on the request.
 */
const MAX_POST_HOLD_MS = 5000
/** Time a forwarded request waits for the owner node past its own longest hold, before it is cut. */
const FORWARD_SLACK_MS = 5000

/** What the long-poll handler needs from its server. Internal. */
export interface LongPollContext {
  readonly options: ResolvedServerOptions
  readonly longPoll: { readonly path: string; readonly pollTimeoutMs: number; readonly idleTimeoutMs: number }
  readonly authenticateUpgrade: ((request: AuthRequest) => Principal | null | Promise<Principal | null>) | undefined
  readonly log: ServerLog
  /** Whether the server is shutting down (requests are then refused with 503). */
  readonly closing: () => boolean
  /** Hands a new long-poll connection to the protocol (the same path as an accepted WebSocket). */
  accept(socket: LongPollSocket, request: ConnectionRequest, principal: Principal | null): void
  /** Whether `remoteAddress` is at `maxConnectionsPerAddress`: an opening request is then refused with 429. */
  crowded(remoteAddress: string | undefined): boolean
  /** The handler forgot `socket` (its id gets 410 from now on): it no longer counts against any cap. */
  forgotten(socket: LongPollSocket): void
  /** Cross-node: requests for a connection another node owns are forwarded to it over the relay. */
  readonly remote?: { readonly relay: NodeRelay; readonly forwarder: LongPollForwarder }
}

/** The HTTP long-poll endpoint of a lifeline server (docs/protocol.md §8). Internal. */
export interface LongPollHandler {
  /** The pathname it answers: the WebSocket path with `/poll` appended. */
  readonly path: string
  /** Open long-poll connections (closed ones still holding their close for the client excluded). */
  readonly size: number
  /** Long-poll connections the server closed, still holding their close for the client (docs/protocol.md §8.3). */
  readonly closed: number
  /** Whether `socket` is still known (open, or closed and holding its close). */
  holds(socket: LongPollSocket): boolean
  /** Handles a request for {@link path}; returns false, leaving `response` alone, for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean
  /** A relay message for the long-poll side (a request forwarded by another node, or an answer to one). */
  received(from: string, message: RelayMessage): void
  /** Stops the idle sweep and forgets every connection. */
  close(): void
}

/** Creates the long-poll endpoint; the server routes requests for its path to {@link LongPollHandler.handle}. */
export function createLongPollHandler(context: LongPollContext): LongPollHandler {
  const { options, log, longPoll } = context
  const sockets = new Map<string, LongPollSocket>()
  const { remote } = context
  /** Cross-node: connections by the hash other nodes know them by, and when each one's directory record was renewed. */
  const keys = new Map<string, LongPollSocket>()
  const renewedAt = new WeakMap<LongPollSocket, number>()
  // Open for idleTimeoutMs past its last request, then holding its close as long again; renewed every third of that.
  const ownTtlMs = 2 * longPoll.idleTimeoutMs + longPoll.pollTimeoutMs
  const relayFailed = (error: unknown): void => log('warn', 'long-poll directory failed', { error: errorName(error) })
  const touched = (socket: LongPollSocket): Promise<void> | undefined => {
    if (!remote) return undefined
    const now = performance.now()
    if (now - (renewedAt.get(socket) ?? -Infinity) < longPoll.idleTimeoutMs / 3) return undefined
    renewedAt.set(socket, now)
    return remote.relay.own(secretKey(socket.id), ownTtlMs).catch(relayFailed)
  }
  const forget = (socket: LongPollSocket): void => {
    if (sockets.get(socket.id) !== socket) return
    sockets.delete(socket.id)
    if (remote) {
      const key = secretKey(socket.id)
      keys.delete(key)
      remote.relay.disown(key).catch(relayFailed)
    }
    context.forgotten(socket)
  }

  const sweep = setInterval(
    () => {
      const now = performance.now()
      for (const socket of sockets.values()) {
        const idle = socket.active === 0 && now - socket.lastActivity > longPoll.idleTimeoutMs
        if (socket.readyState === socket.OPEN) {
          if (!idle) continue
          log('info', 'long-poll connection expired: no request for longer than idleTimeoutMs')
          socket.terminate()
          continue
        }
        // Closed by the server: a close the client never came back for, or one held for idleTimeoutMs already, however
        // often it was polled since.
        if (idle || now - (socket.closedAt ?? socket.lastActivity) > longPoll.idleTimeoutMs) {
          forget(socket)
          socket.dispose()
        }
      }
    },
    Math.max(10, Math.min(1000, Math.floor(longPoll.idleTimeoutMs / 4))),
  )
  sweep.unref()

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET'
    const { origin, refusal, cors, answer } = httpAnswer(
      request,
      response,
      options,
      `${CONNECTION_HEADER}, Retry-After`,
    )
    const details = { origin: origin ?? null, remoteAddress: request.socket.remoteAddress ?? null }

    if (method === 'OPTIONS') {
      if (refusal) return answer(403, { error: refusal })
      return answer(204, null, {
        'Access-Control-Allow-Methods': 'GET, POST, DELETE',
        'Access-Control-Allow-Headers': `Content-Type, ${CONNECTION_HEADER}, ${CURSOR_HEADER}`,
        'Access-Control-Max-Age': '600',
      })
    }
    if (!['GET', 'POST', 'DELETE'].includes(method)) {
      return answer(405, { error: 'method not allowed' }, { Allow: 'GET, POST, DELETE, OPTIONS' })
    }
    if (refusal) {
      log('warn', 'long-poll refused: ' + refusal, details)
      return answer(403, { error: refusal })
    }
    const id = headerOf(request, CONNECTION_HEADER)
    if (id === undefined) {
      if (method !== 'POST') return answer(400, { error: `${CONNECTION_HEADER} header required` })
      // Existing connections are still served while the server closes: their polls carry the 1001.
      if (context.closing()) return answer(503, { error: 'server shutting down' }, { 'Retry-After': '1' })
      return open(request, response, answer, origin)
    }
    const socket = CONNECTION_ID.test(id) ? sockets.get(id) : undefined
    if (!socket && remote && CONNECTION_ID.test(id)) return forward(request, response, id, answer, cors)
    if (!socket) return answer(410, { error: 'unknown or expired connection' })
    // The id is a bearer secret; a browser sends no Origin on a same-origin GET, but never another page's origin.
    if (origin !== socket.origin && origin !== undefined) {
      log('warn', 'long-poll refused: origin differs from the one that opened the connection', details)
      return answer(403, { error: 'origin not allowed' })
    }
    socket.active += 1
    void touched(socket)
    response.once('close', () => {
      socket.active -= 1
      socket.lastActivity = performance.now()
    })
    if (method === 'DELETE') {
      socket.closedByClient()
      return answer(204, null)
    }
    if (method === 'POST') {
      const body = await readBody(request, options.maxPayload, options.handshakeTimeoutMs)
      if (body === null) return
      if (!body.ok) return refuseBody(body.status, answer)
      const frames = parseBatch(body.text)
      if (!frames) return answer(400, { error: 'the body must be a JSON array of frames' })
      // Terminated or closed by the client while the body was read: its frames were not applied.
      if (sockets.get(id) !== socket) return answer(410, { error: 'unknown or expired connection' })
      return deliver(socket, frames, answer, {})
    }
    const cursorText = headerOf(request, CURSOR_HEADER) ?? '0'
    if (!CURSOR.test(cursorText)) return answer(400, { error: `${CURSOR_HEADER} must be an integer >= 0` })
    const respond: PollResponder = (text) =>
      new Promise<void>((resolve) => {
        response.once('close', () => resolve())
        if (response.headersSent || response.destroyed) return resolve()
        if (text === null) {
          response.destroy()
          return
        }
        response.writeHead(200, {
          ...cors,
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': String(Buffer.byteLength(text)),
          'Cache-Control': 'no-store',
        })
        response.end(text, () => resolve())
      })
    const result = socket.poll(Number(cursorText), respond)
    if (result === 'cursor-behind' || result === 'cursor-ahead') {
      return answer(400, { error: `${CURSOR_HEADER} ${result === 'cursor-ahead' ? 'ahead of' : 'behind'} the stream` })
    }
    if (result === 'waiting') {
      response.once('close', () => {
        if (!response.writableFinished) socket.abandon(respond)
      })
    }
  }

  /** The first `POST`: the same checks as a WebSocket upgrade (origin done), then a connection, then its frames. */
  async function open(
    request: IncomingMessage,
    response: ServerResponse,
    answer: (status: number, body: Record<string, unknown> | null, headers?: Record<string, string>) => void,
    origin: string | undefined,
  ): Promise<void> {
    const crowded = { error: 'too many connections' }
    const retryAfter = { 'Retry-After': String(CROWDED_RETRY_AFTER_S) }
    if (context.crowded(request.socket.remoteAddress)) return answer(429, crowded, retryAfter)
    const auth = await authenticateRequest(context.authenticateUpgrade, request, log)
    if ('status' in auth) {
      if (auth.status === 401) {
        log('warn', 'long-poll refused: unauthorized', { remoteAddress: request.socket.remoteAddress ?? null })
      }
      return answer(auth.status, { error: auth.error })
    }
    const body = await readBody(request, options.maxPayload, options.handshakeTimeoutMs)
    if (body === null) return
    if (!body.ok) return refuseBody(body.status, answer)
    const frames = parseBatch(body.text)
    if (!frames) return answer(400, { error: 'the body must be a JSON array of frames' })
    if (context.closing() || response.destroyed) return answer(503, { error: 'server shutting down' })
    // Again, synchronously with the new connection: other opens from the address may have finished meanwhile.
    if (context.crowded(request.socket.remoteAddress)) return answer(429, crowded, retryAfter)
    const socket = new LongPollSocket(randomBytes(16).toString('base64url'), origin, longPoll.pollTimeoutMs, forget)
    sockets.set(socket.id, socket)
    if (remote) keys.set(secretKey(socket.id), socket)
    const recorded = touched(socket)
    socket.active += 1
    response.once('close', () => {
      socket.active -= 1
      socket.lastActivity = performance.now()
    })
    context.accept(socket, authRequestOf(request), auth.principal)
    // Findable by every node before the client learns its id: its next request may reach any of them.
    if (recorded) await recorded
    return deliver(socket, frames, answer, { connection: socket.id }, { [CONNECTION_HEADER]: socket.id })
  }

  /**
   * A request for a connection this node does not hold: sent to the node that does (the directory in the broker says
   * which), its answer written here. No owner: 410, as for any unknown id; broker unreachable: 503 (the client retries).
   */
  async function forward(
    request: IncomingMessage,
    response: ServerResponse,
    id: string,
    answer: Answer,
    cors: Record<string, string>,
  ): Promise<void> {
    if (!remote) return answer(410, { error: 'unknown or expired connection' })
    const { relay, forwarder } = remote
    const key = secretKey(id)
    let owner: string | null
    try {
      owner = await relay.owner(key)
    } catch (error) {
      relayFailed(error)
      return answer(503, { error: 'broker unavailable' }, { 'Retry-After': '1' })
    }
    if (owner === null || owner === relay.node) return answer(410, { error: 'unknown or expired connection' })
    const method = request.method === 'POST' ? 'POST' : request.method === 'DELETE' ? 'DELETE' : 'GET'
    let fields: { c?: number; f?: readonly string[] } = {}
    if (method === 'POST') {
      const body = await readBody(request, options.maxPayload, options.handshakeTimeoutMs)
      if (body === null) return
      if (!body.ok) return refuseBody(body.status, answer)
      const frames = parseBatch(body.text)
      if (!frames) return answer(400, { error: 'the body must be a JSON array of frames' })
      fields = { f: frames }
    } else if (method === 'GET') {
      const cursorText = headerOf(request, CURSOR_HEADER) ?? '0'
      if (!CURSOR.test(cursorText)) return answer(400, { error: `${CURSOR_HEADER} must be an integer >= 0` })
      fields = { c: Number(cursorText) }
    }
    const timeoutMs = (method === 'GET' ? longPoll.pollTimeoutMs : MAX_POST_HOLD_MS) + FORWARD_SLACK_MS
    const forwarded = { k: key, m: method, o: request.headers.origin ?? null, ...fields } as const
    const reply = await forwarder.forward(owner, forwarded, timeoutMs, (cancel) => {
      response.once('close', () => {
        if (!response.writableFinished) cancel()
      })
    })
    if (response.headersSent || response.destroyed) return
    if (reply === null || reply.status === 0) return void response.destroy()
    response.writeHead(reply.status, {
      ...cors,
      ...reply.headers,
      ...(reply.body === '' ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
      'Content-Length': String(Buffer.byteLength(reply.body)),
      'Cache-Control': 'no-store',
    })
    response.end(reply.body)
  }

  /**
   * Hands a batch to the protocol and answers once the connection's inbound queue is back under its low-water mark
   * (flow control, at most {@link MAX_POST_HOLD_MS} later): 429 if it tripped the rate limit or the queue cap, the
   * close if the server closed.
   */
  async function deliver(
    socket: LongPollSocket,
    frames: readonly string[],
    answer: (status: number, body: Record<string, unknown> | null, headers?: Record<string, string>) => void,
    fields: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const wasOpen = socket.readyState === socket.OPEN
    socket.receive(frames)
    await socket.accepting(MAX_POST_HOLD_MS)
    const close = socket.closeInfo
    if (!close) return answer(200, fields, headers)
    const retryAfterMs = close.code === 4002 ? retryAfterOf(close.reason) : null
    if (wasOpen && retryAfterMs !== null) {
      const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
      return answer(
        429,
        { ...fields, error: 'rate limited', retryAfterMs, close },
        { ...headers, 'Retry-After': retryAfter },
      )
    }
    answer(200, { ...fields, close }, headers)
  }

  function refuseBody(
    status: 400 | 408 | 413,
    answer: (status: number, body: Record<string, unknown> | null, headers?: Record<string, string>) => void,
  ): void {
    if (status === 413) return answer(413, { error: 'body larger than maxPayload', maxPayload: options.maxPayload })
    if (status === 408) return answer(408, { error: 'body not received in time' }, { Connection: 'close' })
    answer(400, { error: 'the body is not valid UTF-8' })
  }

  return {
    path: longPoll.path,
    get size() {
      let open = 0
      for (const socket of sockets.values()) if (socket.readyState === socket.OPEN) open += 1
      return open
    },
    get closed() {
      let closed = 0
      for (const socket of sockets.values()) if (socket.readyState !== socket.OPEN) closed += 1
      return closed
    },
    holds: (socket) => sockets.get(socket.id) === socket,
    received(from, message) {
      remote?.forwarder.received(from, message, {
        byKey: (key) => keys.get(key),
        holds: (socket) => sockets.get(socket.id) === socket,
        deliver: (socket, frames, answer) => deliver(socket, frames, answer, {}),
        touched: (socket) => void touched(socket),
      })
    },
    handle(request, response) {
      if (pathnameOf(request.url) !== longPoll.path) return false
      serve(request, response).catch((error: unknown) => {
        log('warn', 'long-poll request failed', { error: errorName(error) })
        if (!response.headersSent) response.destroy()
      })
      return true
    },
    close() {
      clearInterval(sweep)
      for (const socket of sockets.values()) {
        forget(socket)
        socket.dispose()
      }
    },
  }
}
