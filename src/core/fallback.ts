import type { Diagnosis } from './diagnose'
import type { Environment, Timers } from './environment'
import { createLongPollTransport, type FetchLike, type LongPollTransportConfig } from './longpoll-transport'
import { createWebSocketTransport, type Transport, type TransportHandlers } from './transport'
import type { OutboundData, TransportKind } from './types'

/** Options of {@link longPollFallback}. DESIGN §5. */
export interface LongPollFallbackOptions {
  /**
   * WebSocket attempts in a row that fail while plain HTTP to the server works (the upgrade is refused or stripped on
   * the way, or the socket dies within a second of opening) before the client moves to long-poll.
   * @default 2
   */
  fallbackAfter?: number
  /** Moves to long-poll sooner when WebSocket has been failing this long, ms, while plain HTTP works. @default 2500 */
  fallbackAfterMs?: number
  /**
   * While on long-poll, how often a WebSocket upgrade is tried in the background, ms (each wait jittered by ±25 %). Once
   * one opens and answers a ping, the client moves back to WebSocket, resuming its session.
   * @default 60000
   */
  upgradeProbeMs?: number
  /** How long a background WebSocket probe may take to open and answer its ping, ms. @default 10000 */
  probeTimeoutMs?: number
  /**
   * Where the choice is remembered for the page session, so a reload starts on long-poll at once (and probes):
   * `sessionStorage` by default; `null` remembers nothing. Only the transport name is stored, under
   * `lifeline:transport:<origin+path>`.
   * @default globalThis.sessionStorage
   */
  // Storage's methods spelled out: the published types must not need the DOM lib.
  storage?: {
    getItem(key: string): string | null
    setItem(key: string, value: string): void
    removeItem(key: string): void
  } | null
  /** Settings of the long-poll transport (poll and request timeouts, batch size, Retry-After bounds). @default {} */
  longPoll?: Omit<LongPollTransportConfig, 'url' | 'fetch' | 'timers' | 'now'>
}

/** What the client gives a fallback. Internal contract between {@link createLifeline} and {@link longPollFallback}. */
export interface FallbackHost {
  /** The resolved WebSocket URL. */
  readonly url: string
  readonly protocols: string | string[] | undefined
  readonly env: Environment
  /** A client timer (cancelled on dispose); returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  /** The protocol's heartbeat ping, written by a background probe after it opens. */
  ping(): OutboundData
  /** Reconnect at once on the transport {@link Fallback.next} now names. */
  switchNow(): void
  log?: ((level: 'debug' | 'warn', message: string) => void) | null | undefined
}

/** A fallback attached to one client. */
export interface Fallback {
  /** The transport for the next attempt. */
  next(): TransportKind
  /** Opens a long-poll transport to the client's server. */
  create(handlers: TransportHandlers): Transport
  /**
   * An attempt ended. `openedForMs`: how long it was open, `null` when it failed before opening (for WebSocket, a
   * diagnosis follows through {@link Fallback.diagnosed}).
   */
  failed(kind: TransportKind, openedForMs: number | null): void
  /** What probing a handshake that failed before open found. */
  diagnosed(diagnosis: Diagnosis): void
  /** A transport opened (passed the protocol's handshake). */
  opened(kind: TransportKind): void
  /**
   * Moves to `kind` now, as if the evidence said so (devtools, `simulateFault`): on long-poll the background probe
   * still moves back to WebSocket once an upgrade works.
   */
  force(kind: TransportKind): void
  dispose(): void
}

/** The `fallback` option of `createLifeline`: built by {@link longPollFallback}. */
export interface TransportFallback {
  readonly kind: 'longpoll'
  attach(host: FallbackHost): Fallback
}

/** A socket that lives shorter than this after opening counts as a failed attempt (a proxy killing it after 101). */
const SHORT_LIVED_MS = 1000

/**
 * The HTTP long-poll fallback for the lifeline protocol (DESIGN §5): after `fallbackAfter` WebSocket failures (or
 * `fallbackAfterMs`) while plain HTTP to the server works, the client reconnects over long-poll with the same session,
 * so subscriptions, resume positions and the outbox carry over; `snapshot.transport` says `longpoll`. A background
 * WebSocket probe every `upgradeProbeMs` (jittered) moves it back. The choice is remembered for the page session.
 * Never downgrades: `wss:` polls over `https:`. A server that is simply down is not a reason to fall back (its HTTP
 * does not work either), so an ordinary restart comes back on WebSocket.
 *
 * @example createLifeline({ url, protocol: lifelineProtocol(), fallback: longPollFallback() })
 */
export function longPollFallback(options: LongPollFallbackOptions = {}): TransportFallback {
  const fallbackAfter = Math.max(1, options.fallbackAfter ?? 2)
  const fallbackAfterMs = Math.max(0, options.fallbackAfterMs ?? 2500)
  const upgradeProbeMs = Math.max(1, options.upgradeProbeMs ?? 60_000)
  const probeTimeoutMs = Math.max(1, options.probeTimeoutMs ?? 10_000)
  return {
    kind: 'longpoll',
    attach(host) {
      const { env } = host
      const storage = options.storage === undefined ? sessionStore() : options.storage
      const key = `lifeline:transport:${host.url.replace(/[?#].*$/, '')}`
      const fetchFn: FetchLike | undefined = (env.fetch ?? (globalThis as { fetch?: FetchLike }).fetch) as
        FetchLike | undefined
      let mode: TransportKind = read(storage, key) === 'longpoll' && fetchFn ? 'longpoll' : 'websocket'
      /** Counted failures of the current streak, and when the first happened (monotonic ms). */
      let failures = 0
      let streakStart: number | null = null
      let httpWorks = false
      let pollFailures = 0
      let cancelProbe: (() => void) | null = null
      let probeSocket: { close(): void } | null = null
      let confirming = false
      /** Changes whenever the streak ends: a confirmation answering for an older streak is ignored. */
      let streak = 0
      let disposed = false

      const remember = () => {
        try {
          if (mode === 'longpoll') storage?.setItem(key, 'longpoll')
          else storage?.removeItem(key)
        } catch (_error) {
          // Storage full or blocked: the choice is simply not remembered.
        }
      }

      const resetStreak = () => {
        streak += 1
        failures = 0
        streakStart = null
        httpWorks = false
      }

      const count = () => {
        const now = env.clock.monotonic()
        streakStart ??= now
        failures += 1
        if (mode !== 'websocket' || !fetchFn || !httpWorks || confirming) return
        if (failures < fallbackAfter && now - streakStart < fallbackAfterMs) return
        // Confirm with one more upgrade first: evidence gathered while a server restarts (an attempt refused while it
        // was down, the probe answered once it was up) must not move a working connection to long-poll.
        confirming = true
        const current = streak
        tryWebSocket((ok) => {
          confirming = false
          if (disposed || mode !== 'websocket' || current !== streak) return
          if (ok) resetStreak()
          else {
            mode = 'longpoll'
            host.log?.('debug', `WebSocket blocked: falling back to long-poll after ${failures} attempts`)
            remember()
          }
          host.switchNow()
        })
      }

      const stopProbe = () => {
        cancelProbe?.()
        cancelProbe = null
        probeSocket?.close()
        probeSocket = null
      }

      /** Tries an upgrade in the background; moves back to WebSocket once one opens and answers a ping. */
      const scheduleProbe = () => {
        stopProbe()
        if (disposed || mode !== 'longpoll' || !env.WebSocket) return
        const wait = upgradeProbeMs * (0.75 + env.random() * 0.5)
        cancelProbe = host.later(() => {
          cancelProbe = null
          probe()
        }, wait)
      }

      const probe = () => {
        if (disposed || mode !== 'longpoll') return
        tryWebSocket((ok) => {
          if (disposed || mode !== 'longpoll') return
          if (!ok) return scheduleProbe()
          host.log?.('debug', 'WebSocket works again: moving back from long-poll')
          mode = 'websocket'
          remember()
          host.switchNow()
        })
      }

      /** Opens a WebSocket beside the client's transport; `ok` once it opened and answered a ping, then closes it. */
      const tryWebSocket = (done: (ok: boolean) => void) => {
        const WebSocketClass = env.WebSocket
        if (!WebSocketClass) return done(false)
        let settled = false
        let socket: Transport | null = null
        const finish = (ok: boolean) => {
          if (settled) return
          settled = true
          cancelTimeout()
          probeSocket = null
          socket?.close(1000, '')
          done(ok)
        }
        const cancelTimeout = host.later(() => finish(false), probeTimeoutMs)
        try {
          socket = createWebSocketTransport(
            { url: host.url, protocols: host.protocols, WebSocket: WebSocketClass, binaryType: 'arraybuffer' },
            {
              open: () => socket?.send(host.ping()),
              message: () => finish(true),
              close: () => finish(false),
              error: () => undefined,
            },
          )
        } catch (_error) {
          return finish(false)
        }
        probeSocket = { close: () => finish(false) }
      }

      return {
        next: () => mode,
        create(handlers) {
          return createLongPollTransport(
            { ...options.longPoll, url: host.url, fetch: fetchFn!, timers: timersOf(host), now: env.clock.now },
            handlers,
          )
        },
        failed(kind, openedForMs) {
          if (kind === 'longpoll') {
            // Long-poll failing too: the block may be over (or HTTP is down as well); WebSocket gets the next turn.
            if (openedForMs === null && ++pollFailures >= fallbackAfter) {
              pollFailures = 0
              mode = 'websocket'
              remember()
            }
            return
          }
          // Before open, the diagnosis decides whether plain HTTP works; a socket killed right after 101 proves it.
          if (openedForMs === null || openedForMs >= SHORT_LIVED_MS) return
          httpWorks = true
          count()
        },
        diagnosed(diagnosis) {
          // The server would accept this client over plain HTTP (426, or a 400 from something in between): the upgrade
          // itself is what fails. Anything else (down, refused, offline) is not fixed by long-poll, and breaks the
          // streak: HTTP does not work either.
          if (diagnosis.kind !== 'upgrade-stripped') return resetStreak()
          httpWorks = true
          count()
        },
        opened(kind) {
          pollFailures = 0
          resetStreak()
          if (kind === 'websocket') {
            stopProbe()
            if (mode !== 'websocket') {
              mode = 'websocket'
              remember()
            }
          } else if (!cancelProbe && !probeSocket) scheduleProbe()
        },
        force(kind) {
          if (disposed) return
          resetStreak()
          stopProbe()
          mode = kind
          remember()
          host.switchNow()
        },
        dispose() {
          disposed = true
          stopProbe()
        },
      }
    },
  }
}

/** Client timers for the long-poll transport: its requests' timeouts are cancelled on dispose with the rest. */
function timersOf(host: FallbackHost): Timers {
  return {
    setTimeout: (callback, ms) => host.later(callback, ms),
    clearTimeout: (cancel) => (cancel as () => void)(),
  }
}

function sessionStore(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null {
  try {
    return (globalThis as { sessionStorage?: Storage }).sessionStorage ?? null
  } catch (_error) {
    // Access denied (sandboxed iframe, blocked storage).
    return null
  }
}

function read(storage: Pick<Storage, 'getItem'> | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null
  } catch (_error) {
    return null
  }
}
