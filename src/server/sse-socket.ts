import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { WireErrorCodes } from '../core'
import type { ServerFrame, StreamPosition } from '../core'
import { CROWDED_RETRY_AFTER_S } from './caps'
import { retryAfterOf } from './http-answer'
import type { ConnectionSocket } from './socket'

const OPEN = 1
const CLOSING = 2
const CLOSED = 3

/** `Retry-After` (seconds) of a 503 for a server going away (1001, 1012): as long-poll answers a closing server. */
const GOING_AWAY_RETRY_AFTER_S = 1

/** What an {@link SseSocket} needs besides its response. */
export interface SseSocketOptions {
  /** The one channel the stream carries. */
  readonly channel: string
  /** Interval of the `: keep-alive` comment once the stream is open, ms. */
  readonly keepAliveMs: number
  /** Headers every answer carries (CORS for an allowed origin). */
  readonly headers: Readonly<Record<string, string>>
}

/** An HTTP status and its `{"error": ...}` body, for a stream refused before it opened. */
interface Refusal {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers?: Record<string, string>
}

/** The refusal a close before the first `subscribed` becomes (docs/protocol.md §9). */
function refusalOfClose(code: number, reason: string): Refusal {
  const error = reason || 'connection closed'
  switch (code) {
    case 4001:
      return { status: 401, body: { error } }
    case 1008:
      return { status: 403, body: { error } }
    case 1013:
      return { status: 503, body: { error }, headers: { 'Retry-After': String(CROWDED_RETRY_AFTER_S) } }
    case 4002: {
      const retryAfterMs = retryAfterOf(reason)
      const seconds = retryAfterMs === null ? CROWDED_RETRY_AFTER_S : Math.max(1, Math.ceil(retryAfterMs / 1000))
      const body = retryAfterMs === null ? { error: 'rate limited' } : { error: 'rate limited', retryAfterMs }
      return { status: 429, body, headers: { 'Retry-After': String(seconds) } }
    }
    case 1001:
    case 1012:
      return { status: 503, body: { error }, headers: { 'Retry-After': String(GOING_AWAY_RETRY_AFTER_S) } }
    default:
      return { status: 500, body: { error } }
  }
}

/** The refusal an `error` frame about the subscription becomes before the stream opened. */
function refusalOfError(code: string): Refusal {
  const status =
    code === WireErrorCodes.forbidden
      ? 403
      : code === WireErrorCodes.invalidChannel
        ? 400
        : code === WireErrorCodes.tooManyChannels
          ? 429
          : 500
  return { status, body: { error: code } }
}

/** One SSE event; `JSON.stringify` output never holds a raw line break, so `data` is one line. */
function event(fields: { id?: string; event?: string; data: string }): string {
  const id = fields.id === undefined ? '' : `id: ${fields.id}\n`
  const name = fields.event === undefined ? '' : `event: ${fields.event}\n`
  return `${id}${name}data: ${fields.data}\n\n`
}

/**
 * One Server-Sent Events stream seen as a socket (see {@link ConnectionSocket}): the protocol's frames become SSE
 * events on one held `GET` response, whose status waits for the answer to the stream's `sub` (docs/protocol.md §9).
 * Receive-only: the only frames it reads are the `hello` and `sub` given to {@link start}. Internal.
 */
export class SseSocket extends EventEmitter implements ConnectionSocket {
  readonly OPEN = OPEN
  readyState = OPEN
  /** Whether the `200` went out (the first `subscribed` arrived). */
  private opened = false
  /** Events before the `200` (a replay comes before its `subscribed`), written with the headers. */
  private pending: string[] = []
  private keepAlive: NodeJS.Timeout | null = null
  private closeCode: number | null = null
  private closeEmitted = false

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseSocketOptions,
  ) {
    super()
    // The client went away or the network dropped the stream (or the response ended: then already closed).
    response.once('close', () => {
      this.stopKeepAlive()
      if (this.readyState === OPEN) this.readyState = CLOSED
      this.emitClose(this.closeCode ?? 1006)
    })
  }

  /**
   * The response's unsent bytes (the slow-consumer measure). Events held for the `200` (a replay) are not counted: the
   * replay limits bound them, and counting them could refuse every retry of a resume with the same 503.
   */
  get bufferedAmount(): number {
    return this.response.writableLength
  }

  /** Feeds the stream's synthetic client frames: `hello` (with the bearer token, if any), then `sub`. */
  start(token: string | undefined, since: StreamPosition | undefined): void {
    const hello = token === undefined ? { type: 'hello', v: 1 } : { type: 'hello', v: 1, token }
    const sub =
      since === undefined ? { type: 'sub', ch: this.options.channel } : { type: 'sub', ch: this.options.channel, since }
    for (const frame of [hello, sub]) {
      if (this.readyState !== OPEN) return
      this.emit('message', JSON.stringify(frame), false)
    }
  }

  send(text: string): void {
    if (this.readyState !== OPEN) return
    const frame = JSON.parse(text) as ServerFrame
    switch (frame.type) {
      case 'msg':
        return this.write(event({ id: `${frame.epoch}:${String(frame.seq)}`, data: JSON.stringify(frame.data) }))
      case 'subscribed': {
        const { resumed, epoch, seq } = frame
        this.write(
          event({
            id: `${epoch}:${String(seq)}`,
            event: 'lifeline:subscribed',
            data: JSON.stringify({ resumed, epoch, seq }),
          }),
        )
        if (!this.opened) this.open()
        return
      }
      case 'error': {
        if (!this.opened) return this.refuse(refusalOfError(frame.code), 1000)
        this.write(event({ event: 'lifeline:error', data: JSON.stringify({ code: frame.code, reason: frame.reason }) }))
        // The stream's one subscription failed (its broker did): an open stream would carry nothing more.
        if (frame.ch === this.options.channel) this.close(1011, 'subscription failed')
        return
      }
      default:
        // welcome, pong, ack, nack, unsubscribed: nothing a receive-only stream shows.
        return
    }
  }

  /**
   * The server closes: before the `200`, the close becomes the refusal's status; after it, a `lifeline:close` event
   * ends the stream. `close` is emitted once the response was handed to the network (or cut).
   */
  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return
    if (!this.opened) return this.refuse(refusalOfClose(code, reason), code)
    this.readyState = CLOSING
    this.closeCode = code
    this.stopKeepAlive()
    this.response.end(event({ event: 'lifeline:close', data: JSON.stringify({ code, reason }) }), () =>
      this.finished(code),
    )
  }

  /** Ends it at once: the response is cut (the client sees a network error). */
  terminate(): void {
    this.stopKeepAlive()
    const code = this.closeCode ?? 1006
    this.readyState = CLOSED
    this.response.destroy()
    this.emitClose(code)
  }

  /** The client never pings: a response that can still be written to counts as a live stream. */
  ping(): void {
    if (!this.response.destroyed && !this.response.writableEnded) this.emit('pong')
  }

  private write(text: string): void {
    if (!this.opened) {
      this.pending.push(text)
      return
    }
    if (!this.response.destroyed && !this.response.writableEnded) this.response.write(text)
  }

  private open(): void {
    if (this.response.destroyed || this.response.headersSent) return
    this.opened = true
    this.response.writeHead(200, {
      ...this.options.headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    })
    // A comment with the headers: the client sees the stream open at once.
    const held = this.pending.join('')
    this.pending = []
    this.response.write(`: lifeline\n\n${held}`)
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), this.options.keepAliveMs)
  }

  /** Answers the request with a JSON refusal instead of a stream, then reports the connection closed. */
  private refuse(refusal: Refusal, code: number): void {
    this.readyState = CLOSING
    this.closeCode = code
    this.pending = []
    const { response } = this
    if (response.headersSent || response.destroyed) return this.finished(code)
    const text = JSON.stringify(refusal.body)
    response.writeHead(refusal.status, {
      ...this.options.headers,
      ...refusal.headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
    })
    response.end(text, () => this.finished(code))
  }

  private finished(code: number): void {
    this.readyState = CLOSED
    this.emitClose(code)
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== null) clearInterval(this.keepAlive)
    this.keepAlive = null
  }

  private emitClose(code: number): void {
    if (this.closeEmitted) return
    this.closeEmitted = true
    this.stopKeepAlive()
    this.emit('close', code)
  }
}
