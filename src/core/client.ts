import type { Diagnosis } from './diagnose'
import { computeBackoff } from './backoff'
import { createEmitter } from './emitter'
import type { Fallback } from './fallback'
import { resolveEnvironment, type Environment } from './environment'
import { InvalidOptionsError, lifelineError, MessageTooLargeError, type LifelineError } from './errors'
import { createLogSink } from './logger'
import { initialMachineState, timerFor, transition, type Effect, type MachineEvent, type MachineState } from './machine'
import { resolveOptions, type LifelineOptions } from './options'
import { createOutbox, type OutboxItem } from './outbox'
import { rawProtocol, type Protocol, type ProtocolLink } from './protocol'
import { createWebSocketTransport, type Transport, type TransportHandlers } from './transport'
import { sanitizeCloseReason } from './close-codes'
import type { CloseInfo, ConnectionSnapshot, InboundData, InboundMessage, OutboundData, TransportKind } from './types'
import { jsonText, measureMessage, resolveUrl } from './validate'
import { MAX_JSON_DEPTH } from './wire'

/** Events a client emits. Subscribe with `client.on(type, listener)`. */
export interface ClientEvents {
  /** Every application message, in order (pongs and protocol frames excluded). */
  message: InboundMessage
  /** The connection became usable. */
  open: undefined
  /** A transport closed (code, reason, meaning). */
  close: CloseInfo
  /** An error was recorded in `lastError`. */
  error: LifelineError
  /** An outbox item failed (too large, rejected, expired, or not confirmed after its attempts). */
  messageFailed: { item: OutboxItem; error: LifelineError }
  /** The server ended the session (close 4003). */
  sessionExpired: undefined
}

/** Outbox actions, as the OfflineQueue component uses them. */
export interface OutboxControls {
  /** Every item held, oldest first. The same array until something changes. */
  items(): readonly OutboxItem[]
  /** Puts failed items (one, or all) back in the queue. */
  retry(id?: string): void
  /** Removes items (one, or all) without sending them. */
  discard(id?: string): void
}

/** Live resources of a client, for leak checks. */
export interface ClientResources {
  timers: number
  listeners: number
  sockets: number
}

/** One self-healing connection. Created by {@link createLifeline}. */
export interface LifelineClient {
  /** The resolved URL. */
  readonly url: string
  /** The resolved `maxAttempts` (`Infinity` by default), for "attempt n of max". */
  readonly maxAttempts: number
  /** The current snapshot (a new object on every change). */
  getSnapshot(): ConnectionSnapshot
  /** Calls `listener` after every snapshot change. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /** Listens to a client event. Returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void): () => void
  /** Starts connecting (no-op if already connecting or open). */
  connect(): void
  /** Closes for good (until `connect()`): no reconnect. Code 1000 or 3000–4999; reason ≤ 123 bytes. */
  close(code?: number, reason?: string): void
  /** Starts over now: attempt counter, backoff, token-refresh cap and any server-imposed wait reset. No-op while connecting or open. */
  retry(): void
  /**
   * Queues a message in the outbox and sends it when the connection is open. Returns its id.
   * Throws `InvalidMessageError`, `MessageTooLargeError` or `QueueFullError`; nothing already queued is lost.
   */
  send(data: OutboundData): string
  /**
   * `send(JSON.stringify(value))`, throwing `InvalidMessageError` for values JSON cannot represent and for arrays and
   * objects nested deeper than {@link MAX_JSON_DEPTH} levels.
   */
  sendJson(value: unknown): string
  /** The outbox: items and actions. */
  readonly outbox: OutboxControls
  /** The wire protocol in use (for `lifelineProtocol()`, its channel API). */
  readonly protocol: Protocol
  /**
   * Keeps the client connected while held: the first holder connects; after the last release the client closes once
   * `lingerMs` has passed without a new holder (so StrictMode's mount–unmount–mount opens one socket, not two).
   * Returns the release function (idempotent).
   */
  retain(lingerMs?: number): () => void
  /** Closes, releases every timer, listener and socket. The client cannot be used again. */
  dispose(): void
  /** Live timers, listeners and sockets (all zero after `dispose()`). */
  resources(): ClientResources
  /**
   * Wall time in epoch ms from the client's own clock (`environment.clock.now()`, `Date.now()` by default): the time
   * `nextRetryAt` and `lastClose.at` are on, so a countdown to them reads this, not `Date.now()`.
   */
  now(): number
}

let clientCount = 0
/** Message ids must not repeat across page loads (persisted items keep theirs): a random prefix per page. */
const pagePrefix = Math.random().toString(36).slice(2, 10)

/** Raw mode: how long a drained write must be followed by a live link before it counts as delivered, ms. */
const SETTLE_MS = 250

/** At most one `link.report()` per this many ms reaches `lastError` (one render); the rest are counted. */
const REPORT_INTERVAL_MS = 1000

/**
 * Whether `value` can be a session id the client keeps, persists and sends back: 1 to 128 printable ASCII characters
 * without spaces (docs/protocol.md §2). Anything else from a server or from storage is refused.
 */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value)
}

/** Creates a connection client. Throws `InvalidUrlError`, `InsecureTransportError` or `InvalidOptionsError`. */
export function createLifeline(options: LifelineOptions): LifelineClient {
  const resolved = resolveOptions(
    options.heartbeat === undefined && options.protocol?.heartbeatByDefault ? { ...options, heartbeat: true } : options,
  )
  const env: Environment = resolveEnvironment(options.environment)
  const url = resolveUrl(options.url, env.location)
  const config = resolved.machine
  const heartbeatConfig = resolved.heartbeat
  const heartbeatOptions = typeof options.heartbeat === 'object' ? options.heartbeat : {}
  const protocol =
    options.protocol ??
    rawProtocol({ ping: heartbeatOptions.message, isPong: heartbeatOptions.isPong, authMessage: options.authMessage })
  const clientId = ++clientCount
  let messageCount = 0
  const outbox = createOutbox(
    resolved.outbox,
    () => `${pagePrefix}${clientId}-${++messageCount}`,
    (item) => reportFailed(item, lifelineError('MESSAGE_DISCARDED', 'outbox full')),
  )
  const emitter = createEmitter<ClientEvents>()
  const listeners = new Set<() => void>()
  const liveTimers = new Set<unknown>()

  let token: string | null = null
  let tokenRequest: Promise<string> | null = null
  const log = createLogSink(options.logger, () => (token ? [token] : []))

  let state: MachineState = initialMachineState(env.network.get())
  let transport: Transport | null = null
  /** The transport has opened: writes are possible. */
  let writable = false
  const storage = options.outbox?.storage
  /** Sends wait until stored items are back in front of the queue. */
  let restored = !storage
  /** Saves the outbox after a change: set once by `outbox.storage` below, after every function it may call exists. */
  // eslint-disable-next-line prefer-const
  let sync: (() => void) | undefined
  /** The kind of the transport last created (the snapshot's `transport`). */
  let transportKind: TransportKind | null = null
  /** Monotonic ms when the current transport opened; null before. */
  let openedAt: number | null = null
  /** The long-poll fallback, if any: attached once below, after every function its host calls exists. */
  // eslint-disable-next-line prefer-const
  let fallback: Fallback | undefined
  const diagnose =
    options.diagnose ?? (!!options.fallback || typeof (globalThis as { document?: unknown }).document !== 'undefined')
  let diagnosing = false
  /** Refusals (unauthorised, origin, path) diagnosed in a row, and the last kind logged, since the last open. */
  let refusals = 0
  /** Tokens fetched so far, and how many there were when a 401 first asked for a fresh one (null: not asked). */
  let tokens = 0
  let staleTokens: number | null = null
  let logged: Diagnosis['kind'] | null = null
  /** The same finding twice in a row that changes nothing per attempt: no more probes until the next open. */
  let settled = false
  let latencyMs: number | null = null
  let session: ConnectionSnapshot['session'] = { id: null, resumed: null }
  let learnedLimit = Infinity
  let snapshot = buildSnapshot()
  let disposed = false

  let timerKey = ''
  let cancelTimer: (() => void) | null = null
  let heartbeat: Heartbeat | null = null
  let unwatch: (() => void) | null = null
  let cancelDrain: (() => void) | null = null
  /** `nack{UNAVAILABLE}`s in a row, and the wait before the outbox sends again (docs/protocol.md §4). */
  let deferrals = 0
  let cancelDeferral: (() => void) | null = null

  let holders = 0
  let cancelLinger: (() => void) | null = null

  const queue: MachineEvent[] = []
  let dispatching = false

  /** Runs `callback` after `ms`; returns the cancel function. Every timer of the client goes through here. */
  function later(callback: () => void, ms: number): () => void {
    const handle = env.timers.setTimeout(() => {
      liveTimers.delete(handle)
      callback()
    }, ms)
    liveTimers.add(handle)
    return () => {
      if (liveTimers.delete(handle)) env.timers.clearTimeout(handle)
    }
  }

  function dispatch(event: MachineEvent): void {
    queue.push(event)
    if (dispatching) return
    dispatching = true
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const before = state
        const step = transition(state, next, { now: env.clock.now(), random: env.random, config })
        state = step.state
        if (log && before.status !== state.status) log('debug', `${before.status} -> ${state.status} on ${next.type}`)
        for (const effect of step.effects) run(effect)
        if (state.lastError && state.lastError !== before.lastError) emitter.emit('error', state.lastError)
        syncActivities()
      }
    } finally {
      dispatching = false
    }
    publish()
  }

  /** Arms the state's delayed event, runs the heartbeat while open, watches the platform while active. */
  function syncActivities(): void {
    const key = `${state.status}:${state.epoch}:${state.nextRetryAt}`
    if (key !== timerKey) {
      timerKey = key
      cancelTimer?.()
      cancelTimer = null
      const spec = timerFor(state, { now: env.clock.now(), random: env.random, config })
      if (spec) {
        cancelTimer = later(() => {
          cancelTimer = null
          if (spec.event !== 'CONNECT_TIMEOUT') return dispatch({ type: spec.event })
          const waitingForToken = transport === null
          // A getToken() that never settles is abandoned, so that the next attempt asks again.
          if (waitingForToken) tokenRequest = null
          dispatch({ type: spec.event, waitingForToken })
        }, spec.delayMs)
      }
    }
    const shouldBeat = state.status === 'open' && heartbeatConfig !== null
    if (shouldBeat && !heartbeat) heartbeat = startHeartbeat()
    if (!shouldBeat && heartbeat) {
      heartbeat.stop()
      heartbeat = null
    }
    const active = !disposed && state.status !== 'idle' && state.status !== 'closed' && state.status !== 'failed'
    if (active && !unwatch) {
      const stopNetwork = env.network.subscribe((online) => dispatch({ type: online ? 'ONLINE' : 'OFFLINE' }))
      const stopVisibility = env.visibility.subscribe((visible) => dispatch({ type: visible ? 'VISIBLE' : 'HIDDEN' }))
      unwatch = () => {
        stopNetwork()
        stopVisibility()
      }
    } else if (!active && unwatch) {
      unwatch()
      unwatch = null
    }
  }

  /** `connect()` and `retry()`. Nobody watches the network while idle, closed or failed: read it afresh first. */
  function start(type: 'CONNECT' | 'RETRY'): void {
    if (disposed) return
    // Starting over: earlier findings (refusals, a settled diagnosis) no longer count.
    if (type === 'RETRY') {
      refusals = 0
      staleTokens = null
      settled = false
    }
    const online = env.network.get()
    if (!unwatch && online !== state.online) dispatch({ type: online ? 'ONLINE' : 'OFFLINE' })
    dispatch({ type })
  }

  function run(effect: Effect): void {
    switch (effect.type) {
      case 'openTransport':
        openTransport(state.epoch)
        return
      case 'closeTransport':
        stopDrain()
        transport?.close(effect.code, effect.reason)
        return
      case 'dropTransport':
        dropTransport()
        return
      case 'refreshToken':
        token = null
        return
      case 'flushOutbox':
        flush()
        return
      case 'failOutbound': {
        const item = outbox.failSuspect(effect.code)
        if (!item?.error) return
        if (effect.code === 1009) narrowLimit(item.bytes - 1, item.error)
        reportFailed(item)
        return
      }
      case 'expireSession':
        session = { id: null, resumed: null }
        options.onSessionExpired?.()
        emitter.emit('sessionExpired', undefined)
        return
      case 'probe':
        heartbeat?.probe()
        return
      default:
        effect satisfies never
    }
  }

  function failItem(item: OutboxItem, error: LifelineError): void {
    outbox.fail(item.id, error)
    reportFailed({ ...item, state: 'failed', error })
  }

  function reportFailed(item: OutboxItem, error = item.error!): void {
    emitter.emit('messageFailed', { item, error })
  }

  function openTransport(epoch: number): void {
    dropTransport()
    if (options.getToken && token === null) {
      requestToken().then(
        (value) => {
          token = value
          tokens += 1
          if (epoch === state.epoch && state.status === 'connecting') createTransport(epoch)
        },
        (error: unknown) => {
          if (epoch !== state.epoch || state.status !== 'connecting') return
          const typed = lifelineError('TOKEN_REFRESH_FAILED', 'getToken() failed', error)
          dispatch({ type: 'TOKEN_FAILED', error: typed })
        },
      )
      return
    }
    createTransport(epoch)
  }

  /** Single-flight: concurrent callers share one `getToken()` call. */
  function requestToken(): Promise<string> {
    if (tokenRequest) return tokenRequest
    const request: Promise<string> = Promise.resolve()
      .then(() => options.getToken!())
      .then((value) => {
        if (typeof value !== 'string' || !value) throw new TypeError(`getToken() returned ${typeof value}`)
        return value
      })
      .finally(() => {
        if (tokenRequest === request) tokenRequest = null
      })
    tokenRequest = request
    return request
  }

  function createTransport(epoch: number): void {
    const kind = fallback?.next() ?? 'websocket'
    const WebSocketClass = env.WebSocket
    if (kind === 'websocket' && !WebSocketClass) {
      dispatch({ type: 'FAIL', error: lifelineError('TRANSPORT_ERROR', 'no WebSocket') })
      return
    }
    const current = () => epoch === state.epoch && transport === created
    let created: Transport | null = null
    try {
      const handlers: TransportHandlers = {
        open: () => {
          if (!current()) return
          writable = true
          openedAt = env.clock.monotonic()
          protocol.opened(link)
        },
        message: (data) => {
          if (!current()) return
          heartbeat?.heard()
          try {
            protocol.received(data, link)
          } catch (error) {
            // A protocol's bug must not escape into the socket's event handler (in Node: an uncaught exception).
            report(lifelineError('PROTOCOL_ERROR', `${protocol.name} protocol threw`, error))
          }
        },
        error: (error) => {
          // The browser's bare "error" of a failed upgrade says less than the diagnosis already in lastError: keep it.
          const known = error.code === 'TRANSPORT_ERROR' && state.lastError?.code === 'HANDSHAKE_FAILED'
          if (current() && !known) dispatch({ type: 'ERROR', error })
        },
        close: (code, rawReason, wasClean) => {
          if (!current()) return
          transport = null
          const openedFor = openedAt === null ? null : env.clock.monotonic() - openedAt
          const ours = state.status === 'closing'
          openedAt = null
          lost()
          // Our close was answered: the server read every frame written before it, so nothing is in doubt.
          if (wasClean && state.status === 'closing') outbox.confirm()
          const reason = sanitizeCloseReason(rawReason)
          log?.('debug', `closed ${code}`, { reason, wasClean })
          dispatch({ type: 'CLOSED', code, reason, wasClean })
          if (state.lastClose) emitter.emit('close', state.lastClose)
          // After the close was handled (a 1009 fails an in-flight item first): the rest go back to the queue.
          requeue()
          publish()
          if (ours) return
          fallback?.failed(kind, openedFor)
          if (kind === 'websocket' && openedFor === null) diagnoseFailure()
        },
      }
      created =
        kind === 'longpoll'
          ? fallback!.create(handlers)
          : createWebSocketTransport(
              {
                url,
                protocols: options.protocols,
                WebSocket: WebSocketClass!,
                binaryType: options.binaryType ?? 'arraybuffer',
              },
              handlers,
            )
      transport = created
      transportKind = kind
    } catch (error) {
      dispatch({ type: 'FAIL', error: lifelineError('TRANSPORT_ERROR', 'constructor threw', error) })
    }
  }

  /**
   * Browsers hide why an upgrade failed: probe the URL over HTTP (loaded on first use), record the finding, stop after
   * a refusal seen twice in a row, honour a rate limit's wait, and log each new finding once per failure streak.
   */
  function diagnoseFailure(): void {
    if (!diagnose || diagnosing || settled) return
    diagnosing = true
    const usedTokens = tokens
    const finish = (found: Diagnosis, error: LifelineError) => {
      diagnosing = false
      if (disposed) return
      fallback?.diagnosed(found)
      const refused = found.kind === 'unauthorized' || found.kind === 'origin-refused' || found.kind === 'wrong-path'
      refusals = refused ? refusals + 1 : 0
      let stop = refusals >= 2
      if (found.kind === 'unauthorized' && options.getToken) {
        // A first 401 may be a stale token: ask getToken() for a fresh one, and stop only once a fresh one was refused
        // too (an attempt already under way with the old token proves nothing).
        if (staleTokens === null) {
          staleTokens = usedTokens
          token = null
        }
        stop = usedTokens > staleTokens
      }
      // Unreachable, down, offline or unknown twice: probing every retry would only double the requests (and the
      // console noise) of an outage. A rate limit's wait and the fallback's evidence are read afresh each time.
      // (Refusals are not settled this way: they are decided by stopping.) Not with a fallback: an outage's finding
      // does change once the server is back behind a proxy that blocks the upgrade, and only a probe tells the
      // fallback so; settled, a client that was on long-poll would retry the blocked WebSocket for ever.
      settled =
        !fallback &&
        found.kind === logged &&
        !refused &&
        found.kind !== 'rate-limited' &&
        found.kind !== 'upgrade-stripped'
      if (found.kind !== logged) {
        logged = found.kind
        const hint = error.hint ? ` ${error.hint}` : ''
        if (log) log('warn', error.message + hint)
        else if (process.env.NODE_ENV !== 'production') console.warn(`[lifeline] ${error.message}${hint}`)
      }
      if (state.status === 'open') return
      const holdMs = found.kind === 'rate-limited' ? found.retryAfterMs : null
      dispatch({ type: 'DIAGNOSED', error, stop, holdMs })
    }
    import('./diagnose').then(
      ({ diagnoseHandshake, diagnosisError }) =>
        diagnoseHandshake(url, {
          fetch: env.fetch,
          online: env.network.get(),
          timers: env.timers,
          now: env.clock.now,
        }).then((found) => finish(found, diagnosisError(found))),
      () => {
        diagnosing = false
      },
    )
  }

  function dropTransport(): void {
    if (!transport) return stopDrain()
    transport.drop()
    transport = null
    lost()
    requeue()
  }

  function lost(): void {
    stopDrain()
    if (writable) protocol.closed?.()
    writable = false
  }

  function requeue(): void {
    for (const item of outbox.requeue()) reportFailed(item)
  }

  /** Reports held back since the last one recorded (monotonic ms), and the newest of them. */
  let reportedAt = -Infinity
  let heldBack = 0
  let lastHeld: LifelineError | null = null

  /** Records a report now, or counts it and records a summary once {@link REPORT_INTERVAL_MS} has passed. */
  function report(error: LifelineError): void {
    const wait = reportedAt + REPORT_INTERVAL_MS - env.clock.monotonic()
    if (wait <= 0) {
      reportedAt = env.clock.monotonic()
      dispatch({ type: 'ERROR', error })
      return
    }
    lastHeld = error
    if (heldBack++ > 0) return
    later(() => {
      const count = heldBack
      heldBack = 0
      report(lifelineError(lastHeld!.code, `${lastHeld!.message} (${String(count)} more like it)`, lastHeld!.cause))
    }, wait)
  }

  const link: ProtocolLink = {
    write: (data) => writable && transport?.send(data),
    ready(info) {
      // Only the first ready() of a connection opens it (and emits 'open').
      if (state.status !== 'connecting') return
      if (info && (info.id !== session.id || info.resumed !== session.resumed)) session = { ...info }
      refusals = 0
      staleTokens = null
      logged = null
      settled = false
      if (transportKind) fallback?.opened(transportKind)
      dispatch({ type: 'OPENED' })
      emitter.emit('open', undefined)
    },
    deliver: (data: InboundData) => emitter.emit('message', { data, receivedAt: env.clock.now() }),
    pong: () => heartbeat?.pong(),
    confirm(id) {
      deferrals = 0
      outbox.confirm(id)
      publish()
    },
    defer(id) {
      outbox.defer(id)
      if (!cancelDeferral) {
        deferrals += 1
        const context = {
          attempt: deferrals,
          minDelayMs: config.minDelayMs,
          maxDelayMs: config.maxDelayMs,
          previousDelayMs: config.minDelayMs,
          random: env.random,
        }
        cancelDeferral = later(
          () => {
            cancelDeferral = null
            flush()
          },
          computeBackoff('full-jitter', context),
        )
      }
      publish()
    },
    reject(id, error) {
      const item = outbox.items().find((candidate) => candidate.id === id)
      if (item) failItem(item, error)
      publish()
    },
    fail: (error) => dispatch({ type: 'FAIL', error }),
    get token() {
      return token
    },
    get session() {
      return session.id
    },
    limit(bytes) {
      narrowLimit(bytes, new MessageTooLargeError(bytes + 1, bytes))
    },
    report,
  }

  /** Queued items over a limit learned from the server fail now instead of being refused one by one. */
  function narrowLimit(bytes: number, error: LifelineError): void {
    learnedLimit = Math.min(learnedLimit, bytes)
    for (const other of outbox.queued()) if (other.bytes > learnedLimit) failItem(other, error)
  }

  function flush(): void {
    for (const item of outbox.expire(env.clock.now())) {
      reportFailed(item, lifelineError('MESSAGE_EXPIRED'))
    }
    // The server asked for a pause: everything waits, so that order is kept and a struggling broker is not hammered.
    if (state.status !== 'open' || !transport || !restored || cancelDeferral) return
    const items = outbox.queued()
    for (const item of items) {
      transport.send(protocol.encode(item))
      outbox.markSending(item.id)
    }
    if (!items.length || protocol.confirmBy !== 'drain') return
    // With a heartbeat, a pong answering a ping written after these items proves the server read them (TCP keeps
    // order), so a link that died silently cannot lose them. Without one, the drain + settle window is the best signal.
    if (heartbeat) heartbeat.confirm()
    else if (!cancelDrain) waitForDrain(0)
  }

  /**
   * Raw mode: a written item is confirmed once the socket has handed every byte to the network and the link has then
   * stayed up for a settle window. Bytes in the kernel have not reached the server yet: a close that follows within the
   * window (RST or FIN on a link that died, the server's 1009 for that very message) requeues or fails the item
   * instead of losing it.
   */
  function waitForDrain(ms: number): void {
    cancelDrain = later(() => {
      cancelDrain = null
      if (!transport) return
      if (transport.buffered() > 0) return waitForDrain(25)
      const written = new Set(outbox.sending().map((item) => item.id))
      const settleMs = Math.max(SETTLE_MS, 2 * (latencyMs ?? 0))
      cancelDrain = later(() => {
        cancelDrain = null
        if (!transport) return
        const sending = outbox.sending()
        if (sending.every((item) => written.has(item.id))) outbox.confirm()
        else for (const id of written) outbox.confirm(id)
        publish()
        if (sending.length > written.size) waitForDrain(0)
      }, settleMs)
    }, ms)
  }

  function stopDrain(): void {
    cancelDrain?.()
    cancelDrain = null
  }

  interface Heartbeat {
    /** Any inbound frame: the link is alive. */
    heard(): void
    pong(): void
    /** Pings now unless a ping is already unanswered. */
    probe(): void
    /** Items were written: make sure a ping follows them, whose pong confirms them. */
    confirm(): void
    stop(): void
  }

  function startHeartbeat(): Heartbeat {
    const { intervalMs, timeoutMs } = heartbeatConfig!
    let cancelTimeout: (() => void) | null = null
    let pingAt = 0
    let lastTick = env.clock.monotonic()
    let lastWall = env.clock.now()
    /** Items written before the unanswered ping: its pong confirms them. */
    let covered: string[] = []
    const ping = () => {
      pingAt = env.clock.monotonic()
      covered = outbox.sending().map((item) => item.id)
      transport?.send(protocol.ping())
      cancelTimeout ??= later(() => {
        cancelTimeout = null
        dispatch({ type: 'HEARTBEAT_TIMEOUT' })
      }, timeoutMs)
    }
    let cancelTick = (): void => undefined
    const schedule = () => {
      cancelTick = later(() => {
        // A timer that fires far too late means the machine slept or the tab was frozen: the ping that follows is
        // the check. Either clock may have jumped; neither alone can cause a timeout, only a missing answer can.
        const monotonic = env.clock.monotonic()
        const drift = Math.max(monotonic - lastTick, env.clock.now() - lastWall) - intervalMs
        if (log && drift > timeoutMs) log('debug', `timer drift ${Math.round(drift)} ms; probing`)
        lastTick = monotonic
        lastWall = env.clock.now()
        ping()
        schedule()
      }, intervalMs)
    }
    schedule()
    return {
      heard() {
        cancelTimeout?.()
        cancelTimeout = null
      },
      pong() {
        if (!pingAt) return
        latencyMs = Math.round(env.clock.monotonic() - pingAt)
        pingAt = 0
        if (protocol.confirmBy === 'drain') {
          for (const id of covered) outbox.confirm(id)
          // Items written after that ping need a pong of their own.
          if (outbox.stats().inFlight) ping()
        }
        publish()
      },
      probe: () => {
        if (!cancelTimeout) ping()
      },
      confirm: () => {
        if (!pingAt) ping()
      },
      stop() {
        cancelTick()
        cancelTimeout?.()
      },
    }
  }

  function buildSnapshot(): ConnectionSnapshot {
    return {
      status: state.status,
      transport: transportKind,
      attempt: state.attempt,
      nextRetryAt: state.nextRetryAt,
      lastClose: state.lastClose,
      lastError: state.lastError,
      online: state.online || state.status === 'open',
      latencyMs,
      outbox: outbox.stats(),
      session,
    }
  }

  function publish(): void {
    if (restored) sync?.()
    const next = buildSnapshot()
    const changed = (Object.keys(next) as (keyof ConnectionSnapshot)[]).some((key) => next[key] !== snapshot[key])
    if (!changed) return
    snapshot = next
    for (const listener of listeners) listener()
  }

  function enqueue(data: OutboundData, channel?: string): string {
    if (disposed) throw lifelineError('INVALID_MESSAGE', 'disposed')
    const copy =
      data instanceof ArrayBuffer
        ? data.slice(0)
        : ArrayBuffer.isView(data)
          ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
          : data
    const bytes = measureMessage(copy as OutboundData)
    const limit = Math.min(resolved.maxMessageBytes, learnedLimit)
    if (bytes > limit) throw new MessageTooLargeError(bytes, limit)
    const item = outbox.add(copy as OutboundData, bytes, env.clock.now(), channel)
    flush()
    publish()
    return item.id
  }

  const client: LifelineClient = {
    url,
    maxAttempts: config.maxAttempts,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    on: emitter.on,
    protocol,
    connect: () => start('CONNECT'),
    close(code = 1000, reason = '') {
      // The problem texts are for developers (inline checks, so that bundlers drop them): production names the field.
      if (code !== 1000 && (code < 3000 || code > 4999 || !Number.isInteger(code))) {
        const problem = process.env.NODE_ENV !== 'production' ? 'must be 1000 or 3000–4999' : 'invalid'
        throw new InvalidOptionsError([{ field: 'code', problem }])
      }
      if (sanitizeCloseReason(reason) !== reason) {
        const problem =
          process.env.NODE_ENV !== 'production' ? 'must be ≤ 123 UTF-8 bytes without control characters' : 'invalid'
        throw new InvalidOptionsError([{ field: 'reason', problem }])
      }
      dispatch({ type: 'CLOSE', code, reason })
    },
    retry: () => start('RETRY'),
    send: (data) => enqueue(data),
    sendJson: (value) => client.send(jsonText(value, MAX_JSON_DEPTH)),
    outbox: {
      items: outbox.items,
      retry(id) {
        outbox.retry(id)
        flush()
        publish()
      },
      discard(id) {
        for (const item of outbox.discard(id)) {
          if (item.state !== 'failed') reportFailed(item, lifelineError('MESSAGE_DISCARDED'))
        }
        publish()
      },
    },
    retain(lingerMs = 0) {
      holders++
      cancelLinger?.()
      cancelLinger = null
      client.connect()
      let held = true
      return () => {
        if (!held) return
        held = false
        if (--holders > 0 || disposed) return
        cancelLinger = later(() => {
          cancelLinger = null
          if (state.status !== 'closed' && state.status !== 'closing') client.close()
        }, lingerMs)
      }
    },
    dispose() {
      if (disposed) return
      if (state.status === 'open' || state.status === 'connecting') dispatch({ type: 'CLOSE', code: 1000, reason: '' })
      disposed = true
      dropTransport()
      fallback?.dispose()
      // The CLOSE above stopped the heartbeat; every timer left (delayed event, drain, linger) is in liveTimers.
      unwatch?.()
      unwatch = null
      for (const handle of liveTimers) env.timers.clearTimeout(handle)
      liveTimers.clear()
      state = { ...state, status: 'closed', nextRetryAt: null }
      publish()
      listeners.clear()
      emitter.clear()
    },
    now: () => env.clock.now(),
    resources: () => ({
      timers: liveTimers.size,
      listeners: listeners.size + emitter.size() + (unwatch ? 2 : 0),
      sockets: transport ? 1 : 0,
    }),
  }

  sync = storage?.attach({
    outbox,
    session: () => session.id,
    resume(id) {
      if (session.id === null && isSessionId(id)) session = { id, resumed: null }
    },
    overflow: (item) => reportFailed(item, lifelineError('QUEUE_FULL')),
    error: (error) => dispatch({ type: 'ERROR', error }),
    restored() {
      if (disposed) return
      restored = true
      flush()
      publish()
    },
  })
  protocol.attach?.({
    enqueue,
    later,
    now: () => env.clock.now(),
    onSessionExpired: (listener) => emitter.on('sessionExpired', listener),
  })

  fallback = options.fallback?.attach({
    url,
    protocols: options.protocols,
    env,
    later,
    ping: () => protocol.ping(),
    switchNow: () => dispatch({ type: 'SWITCH' }),
    log,
  })

  if (options.autoConnect !== false) client.connect()
  return client
}
