import { EventEmitter } from 'node:events'
import type { ConnectionSocket } from './socket'

/** How a long-poll connection ended, as the client is told in a `close` member (docs/protocol.md §8). */
export interface LongPollClose {
  readonly code: number
  readonly reason: string
}

/** A `GET` waiting for frames. */
interface WaitingPoll {
  readonly respond: PollResponder
  /** The cursor it asked with (a superseded poll is answered empty at its own cursor). */
  readonly cursor: number
  readonly timer: NodeJS.Timeout
}

/**
 * Answers one `GET` with a response body, or cuts its connection without an answer (`null`); settles once the answer
 * was handed to the network or the request is gone. Internal.
 */
export type PollResponder = (body: string | null) => Promise<void>

/** What {@link LongPollSocket.poll} did with a cursor. */
export type PollResult = 'waiting' | 'answered' | 'cursor-behind' | 'cursor-ahead'

const CONNECTING_OR_OPEN = 1
const CLOSING = 2
const CLOSED = 3
/**
 * Poll answers carrying a server close before the connection is forgotten: the close once, and again after each lost
 * response the reference client retries (`maxPollRetries`, 2).
 */
export const MAX_CLOSE_ANSWERS = 3

/**
 * One long-poll connection seen as a socket (see {@link ConnectionSocket}): frames the protocol sends wait in a queue
 * numbered by a cursor until a `GET` acknowledges them, so a lost poll response is simply sent again. Internal.
 */
export class LongPollSocket extends EventEmitter implements ConnectionSocket {
  readonly OPEN = CONNECTING_OR_OPEN
  readyState = CONNECTING_OR_OPEN
  /** UTF-8 bytes of the frames not yet acknowledged by a cursor (the slow-consumer measure). */
  bufferedAmount = 0
  /** The close the client gets in its next poll responses, once the server closed. */
  closeInfo: LongPollClose | null = null
  /** Monotonic ms of the server's close: the handler forgets the connection `idleTimeoutMs` later at the latest. */
  closedAt: number | null = null
  /** Poll answers that carried the close. */
  closeAnswers = 0
  /** Monotonic ms of the end of the last request (or now while one is in progress). */
  lastActivity = performance.now()
  /** Requests in progress (a waiting poll included). */
  active = 0
  /** Frames after the acknowledged cursor, each JSON-encoded as a string (ready for a response body). */
  private readonly frames: string[] = []
  private readonly frameBytes: number[] = []
  /** The cursor the client acknowledged: every frame up to it was received and dropped. */
  private acknowledged = 0
  private waiting: WaitingPoll | null = null
  private flushScheduled = false
  private closeEmitted = false
  /** Set by the protocol side while too many of the client's frames wait (flow control). */
  private paused = false
  /** `POST` answers waiting for {@link resume}. */
  private readonly held = new Set<() => void>()

  constructor(
    /** The unguessable id the client sends in `Lifeline-Connection`. A secret: never logged. */
    readonly id: string,
    /** The `Origin` of the request that opened it; later requests must carry the same one or none. */
    readonly origin: string | undefined,
    private readonly pollTimeoutMs: number,
    /**
     * Called once it is gone for good (terminated, closed by the client, or its close answered
     * {@link MAX_CLOSE_ANSWERS} times): the handler forgets it. May be called more than once.
     */
    private readonly gone: (socket: LongPollSocket) => void,
  ) {
    super()
  }

  /** Whether a `GET` is waiting. */
  get polling(): boolean {
    return this.waiting !== null
  }

  /** Flow control: the protocol side has too many of the client's frames waiting; `POST` answers wait. */
  pause(): void {
    this.paused = true
  }

  /** The protocol side takes frames again: held `POST` answers go out. */
  resume(): void {
    this.paused = false
    this.release()
  }

  /**
   * Resolves at once, or while paused once resumed, closed, or `maxMs` later: a `POST` is answered then, so that a
   * client keeping one `POST` in flight sends its next batch only once this one is nearly handled (§8.2).
   */
  accepting(maxMs: number): Promise<void> {
    if (!this.paused || this.readyState !== CONNECTING_OR_OPEN) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.held.delete(done)
        resolve()
      }
      const timer = setTimeout(done, maxMs)
      this.held.add(done)
    })
  }

  private release(): void {
    for (const done of [...this.held]) done()
  }

  /** Queues one frame for the next poll response. */
  send(text: string): void {
    if (this.readyState !== CONNECTING_OR_OPEN) return
    const encoded = JSON.stringify(text)
    const bytes = Buffer.byteLength(text)
    this.frames.push(encoded)
    this.frameBytes.push(bytes)
    this.bufferedAmount += bytes
    if (this.waiting && !this.flushScheduled) {
      // Frames sent in the same turn (a replay, a burst of acks) leave in one response.
      this.flushScheduled = true
      setImmediate(() => {
        this.flushScheduled = false
        this.flush()
      })
    }
  }

  /**
   * The server closes: the close goes to the client in the waiting poll, or the next one, with the frames before it.
   * Like a WebSocket close handshake, `close` is emitted once that poll was answered, or when the protocol side gives up
   * waiting and calls {@link terminate}.
   */
  close(code: number, reason: string): void {
    if (this.readyState !== CONNECTING_OR_OPEN) return
    this.readyState = CLOSING
    this.closeInfo = { code, reason }
    this.closedAt = performance.now()
    if (this.waiting) this.flush()
    // Held `POST`s carry the close now.
    this.release()
  }

  /** Ends it at once: a waiting poll is cut (the client sees a network error), later requests get 410. */
  terminate(): void {
    if (this.readyState === CONNECTING_OR_OPEN) {
      this.readyState = CLOSED
      const waiting = this.waiting
      this.waiting = null
      if (waiting) {
        clearTimeout(waiting.timer)
        waiting.respond(null).catch(() => undefined)
      }
      this.gone(this)
      this.emitClose(1006)
      return
    }
    // Closing: the close stays on record for the client to fetch; the protocol side is done with it now.
    this.emitClose(this.closeInfo?.code ?? 1006)
  }

  /** A heartbeat tick: a waiting poll is a live client (its next poll comes within the poll timeout). */
  ping(): void {
    if (this.waiting) this.emit('pong')
  }

  /** The client sent frames (a `POST` batch, in order). */
  receive(texts: readonly string[]): void {
    if (texts.length === 0) this.emit('pong')
    for (const text of texts) {
      if (this.readyState !== CONNECTING_OR_OPEN) return
      this.emit('message', text, false)
    }
  }

  /**
   * A `GET` with the last cursor the client received: frames up to it are dropped, the rest answered now, or when the
   * first one is sent, or empty after the poll timeout. A newer poll answers a waiting one (empty) first.
   */
  poll(cursor: number, respond: PollResponder): PollResult {
    if (cursor < this.acknowledged) return 'cursor-behind'
    if (cursor > this.acknowledged + this.frames.length) return 'cursor-ahead'
    const drop = cursor - this.acknowledged
    for (const bytes of this.frameBytes.splice(0, drop)) this.bufferedAmount -= bytes
    this.frames.splice(0, drop)
    this.acknowledged = cursor
    this.emit('pong')
    const previous = this.waiting
    if (previous) {
      this.waiting = null
      clearTimeout(previous.timer)
      previous.respond(this.body([], previous.cursor)).catch(() => undefined)
    }
    if (this.frames.length > 0 || this.readyState !== CONNECTING_OR_OPEN) {
      this.answer(respond)
      return 'answered'
    }
    const timer = setTimeout(() => this.flush(), this.pollTimeoutMs)
    this.waiting = { respond, cursor, timer }
    return 'waiting'
  }

  /** The waiting poll's request went away (the client aborted it). */
  abandon(respond: PollResponder): void {
    if (this.waiting?.respond !== respond) return
    clearTimeout(this.waiting.timer)
    this.waiting = null
  }

  /** The client closed (`DELETE`): a waiting poll gets what is left and a 1000 close, then it is forgotten. */
  closedByClient(): void {
    if (this.readyState === CONNECTING_OR_OPEN) {
      this.readyState = CLOSING
      this.closeInfo = { code: 1000, reason: '' }
      if (this.waiting) this.flush()
    }
    this.readyState = CLOSED
    this.gone(this)
    this.emitClose(1000)
  }

  private flush(): void {
    const waiting = this.waiting
    if (!waiting) return
    this.waiting = null
    clearTimeout(waiting.timer)
    this.answer(waiting.respond)
  }

  private answer(respond: PollResponder): void {
    const body = this.body(this.frames, this.acknowledged + this.frames.length)
    const sent = respond(body)
    if (this.readyState === CLOSING) {
      // Once the close is on its way (or the request died), the protocol side is released.
      const code = this.closeInfo?.code ?? 1006
      sent.then(
        () => this.emitClose(code),
        () => this.emitClose(code),
      )
      this.closeAnswers += 1
      // Polled again and again, a closed connection would never expire: later requests get 410.
      if (this.closeAnswers >= MAX_CLOSE_ANSWERS) this.gone(this)
    } else {
      sent.catch(() => undefined)
    }
  }

  private body(frames: readonly string[], cursor: number): string {
    const close = this.closeInfo ? `,"close":${JSON.stringify(this.closeInfo)}` : ''
    return `{"cursor":${String(cursor)},"frames":[${frames.join(',')}]${close}}`
  }

  private emitClose(code: number): void {
    if (this.closeEmitted) return
    this.closeEmitted = true
    if (this.readyState === CONNECTING_OR_OPEN) this.readyState = CLOSING
    this.release()
    this.emit('close', code)
  }

  /** Releases what it holds once the handler forgot it (tombstone expired, server closed). */
  dispose(): void {
    const waiting = this.waiting
    this.waiting = null
    if (waiting) {
      clearTimeout(waiting.timer)
      waiting.respond(null).catch(() => undefined)
    }
    this.frames.length = 0
    this.frameBytes.length = 0
    this.bufferedAmount = 0
    if (this.readyState !== CLOSED) this.readyState = CLOSED
    this.emitClose(this.closeInfo?.code ?? 1006)
  }
}
