import type { IncomingMessage, ServerResponse } from 'node:http'
import type { StreamPosition } from '../core'
import { CROWDED_RETRY_AFTER_S } from './caps'
import type { ConnectionRequest } from './connection'
import { errorName } from './errors'
import { channelProblem } from './frames'
import type { AuthRequest, Principal, ResolvedServerOptions, ServerLog } from './options'
import { SseSocket } from './sse-socket'
import { headerOf, httpAnswer } from './http-answer'
import { authenticateRequest, authRequestOf, pathnameOf } from './upgrade'

/** Longest epoch a `Last-Event-ID` may carry (as a `sub.since.epoch`). */
const MAX_EPOCH_LENGTH = 128
const SEQ = /^\d{1,16}$/
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** What the SSE handler needs from its server. Internal. */
export interface SseContext {
  readonly options: ResolvedServerOptions
  readonly sse: { readonly path: string; readonly keepAliveMs: number }
  readonly authenticateUpgrade: ((request: AuthRequest) => Principal | null | Promise<Principal | null>) | undefined
  readonly log: ServerLog
  /** Whether the server is shutting down (requests are then refused with 503). */
  readonly closing: () => boolean
  /** Hands a new stream to the protocol (the same path as an accepted WebSocket). */
  accept(socket: SseSocket, request: ConnectionRequest, principal: Principal | null): void
  /** Whether `remoteAddress` is at `maxConnectionsPerAddress`: the request is then refused with 429. */
  crowded(remoteAddress: string | undefined): boolean
  /** Counts a stream against its address; the returned function gives the slot back. */
  take(remoteAddress: string | undefined): () => void
}

/** The Server-Sent Events endpoint of a lifeline server (docs/protocol.md §9). Internal. */
export interface SseHandler {
  /** The pathname it answers: the WebSocket path with `/events` appended. */
  readonly path: string
  /** Open streams (those whose status still waits for the protocol included). */
  readonly size: number
  /** Handles a request for {@link path}; returns false, leaving `response` alone, for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean
}

/** `Last-Event-ID` as a stream position: split at the last `:`; anything else is no position (a fresh stream). */
export function positionOfEventId(value: string | undefined): StreamPosition | undefined {
  if (value === undefined) return undefined
  const colon = value.lastIndexOf(':')
  if (colon < 1 || colon > MAX_EPOCH_LENGTH) return undefined
  const seqText = value.slice(colon + 1)
  const seq = Number(seqText)
  if (!SEQ.test(seqText) || !Number.isSafeInteger(seq)) return undefined
  return { epoch: value.slice(0, colon), seq }
}

/** The token of an `Authorization: Bearer <token>` header (the URL is never read for one). */
function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization
  return header === undefined ? undefined : BEARER.exec(header)?.[1]
}

/** Creates the SSE endpoint; the server routes requests for its path to {@link SseHandler.handle}. */
export function createSseHandler(context: SseContext): SseHandler {
  const { options, log, sse } = context
  const streams = new Set<SseSocket>()

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET'
    const { origin, refusal, cors, answer } = httpAnswer(request, response, options, 'Retry-After')
    const remoteAddress = request.socket.remoteAddress
    const details = { origin: origin ?? null, remoteAddress: remoteAddress ?? null }

    if (method === 'OPTIONS') {
      if (refusal) return answer(403, { error: refusal })
      return answer(204, null, {
        'Access-Control-Allow-Methods': 'GET',
        'Access-Control-Allow-Headers': 'Authorization, Last-Event-ID, Cache-Control',
        'Access-Control-Max-Age': '600',
      })
    }
    if (method !== 'GET') return answer(405, { error: 'method not allowed' }, { Allow: 'GET, OPTIONS' })
    if (refusal) {
      log('warn', 'event stream refused: ' + refusal, details)
      return answer(403, { error: refusal })
    }
    const query = (request.url ?? '').split('?')[1] ?? ''
    const channels = new URLSearchParams(query).getAll('ch')
    const channel = channels[0]
    if (channels.length !== 1 || channel === undefined) {
      return answer(400, { error: 'exactly one ch query parameter required' })
    }
    const problem = channelProblem(channel, options.maxChannelNameLength)
    if (problem) return answer(400, { error: problem })
    if (context.closing()) return answer(503, { error: 'server shutting down' }, { 'Retry-After': '1' })
    const crowded = { error: 'too many connections' }
    const retryAfter = { 'Retry-After': String(CROWDED_RETRY_AFTER_S) }
    if (context.crowded(remoteAddress)) return answer(429, crowded, retryAfter)
    const auth = await authenticateRequest(context.authenticateUpgrade, request, log)
    if ('status' in auth) {
      if (auth.status === 401) log('warn', 'event stream refused: unauthorized', details)
      return answer(auth.status, { error: auth.error })
    }
    if (response.destroyed) return
    if (context.closing()) return answer(503, { error: 'server shutting down' }, { 'Retry-After': '1' })
    // Again, synchronously with the new stream: other requests from the address may have opened meanwhile.
    if (context.crowded(remoteAddress)) return answer(429, crowded, retryAfter)

    const since = positionOfEventId(headerOf(request, 'last-event-id'))
    const socket = new SseSocket(response, { channel, keepAliveMs: sse.keepAliveMs, headers: cors })
    const release = context.take(remoteAddress)
    streams.add(socket)
    socket.once('close', () => {
      streams.delete(socket)
      release()
    })
    context.accept(socket, authRequestOf(request), auth.principal)
    socket.start(bearerOf(request), since)
  }

  return {
    path: sse.path,
    get size() {
      return streams.size
    },
    handle(request, response) {
      if (pathnameOf(request.url) !== sse.path) return false
      serve(request, response).catch((error: unknown) => {
        log('warn', 'event stream request failed', { error: errorName(error) })
        if (!response.headersSent) response.destroy()
      })
      return true
    },
  }
}
