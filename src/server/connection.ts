import type { IncomingHttpHeaders } from 'node:http'
import type { RawData } from 'ws'
import { CloseCodes, PROTOCOL_VERSION, WireErrorCodes } from '../core'
import type { ClientFrame, ServerFrame, WireErrorCode } from '../core'
import type { Broker, BrokerMessage, PublishDedupe } from './broker'
import { errorName } from './errors'
import { channelProblem, encodeFrame, encodeMessage, parseClientFrame } from './frames'
import type { FrameProblem } from './frames'
import { flowLimits, InboundQueue, QUEUE_FULL_RETRY_AFTER_MS, TokenBucket } from './limits'
import { isPrincipal } from './options'
import { publishFailure, publishOnce } from './publish-once'
import type {
  AuthorizeRequest,
  AuthRequest,
  Principal,
  PublishedEvent,
  ResolvedServerOptions,
  ServerLog,
} from './options'
import type { Session, SessionOwner } from './sessions'
import type { ConnectionSocket } from './socket'
import { Subscription } from './subscription'

/** Time a closing connection gets to finish the close handshake before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000
/** Longest refusal of later `pub`s after an `UNAVAILABLE` one, in case the client dropped that message meanwhile. */
const UNAVAILABLE_HOLD_MS = 60_000

type Pub = Extract<ClientFrame, { type: 'pub' }>
type Sub = Extract<ClientFrame, { type: 'sub' }>

/** What a connection needs from its server. Internal. */
export interface ConnectionContext {
  readonly options: ResolvedServerOptions
  readonly broker: Broker
  /** Publish dedupe shared by every node (the broker's `cluster`), or undefined: each session's own set. */
  readonly dedupe: PublishDedupe | undefined
  readonly log: ServerLog
  readonly authenticate: ((request: AuthRequest) => Principal | null | Promise<Principal | null>) | undefined
  readonly authorize: ((request: AuthorizeRequest) => boolean | Promise<boolean>) | undefined
  /** Encoded `msg` frames, shared by every subscriber of a message. */
  readonly encoded: WeakMap<BrokerMessage, string>
  /** Binds an authenticated connection to a session, or says why it may not stay. */
  admit(connection: Connection, principal: Principal, sessionId: string | undefined): Admission | Promise<Admission>
  /** The connection is gone (after its close event). */
  released(connection: Connection): void
  /** A client `pub` was applied (reported to `onPublished`; never throws). */
  published(event: PublishedEvent): void
}

/** What {@link ConnectionContext.admit} decided. Internal. */
export type Admission = { session: Session<Connection>; resumed: boolean } | { code: number; reason: string }

/** The upgrade request, as much of it as a connection keeps. Internal. */
export interface ConnectionRequest {
  readonly headers: IncomingHttpHeaders
  readonly url: string
  readonly remoteAddress: string | undefined
}

// ws validated the UTF-8 already (invalid UTF-8 closes with 1007 before a message event); long-poll passes text.
const textOf = (data: RawData | string): string =>
  typeof data === 'string'
    ? data
    : Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8')

/** One accepted WebSocket (or long-poll connection) speaking the lifeline protocol. Internal. */
export class Connection implements SessionOwner {
  principal: Principal | null = null
  session: Session<Connection> | null = null
  /** Set once the server decided to close it: it no longer counts against caps and sends nothing more. */
  closing = false
  lastSeenAt: number
  readonly subscriptions = new Map<string, Subscription>()
  /** Frames waiting for an earlier one (an authentication, an authorisation, a publish), under flow control. */
  private readonly queue: InboundQueue<ClientFrame>
  private draining = false
  /** A valid `hello` was read: before it, any frame but `hello` or `ping` closes with 1008. */
  private helloRead = false
  private greeting = false
  private readonly bucket: TokenBucket | null
  private helloTimer: NodeJS.Timeout | null
  /**
   * The first `pub` refused with `UNAVAILABLE` (not applied): later ones are refused alike until the client sends it
   * again (it resends in order), so that a broker coming back between two of them cannot apply them out of order.
   */
  private unavailableFrom: { readonly id: string; readonly at: number } | null = null
  private closeTimer: NodeJS.Timeout | null = null

  constructor(
    readonly id: number,
    readonly socket: ConnectionSocket,
    readonly request: ConnectionRequest,
    private readonly upgradePrincipal: Principal | null,
    private readonly context: ConnectionContext,
  ) {
    const { options } = context
    this.lastSeenAt = performance.now()
    this.bucket = options.rateLimit
      ? new TokenBucket(options.rateLimit.messages, options.rateLimit.perMs, () => performance.now())
      : null
    this.queue = new InboundQueue(flowLimits(options), socket)
    this.helloTimer = setTimeout(() => this.close(CloseCodes.tokenInvalid, 'hello timeout'), options.helloTimeoutMs)
    socket.on('message', (data: RawData | string, isBinary: boolean) => this.received(data, isBinary))
    socket.on('pong', () => {
      this.lastSeenAt = performance.now()
    })
    socket.on('error', (error: Error) => this.log('warn', 'socket error', { error: errorName(error) }))
    socket.on('close', (code: number) => this.closed(code))
  }

  /** Starts the close handshake with `code`; the socket is destroyed if it does not finish in time. Idempotent. */
  close(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    this.stopHelloTimer()
    this.socket.close(code, reason)
    // A paused socket would never read the peer's close frame; whatever it reads from now on is dropped.
    this.queue.resume()
    this.closeTimer = setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS)
  }

  /** Destroys the socket at once, without a close frame. */
  terminate(): void {
    this.closing = true
    this.socket.terminate()
  }

  /** Another connection resumed this one's session. */
  supersede(): void {
    this.log('info', 'session resumed on another connection')
    this.session = null
    this.close(1008, 'session resumed on another connection')
  }

  /** Heartbeat tick: terminates a connection silent for longer than the timeout, else pings it. */
  checkLiveness(now: number): void {
    // While paused by flow control the peer's frames (pongs included) wait unread: the silence is the server's own.
    if (this.queue.paused) this.lastSeenAt = now
    if (now - this.lastSeenAt > this.context.options.heartbeatTimeoutMs) {
      this.log('warn', 'connection reaped: silent for longer than the heartbeat timeout')
      this.terminate()
    } else if (this.socket.readyState === this.socket.OPEN) {
      this.socket.ping()
    }
  }

  private log(level: 'info' | 'warn', message: string, details: Record<string, unknown> = {}): void {
    this.context.log(level, message, { connection: this.id, principal: this.principal?.id ?? null, ...details })
  }

  private send(text: string): void {
    if (this.closing || this.socket.readyState !== this.socket.OPEN) return
    this.socket.send(text)
    if (this.socket.bufferedAmount > this.context.options.maxBufferedBytes) {
      this.log('warn', 'slow consumer: send buffer over maxBufferedBytes', { bytes: this.socket.bufferedAmount })
      this.close(1013, 'slow consumer')
    }
  }

  private sendFrame(frame: ServerFrame): void {
    this.send(encodeFrame(frame))
  }

  private sendError(code: WireErrorCode, reason: string, ch?: string): void {
    this.sendFrame(ch === undefined ? { type: 'error', code, reason } : { type: 'error', code, reason, ch })
  }

  private sendMessage(message: BrokerMessage): void {
    let text = this.context.encoded.get(message)
    if (text === undefined) {
      text = encodeMessage(message.channel, message.epoch, message.seq, message.payload)
      this.context.encoded.set(message, text)
    }
    this.send(text)
  }

  private received(data: RawData | string, isBinary: boolean): void {
    this.lastSeenAt = performance.now()
    if (this.closing) return
    if (this.bucket && !this.bucket.take()) {
      this.log('warn', 'rate limited')
      this.close(CloseCodes.rateLimited, JSON.stringify({ retryAfterMs: this.bucket.retryAfterMs() }))
      return
    }
    if (isBinary) {
      this.refused({ code: WireErrorCodes.binaryNotSupported, reason: 'binary frames are not part of the protocol' })
      return
    }
    const text = textOf(data)
    const parsed = parseClientFrame(text, this.context.options.maxJsonDepth)
    if (!parsed.ok) {
      this.refused(parsed)
      return
    }
    const { frame } = parsed
    if (frame.type === 'ping') {
      this.sendFrame({ type: 'pong' })
      return
    }
    if (!this.helloRead) {
      if (frame.type !== 'hello') return this.close(1008, 'hello expected first')
      this.helloRead = true
    }
    if (!this.queue.push(frame, Buffer.byteLength(text))) {
      this.log('warn', 'too many frames waiting', { frames: this.queue.length })
      const retryAfterMs = Math.max(QUEUE_FULL_RETRY_AFTER_MS, this.bucket?.retryAfterMs() ?? 0)
      this.close(CloseCodes.rateLimited, JSON.stringify({ retryAfterMs }))
      return
    }
    if (!this.draining) void this.drain()
  }

  /** A frame that cannot be handled: answered with an error (a nack for a readable pub), or before `hello` a 1008. */
  private refused(problem: FrameProblem): void {
    if (!this.helloRead) return this.close(1008, 'hello expected first')
    if (problem.id !== undefined)
      this.sendFrame({ type: 'nack', id: problem.id, code: problem.code, reason: problem.reason })
    else this.sendError(problem.code, problem.reason, problem.ch)
  }

  /** Handles queued frames one at a time, so each is answered in order and sees the effects of the previous one. */
  private async drain(): Promise<void> {
    this.draining = true
    try {
      for (let frame = this.queue.shift(); frame && !this.closing; frame = this.queue.shift()) {
        const pending = this.handle(frame)
        if (pending) await pending
      }
    } catch (error) {
      this.log('warn', 'frame handling failed', { error: errorName(error) })
      this.close(1011, 'internal error')
    } finally {
      this.draining = false
    }
  }

  private handle(frame: ClientFrame): Promise<void> | void {
    if (frame.type === 'hello') return this.hello(frame)
    if (!this.session) {
      this.close(1008, 'hello expected first')
      return
    }
    switch (frame.type) {
      case 'sub':
        return this.subscribe(frame)
      case 'unsub':
        return this.unsubscribe(frame.ch)
      case 'pub':
        return this.publish(frame, this.session)
      case 'ping':
        return
      default:
        frame satisfies never
    }
  }

  private async hello(frame: Extract<ClientFrame, { type: 'hello' }>): Promise<void> {
    if (this.greeting) {
      this.sendError(WireErrorCodes.alreadyGreeted, 'hello was already received')
      return
    }
    this.greeting = true
    if (frame.v !== PROTOCOL_VERSION) {
      this.close(1008, `unsupported protocol version; this server speaks ${String(PROTOCOL_VERSION)}`)
      return
    }
    let principal = this.upgradePrincipal
    if (this.context.authenticate) {
      let result: unknown
      try {
        const request: AuthRequest = { ...this.request, ...(frame.token === undefined ? {} : { token: frame.token }) }
        result = await this.context.authenticate(request)
      } catch (error) {
        this.log('warn', 'authenticate threw', { error: errorName(error) })
        this.close(1011, 'authentication failed')
        return
      }
      if (this.closing) return
      if (result === null || (principal !== null && isPrincipal(result) && result.id !== principal.id)) {
        this.log('warn', 'authentication refused')
        this.close(CloseCodes.tokenInvalid, 'invalid token')
        return
      }
      if (!isPrincipal(result)) {
        this.log('warn', 'authenticate returned something other than a principal or null')
        this.close(1011, 'authentication failed')
        return
      }
      principal = result
    }
    principal ??= { id: 'anonymous', anonymous: true }
    this.stopHelloTimer()
    this.principal = principal
    const admitted = await this.context.admit(this, principal, frame.session)
    if ('code' in admitted) {
      this.log('warn', admitted.reason)
      this.close(admitted.code, admitted.reason)
      return
    }
    this.session = admitted.session
    this.log('info', 'connection ready', { resumed: admitted.resumed })
    const { options } = this.context
    this.sendFrame({
      type: 'welcome',
      session: admitted.session.id,
      resumed: admitted.resumed,
      heartbeatMs: options.heartbeatMs,
      maxMessageBytes: options.maxPayload,
      resumeWindowMs: options.resumeWindowMs,
    })
  }

  /** Whether the authorisation hook allows it; a throwing hook is logged and counts as a server error. */
  private async allowed(action: 'subscribe' | 'publish', channel: string): Promise<boolean | 'error'> {
    const { authorize } = this.context
    if (!authorize || !this.principal) return true
    try {
      return (await authorize({ principal: this.principal, action, channel })) === true
    } catch (error) {
      this.log('warn', 'authorize threw', { action, channel, error: errorName(error) })
      return 'error'
    }
  }

  private async subscribe(frame: Sub): Promise<void> {
    const { ch } = frame
    const problem = channelProblem(ch, this.context.options.maxChannelNameLength)
    if (problem) return this.sendError(WireErrorCodes.invalidChannel, problem, ch)
    const existing = this.subscriptions.get(ch)
    if (!existing && this.subscriptions.size >= this.context.options.maxChannelsPerConnection) {
      this.log('warn', 'too many channels', { channel: ch })
      return this.sendError(WireErrorCodes.tooManyChannels, 'subscription limit of this connection reached', ch)
    }
    const allowed = await this.allowed('subscribe', ch)
    if (this.closing) return
    if (allowed !== true) {
      this.dropSubscription(ch)
      if (allowed === 'error') return this.sendError(WireErrorCodes.serverError, 'authorisation failed', ch)
      this.log('warn', 'subscribe refused', { channel: ch })
      return this.sendError(WireErrorCodes.forbidden, 'not allowed to subscribe', ch)
    }
    // A repeated `sub` replaces the subscription: the client asked for a (re)play from a position.
    this.dropSubscription(ch)
    const subscription = new Subscription(ch, {
      broker: this.context.broker,
      message: (message) => this.sendMessage(message),
      frame: (reply) => this.sendFrame(reply),
      failed: (channel, error) => {
        if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel)
        this.log('warn', 'subscription failed', { channel, error: errorName(error) })
        this.sendError(WireErrorCodes.serverError, 'subscription failed', channel)
      },
      overflowed: (channel) => {
        this.log('warn', 'too many live messages while reading history', { channel })
        this.close(1013, 'slow consumer')
      },
    })
    this.subscriptions.set(ch, subscription)
    await subscription.start(frame.since)
  }

  private unsubscribe(ch: string): void {
    this.dropSubscription(ch)
    this.sendFrame({ type: 'unsubscribed', ch })
  }

  private dropSubscription(ch: string): void {
    this.subscriptions.get(ch)?.stop()
    this.subscriptions.delete(ch)
  }

  private async publish(frame: Pub, session: Session<Connection>): Promise<void> {
    const { id, ch } = frame
    const reply = (answer: ServerFrame): void => {
      if (answer.type === 'nack' && answer.code === WireErrorCodes.unavailable) {
        this.unavailableFrom ??= { id, at: performance.now() }
      }
      this.sendFrame(answer)
    }
    const nack = (code: WireErrorCode, reason: string): void => reply({ type: 'nack', id, code, reason })
    // Checked before the dedupe lookup, resends included: a refused publish is never acknowledged, whatever its id.
    const problem = channelProblem(ch, this.context.options.maxChannelNameLength)
    if (problem) return nack(WireErrorCodes.invalidChannel, problem)
    const allowed = await this.allowed('publish', ch)
    if (allowed === 'error') return nack(WireErrorCodes.serverError, 'authorisation failed')
    if (!allowed) {
      this.log('warn', 'publish refused', { channel: ch })
      return nack(WireErrorCodes.forbidden, 'not allowed to publish')
    }
    const blocked = this.unavailableFrom
    if (blocked && (blocked.id === id || performance.now() - blocked.at > UNAVAILABLE_HOLD_MS)) {
      this.unavailableFrom = null
    } else if (blocked) {
      return nack(WireErrorCodes.unavailable, 'an earlier message was refused: resend it first')
    }
    if (this.context.dedupe) {
      return publishOnce({
        frame,
        session,
        dedupe: this.context.dedupe,
        broker: this.context.broker,
        maxIds: this.context.options.maxDedupeIds,
        windowMs: this.context.options.resumeWindowMs,
        reply,
        log: (message, details) => this.log('warn', message, details),
        published: (position) => {
          if (!this.principal) return
          const { principal } = this
          this.context.published({ principal, session: session.id, channel: ch, id, data: frame.data, position })
        },
      })
    }
    const previous = session.dedupe.get(id)
    // A duplicate (a resend after a lost ack) is acknowledged again but never published twice.
    if (previous === 'acked' || (previous !== undefined && (await previous))) {
      this.sendFrame({ type: 'ack', id })
      return
    }
    let failure: WireErrorCode = WireErrorCodes.serverError
    // `data` comes from a frame at most maxJsonDepth (≤ 64) levels deep: JSON.stringify's recursion cannot overflow.
    const published = this.context.broker.publish(ch, JSON.stringify(frame.data)).then(
      (position) => {
        if (this.principal) {
          const event = { principal: this.principal, session: session.id, channel: ch, id, data: frame.data, position }
          this.context.published(event)
        }
        return true
      },
      (error: unknown) => {
        this.log('warn', 'publish failed', { channel: ch, error: errorName(error) })
        failure = publishFailure(error)
        return false
      },
    )
    session.dedupe.set(id, published)
    if (await published) {
      if (session.dedupe.get(id) === published) session.dedupe.set(id, 'acked')
      this.sendFrame({ type: 'ack', id })
    } else {
      if (session.dedupe.get(id) === published) session.dedupe.delete(id)
      nack(failure, 'publish failed')
    }
  }

  private stopHelloTimer(): void {
    if (this.helloTimer !== null) clearTimeout(this.helloTimer)
    this.helloTimer = null
  }

  private closed(code: number): void {
    this.closing = true
    this.stopHelloTimer()
    if (this.closeTimer !== null) clearTimeout(this.closeTimer)
    this.closeTimer = null
    this.queue.clear()
    for (const subscription of this.subscriptions.values()) subscription.stop()
    this.subscriptions.clear()
    this.log('info', 'connection closed', { code })
    this.context.released(this)
  }
}
