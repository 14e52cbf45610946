import type { ClientParts } from './client-types'
import { resolveCloseMeaning, sanitizeCloseReason } from './close-codes'
import { InvalidOptionsError, lifelineError, type LifelineError } from './errors'
import type { Effect } from './machine'
import type { ProtocolLink } from './protocol'
import { createWebSocketTransport, type Transport, type TransportHandlers } from './transport'
import type { ConnectionSnapshot, TransportKind } from './types'
import { resolveUrl } from './validate'

/** At most one `link.report()` per this many ms reaches `lastError` (one render); the rest are counted. */
const REPORT_INTERVAL_MS = 1000

/**
 * Whether `value` can be a session id the client keeps, persists and sends back: 1 to 128 printable ASCII characters
 * without spaces (docs/protocol.md §2). Anything else from a server or from storage is refused.
 */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value)
}

/** Throws `InvalidOptionsError` unless `client.close(code, reason)` may send them: 1000 or 3000–4999, ≤ 123 bytes. */
export function checkClose(code: number, reason: string): void {
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
}

/** One transport at a time: opens it (after a token), routes its events to the machine and the protocol. */
export interface Connection {
  /** The live transport, if any. */
  readonly transport: Transport | null
  /** The kind of the transport last created (the snapshot's `transport`). */
  kind: TransportKind | null
  /** The server's session: the id to resume, and whether the last `ready()` resumed it. */
  session: ConnectionSnapshot['session']
  /** Abandons the transport, if any: written items go back to the queue. */
  drop(): void
  /** Performs an effect of a machine transition. */
  perform(effect: Effect): void
}

/** Creates the {@link Connection} of one client. */
export function createConnection(parts: ClientParts): Connection {
  const { env, log, protocol, outbox, emitter, lifecycle, runtime, delivery, fallback, tokens, options } = parts
  const { clock } = env
  let transport: Transport | null = null
  /** The transport has opened: writes are possible. */
  let writable = false
  /** Monotonic ms when the current transport opened; null before. */
  let openedAt: number | null = null
  /** Reports held back since the last one recorded (monotonic ms), and the newest of them. */
  let reportedAt = -Infinity
  let heldBack = 0
  let lastHeld: LifelineError | null = null

  /** Whether the attempt of `epoch` is still the one under way. */
  const connecting = (epoch: number) => epoch === runtime.state.epoch && runtime.state.status === 'connecting'

  /** Opens a transport for the attempt `epoch` (resolving a URL function and fetching a token first when needed). */
  function open(epoch: number): void {
    drop()
    const source = options.url
    if (typeof source !== 'function') return authorize(epoch)
    // A throw, a rejection or a bad URL is a failed attempt: retried under the backoff like a failed getToken().
    const failed = (error: LifelineError) => {
      if (connecting(epoch)) runtime.dispatch({ type: 'TOKEN_FAILED', error })
    }
    new Promise<string>((resolve) => resolve(source())).then(
      (value) => {
        if (!connecting(epoch)) return
        try {
          parts.url = (parts.transport?.resolve ?? resolveUrl)(value, env.location)
        } catch (error) {
          return failed(error as LifelineError)
        }
        authorize(epoch)
      },
      (error: unknown) => failed(lifelineError('URL_FAILED', 'url() failed', error)),
    )
  }

  function authorize(epoch: number): void {
    if (!tokens || tokens.current !== null) return create(epoch)
    tokens.fetch(
      () => {
        if (connecting(epoch)) create(epoch)
      },
      (error: unknown) => {
        if (!connecting(epoch)) return
        const typed = lifelineError('TOKEN_REFRESH_FAILED', 'getToken() failed', error)
        runtime.dispatch({ type: 'TOKEN_FAILED', error: typed })
      },
    )
  }

  function create(epoch: number): void {
    const plugin = parts.transport
    const next: TransportKind = plugin ? 'sse' : (fallback?.next() ?? 'websocket')
    const WebSocketClass = env.WebSocket
    if (next === 'websocket' && !WebSocketClass) {
      return runtime.dispatch({ type: 'FAIL', error: lifelineError('TRANSPORT_ERROR', 'no WebSocket') })
    }
    const current = () => epoch === runtime.state.epoch && transport === created
    let created: Transport | null = null
    try {
      const handlers: TransportHandlers = {
        open: () => {
          if (!current()) return
          writable = true
          openedAt = clock.monotonic()
          protocol.opened(link)
        },
        message: (data, event) => {
          if (!current()) return
          parts.heartbeat()?.heard()
          // An event stream carries application events only: no protocol to read them, and they keep type and id.
          if (event) return emitter.emit('message', { data, receivedAt: clock.now(), ...event })
          try {
            protocol.received(data, link)
          } catch (error) {
            // A protocol's bug must not escape into the socket's event handler (in Node: an uncaught exception).
            report(lifelineError('PROTOCOL_ERROR', `${protocol.name} protocol threw`, error))
          }
        },
        error: (error) => {
          // The browser's bare "error" of a failed upgrade says less than the diagnosis already in lastError: keep it.
          const known = error.code === 'TRANSPORT_ERROR' && runtime.state.lastError?.code === 'HANDSHAKE_FAILED'
          if (current() && !known) runtime.dispatch({ type: 'ERROR', error })
        },
        resumed(resumed) {
          if (!current()) return
          connection.session = { id: null, resumed }
          parts.publish()
        },
        fail: (error) => {
          if (!current()) return
          transport = null
          openedAt = null
          lost()
          runtime.dispatch({ type: 'FAIL', error })
          delivery.requeue()
          parts.publish()
        },
        close: (code, rawReason, wasClean) => {
          if (!current()) return
          transport = null
          const openedFor = openedAt === null ? null : clock.monotonic() - openedAt
          const ours = runtime.state.status === 'closing'
          openedAt = null
          lost()
          // Our close was answered: the server read every frame written before it, so nothing is in doubt.
          if (wasClean && ours) outbox.confirm()
          const reason = sanitizeCloseReason(rawReason)
          log?.('debug', `closed ${code}`, { reason, wasClean })
          const { shouldReconnect } = parts.options
          const stop =
            !ours &&
            !!shouldReconnect &&
            !shouldReconnect({
              code,
              reason,
              wasClean,
              at: clock.now(),
              meaning: resolveCloseMeaning(code, parts.options.closeCodes),
            })
          runtime.dispatch({ type: 'CLOSED', code, reason, wasClean, stop })
          if (runtime.state.lastClose) emitter.emit('close', runtime.state.lastClose)
          // After the close was handled (a 1009 fails an in-flight item first): the rest go back to the queue.
          delivery.requeue()
          parts.publish()
          if (!ours) lifecycle.emit('failed', { kind: next, openedFor })
        },
      }
      created = plugin
        ? plugin.create(parts.url, handlers)
        : next === 'longpoll'
          ? fallback!.create(handlers)
          : createWebSocketTransport(
              {
                url: parts.url,
                protocols: options.protocols,
                WebSocket: WebSocketClass!,
                binaryType: options.binaryType ?? 'arraybuffer',
              },
              handlers,
            )
      transport = created
      connection.kind = next
    } catch (error) {
      runtime.dispatch({ type: 'FAIL', error: lifelineError('TRANSPORT_ERROR', 'constructor threw', error) })
    }
  }

  function drop(): void {
    if (!transport) return delivery.stop()
    transport.drop()
    transport = null
    lost()
    delivery.requeue()
  }

  function lost(): void {
    delivery.stop()
    if (writable) protocol.closed?.()
    writable = false
  }

  /** Records a report now, or counts it and records a summary once {@link REPORT_INTERVAL_MS} has passed. */
  function report(error: LifelineError): void {
    const wait = reportedAt + REPORT_INTERVAL_MS - clock.monotonic()
    if (wait <= 0) {
      reportedAt = clock.monotonic()
      return runtime.dispatch({ type: 'ERROR', error })
    }
    lastHeld = error
    if (heldBack++ > 0) return
    parts.later(() => {
      const count = heldBack
      heldBack = 0
      report(lifelineError(lastHeld!.code, `${lastHeld!.message} (${String(count)} more like it)`, lastHeld!.cause))
    }, wait)
  }

  function perform(effect: Effect): void {
    switch (effect.type) {
      case 'openTransport':
        return open(runtime.state.epoch)
      case 'closeTransport':
        delivery.stop()
        return transport?.close(effect.code, effect.reason)
      case 'dropTransport':
        return drop()
      case 'refreshToken':
        return tokens?.invalidate()
      case 'flushOutbox':
        return delivery.flush()
      case 'failOutbound':
        return delivery.failSuspect(effect.code)
      case 'expireSession':
        connection.session = { id: null, resumed: null }
        options.onSessionExpired?.()
        return emitter.emit('sessionExpired', undefined)
      case 'probe':
        return parts.heartbeat()?.probe()
      default:
        effect satisfies never
    }
  }

  const connection: Connection = {
    get transport() {
      return transport
    },
    kind: null,
    session: { id: null, resumed: null },
    drop,
    perform,
  }

  const link: ProtocolLink = {
    write: (data) => writable && transport?.send(data),
    ready(info) {
      // Only the first ready() of a connection opens it (and emits 'open').
      if (runtime.state.status !== 'connecting') return
      const { session } = connection
      if (info && (info.id !== session.id || info.resumed !== session.resumed)) connection.session = { ...info }
      if (connection.kind) lifecycle.emit('opened', connection.kind)
      runtime.dispatch({ type: 'OPENED' })
      emitter.emit('open', undefined)
    },
    deliver: (data) => emitter.emit('message', { data, receivedAt: clock.now() }),
    pong: () => parts.heartbeat()?.pong(),
    confirm(id) {
      delivery.confirmed()
      outbox.confirm(id)
      parts.publish()
    },
    defer: (id) => delivery.defer(id),
    reject(id, error) {
      const item = outbox.items().find((candidate) => candidate.id === id)
      if (item) delivery.fail(item, error)
      parts.publish()
    },
    fail: (error) => runtime.dispatch({ type: 'FAIL', error }),
    get token() {
      return tokens?.current ?? null
    },
    get session() {
      return connection.session.id
    },
    limit: (bytes) => delivery.limit(bytes),
    report,
  }

  return connection
}
