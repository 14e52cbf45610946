import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { MAX_JSON_DEPTH, safeJsonParse } from '../core'
import type { ConnectionRequest } from './connection'
import { CROWDED_RETRY_AFTER_S } from './caps'
import { errorName } from './errors'
import { LongPollSocket } from './longpoll-socket'
import type { PollResponder } from './longpoll-socket'
import type { AuthRequest, Principal, ResolvedServerOptions, ServerLog } from './options'
import { authenticateRequest, authRequestOf, originRefusal, pathnameOf } from './upgrade'

/** Header carrying the long-poll connection id (never the URL: it is a bearer secret). */
export const CONNECTION_HEADER = 'Lifeline-Connection'
/** Header carrying the last cursor a client received, on every `GET`. */
export const CURSOR_HEADER = 'Lifeline-Cursor'

const CONNECTION_ID = /^[A-Za-z0-9_-]{22}$/
const CURSOR = /^\d{1,15}$/
/** Past this many bytes beyond the limit, an oversized body is cut instead of drained (keep-alive lost). */
const MAX_DRAIN_BYTES = 4 * 1024 * 1024
/**
 * Longest wait of a `POST` answer for the inbound queue to drain (flow control): well below the reference client's
 * 10 s request timeout, so that a slow server paces a client without making it give up on the request.
 */
const MAX_POST_HOLD_MS = 5000

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
  /** Stops the idle sweep and forgets every connection. */
  close(): void
}

type BodyResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly status: 400 | 408 | 413 }

/** Reads a request body of at most `limit` bytes as UTF-8 (invalid UTF-8 is a 400, as it is a 1007 on a WebSocket). */
function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult | null> {
  return new Promise((resolve) => {
    const declared = Number(request.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ ok: false, status: 413 })
      return
    }
    const chunks: Buffer[] = []
    let bytes = 0
    let settled = false
    const settle = (result: BodyResult | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('close', onClose)
      resolve(result)
    }
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length
      if (bytes <= limit) {
        chunks.push(chunk)
        return
      }
      settle({ ok: false, status: 413 })
      // Drained (discarded) so that the client reads the 413 rather than a reset; a huge body is cut.
      let drained = 0
      request.on('data', (rest: Buffer) => {
        drained += rest.length
        if (drained > MAX_DRAIN_BYTES) request.destroy()
      })
    }
    const onEnd = (): void => {
      try {
        settle({ ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)) })
      } catch (_error) {
        settle({ ok: false, status: 400 })
      }
    }
    const onClose = (): void => settle(null)
    const timer = setTimeout(() => settle({ ok: false, status: 408 }), timeoutMs)
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('close', onClose)
  })
}

/**
 * A batch body: a JSON array of frames, each a string (the frame's text) or an object (the frame itself). Any other
 * element is passed on as its JSON text, which the protocol answers with `error{INVALID_FRAME}` like any bad frame.
 */
function parseBatch(text: string): string[] | null {
  let value: unknown
  try {
    // One level for the array: a frame past the protocol limit makes the whole body refused, so that re-serialising
    // an element below cannot overflow JSON.stringify; each frame then meets the server's own maxJsonDepth.
    value = safeJsonParse(text, MAX_JSON_DEPTH + 1)
  } catch (_error) {
    return null
  }
  if (!Array.isArray(value)) return null
  return value.map((element: unknown) => (typeof element === 'string' ? element : JSON.stringify(element)))
}

const headerOf = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name.toLowerCase()]
  return typeof value === 'string' ? value : undefined
}

/** Creates the long-poll endpoint; the server routes requests for its path to {@link LongPollHandler.handle}. */
export function createLongPollHandler(context: LongPollContext): LongPollHandler {
  const { options, log, longPoll } = context
  const sockets = new Map<string, LongPollSocket>()
  const forget = (socket: LongPollSocket): void => {
    if (sockets.get(socket.id) !== socket) return
    sockets.delete(socket.id)
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
    const origin = request.headers.origin
    const refusal = originRefusal(request, options)
    const cors: Record<string, string> =
      origin === undefined || refusal
        ? {}
        : {
            'Access-Control-Allow-Origin': origin,
            'Access-Control-Allow-Credentials': 'true',
            'Access-Control-Expose-Headers': `${CONNECTION_HEADER}, Retry-After`,
            Vary: 'Origin',
          }
    const answer = (status: number, body: Record<string, unknown> | null, headers: Record<string, string> = {}) => {
      if (response.headersSent || response.destroyed) return
      const text = body === null ? '' : JSON.stringify(body)
      response.writeHead(status, {
        ...cors,
        ...headers,
        ...(body === null ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
        'Content-Length': String(Buffer.byteLength(text)),
        'Cache-Control': 'no-store',
      })
      response.end(text)
    }
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
    if (!socket) return answer(410, { error: 'unknown or expired connection' })
    // The id is a bearer secret; a browser sends no Origin on a same-origin GET, but never another page's origin.
    if (origin !== socket.origin && origin !== undefined) {
      log('warn', 'long-poll refused: origin differs from the one that opened the connection', details)
      return answer(403, { error: 'origin not allowed' })
    }
    socket.active += 1
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
    socket.active += 1
    response.once('close', () => {
      socket.active -= 1
      socket.lastActivity = performance.now()
    })
    context.accept(socket, authRequestOf(request), auth.principal)
    return deliver(socket, frames, answer, { connection: socket.id }, { [CONNECTION_HEADER]: socket.id })
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

function retryAfterOf(reason: string): number | null {
  try {
    const value: unknown = (JSON.parse(reason) as { retryAfterMs?: unknown }).retryAfterMs
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null
  } catch (_error) {
    return null
  }
}
