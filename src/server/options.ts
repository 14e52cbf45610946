import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http'
import { InvalidOptionsError, MAX_JSON_DEPTH } from '../core'
import type { OptionIssue, StreamPosition } from '../core'
import type { Broker } from './broker'

/** Who a connection belongs to, as returned by an authentication hook. `id` scopes sessions and connection caps. */
export interface Principal {
  /** Stable identity (a user id). Logged; never put a secret here. */
  readonly id: string
  /** Anything else the application wants to carry to `authorize`. */
  readonly [key: string]: unknown
}

/** Whether an authentication hook's result is a usable principal. Internal. */
export function isPrincipal(value: unknown): value is Principal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Principal).id === 'string' &&
    (value as Principal).id !== ''
  )
}

/** The server's internal logging function (no-op without a logger). Internal. */
export type ServerLog = (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) => void

/** What an authentication hook sees. */
export interface AuthRequest {
  /** Headers of the HTTP upgrade request (cookies, `Authorization`, …). */
  readonly headers: IncomingHttpHeaders
  /** Path and query of the upgrade request. */
  readonly url: string
  /** Peer address of the TCP connection. */
  readonly remoteAddress: string | undefined
  /** The token from `hello` (absent in `authenticateUpgrade`, and when `hello` carried none). */
  readonly token?: string
}

/** What the authorisation hook sees, once per `sub` and once per `pub`. */
export interface AuthorizeRequest {
  /** The connection's principal. */
  readonly principal: Principal
  /** What the client asks to do. */
  readonly action: 'subscribe' | 'publish'
  /** The channel it asks to do it on (already validated for length and charset). */
  readonly channel: string
}

/** A client `pub` the server applied, as passed to {@link LifelineServerOptions.onPublished}. */
export interface PublishedEvent {
  /** The publishing connection's principal. */
  readonly principal: Principal
  /** The publishing session's id (a client secret: do not log it). */
  readonly session: string
  /** Channel it was published on. */
  readonly channel: string
  /** The client message id (unique per session). */
  readonly id: string
  /**
   * The message data, as parsed from the frame: every key kept as an own data property, `__proto__` included, so never
   * merge it into an existing object. A payload: do not log it.
   */
  readonly data: unknown
  /** Where the broker put it. */
  readonly position: StreamPosition
}

/** Where the server logs. It never passes tokens, payloads or session ids; principal ids and channels at most. */
export interface ServerLogger {
  /** Routine events: connections accepted and closed. */
  info(message: string, details?: Record<string, unknown>): void
  /** Refusals and faults: origin or auth refused, rate limited, slow consumer, reaped, hook errors. */
  warn(message: string, details?: Record<string, unknown>): void
}

/** Server-side liveness checking. */
export interface ServerHeartbeatOptions {
  /**
   * How often clients should ping (sent to them in `welcome.heartbeatMs`); the server also sends a WebSocket ping
   * frame to every connection twice per interval.
   * @default 25000
   */
  intervalMs?: number
  /**
   * A connection that sent nothing (no frame, no pong) for this long is terminated as dead (half-open link).
   * @default 2 × intervalMs
   */
  timeoutMs?: number
}

/** How long and how much history is kept for resuming. */
export interface ResumeOptions {
  /**
   * Replay window and session lifetime after a disconnect, ms. Sent to clients in `welcome.resumeWindowMs`.
   * @default 120000
   */
  windowMs?: number
  /**
   * Messages kept per channel for replay (default broker only).
   * @default 1000
   */
  maxMessages?: number
  /**
   * Bytes of message data kept per channel for replay (default broker only).
   * @default 1048576
   */
  maxBytes?: number
}

/** Per-connection token bucket over inbound frames. */
export interface RateLimitOptions {
  /**
   * Frames allowed per `perMs` (also the burst size).
   * @default 2000
   */
  messages?: number
  /**
   * The period of `messages`, ms.
   * @default 2000
   */
  perMs?: number
}

/** The HTTP long-poll transport, served next to the WebSocket (docs/protocol.md §8). */
export interface LongPollOptions {
  /**
   * How long a `GET` waits for frames before it is answered with an empty batch, ms. Keep it below the idle timeout of
   * every proxy between clients and the server (often 30–60 s); clients wait a little longer before they give up.
   * @default 25000
   */
  pollTimeoutMs?: number
  /**
   * A long-poll connection with no request in progress and none for this long is closed (its session can still be
   * resumed within the resume window); later requests for it are answered 410 Gone, and the client starts over.
   * @default 30000
   */
  idleTimeoutMs?: number
}

/** The Server-Sent Events endpoint, served next to the WebSocket (docs/protocol.md §9). */
export interface SseOptions {
  /**
   * Interval of the `: keep-alive` comment on an open stream, ms: keeps proxies from cutting an idle stream and lets the
   * client's idle watchdog see life. Keep it below the idle timeout of every proxy between clients and the server.
   * @default 15000
   */
  keepAliveMs?: number
}

/** Options of {@link createLifelineServer}. Give either `server` or `port`. */
export interface LifelineServerOptions {
  /**
   * An existing HTTP(S) server to attach to: the lifeline server handles its `upgrade` events for `path` and leaves
   * every other request and upgrade alone. Set its `headersTimeout` yourself against slowloris.
   * @default undefined
   */
  server?: HttpServer
  /**
   * Port to listen on with a server of its own (0 picks a free one). Ignored with `server`.
   * @default undefined
   */
  port?: number
  /**
   * Interface to listen on with a server of its own.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Only upgrades to this exact pathname are handled.
   * @default '/lifeline'
   */
  path?: string
  /**
   * Browser origins allowed to connect, compared exactly (`https://app.example.com`; scheme, host and non-default
   * port, no path). No wildcards; the `null` origin is always refused. The default refuses every browser page; clients
   * that send no `Origin` (Node, native apps) are governed by `allowNoOrigin`.
   * @default []
   */
  allowedOrigins?: readonly string[]
  /**
   * Whether requests without an `Origin` header (non-browser clients) may connect.
   * @default true
   */
  allowNoOrigin?: boolean
  /**
   * Authenticates the upgrade request before the 101 (cookies, headers); `null` refuses it with 401.
   * @default undefined
   */
  authenticateUpgrade?: (request: AuthRequest) => Principal | null | Promise<Principal | null>
  /**
   * Authenticates the token sent in `hello`; `null` closes the connection with 4001. Without either hook every client
   * is the anonymous principal `{ id: 'anonymous' }` (capped by `maxAnonymousConnections`, not the per-principal caps).
   * @default undefined
   */
  authenticate?: (request: AuthRequest) => Principal | null | Promise<Principal | null>
  /**
   * Authorises every `sub` and every `pub`; false refuses (error `FORBIDDEN` for a sub, nack for a pub).
   * @default undefined (everything allowed)
   */
  authorize?: (request: AuthorizeRequest) => boolean | Promise<boolean>
  /**
   * Time a connection has to send `hello` and be authenticated, ms; then it is closed with 4001.
   * @default 5000
   */
  helloTimeoutMs?: number
  /**
   * Time an upgrade request has to complete its headers (own server) and the handshake, ms; then it is destroyed.
   * @default 10000
   */
  handshakeTimeoutMs?: number
  /** Liveness checking and the interval advertised to clients. */
  heartbeat?: ServerHeartbeatOptions
  /** Resume window and replay caps. */
  resume?: ResumeOptions
  /**
   * Where channel history and fan-out live.
   * @default createMemoryBroker(resume), closed with the server
   */
  broker?: Broker
  /**
   * Largest inbound frame, bytes; a bigger one closes the connection with 1009.
   * @default 65536
   */
  maxPayload?: number
  /**
   * Inbound frame rate limit; exceeding it closes with 4002 and a JSON reason `{"retryAfterMs":N}`. false disables it.
   *
   * Flow control comes first (docs/protocol.md §6.1): at 256 frames or 256 KiB waiting for a hook or the broker, the
   * server stops reading the connection (TCP backpressure; a long-poll `POST` is answered once the queue is back at
   * 64 frames and 64 KiB, at most 5 s later), and frames not read take no token. Past a hard cap of 4096 frames (or
   * `messages` + 256) or 4 MiB (or 320 KiB + 2 × `maxPayload`) waiting, which only a client ignoring flow control
   * reaches, the connection is closed with 4002 as well, never 1013.
   * @default { messages: 2000, perMs: 2000 } (a burst of 2000 frames, 1000/s sustained: a client's full outbox,
   * 1000 messages by default, flushes after a reconnect without tripping it, whatever the hooks' latency)
   */
  rateLimit?: RateLimitOptions | false
  /**
   * A connection whose unsent bytes exceed this (a slow consumer) is closed with 1013; the client resumes.
   * @default 1048576
   */
  maxBufferedBytes?: number
  /**
   * Open connections per principal; one more is closed with 1013.
   * @default 10
   */
  maxConnectionsPerPrincipal?: number
  /**
   * Open connections of the shared anonymous principal (no authentication hook), counted as the per-principal cap is:
   * one more is closed with 1013 after its `hello`.
   * @default 10000
   */
  maxAnonymousConnections?: number
  /**
   * Connections per remote address (an IPv6 address counts by its /64 prefix), WebSocket and long-poll together: from
   * the upgrade or opening request, before `hello`, until the connection is gone (a closed long-poll connection until
   * it is forgotten). One more is refused with 429 and `Retry-After` before the `101` (or before the long-poll
   * connection exists). Behind a reverse proxy every client has the proxy's address: raise it to what the proxy
   * carries in total.
   * @default 1000
   */
  maxConnectionsPerAddress?: number
  /**
   * Sessions (connected or waiting to be resumed) kept per principal; the oldest disconnected one is dropped.
   * @default 20
   */
  maxSessionsPerPrincipal?: number
  /**
   * Disconnected sessions waiting to be resumed, over all principals; past it the oldest one is dropped (its client
   * gets a fresh session: `welcome.resumed` false).
   * @default 100000
   */
  maxDetachedSessions?: number
  /**
   * Subscriptions per connection; one more is refused with error `TOO_MANY_CHANNELS`.
   * @default 100
   */
  maxChannelsPerConnection?: number
  /**
   * Longest channel name, UTF-16 code units.
   * @default 200
   */
  maxChannelNameLength?: number
  /**
   * Client message ids remembered per session for deduplication (least recently used dropped first).
   * @default 10000
   */
  maxDedupeIds?: number
  /**
   * Client message ids remembered over all sessions (measured: 100 to 150 bytes each for 36-character ids, 240 at
   * most for the longest, 128 characters). Past it, the oldest disconnected sessions holding ids are dropped first
   * (their clients get a fresh session), then the oldest ids of the session that published least recently.
   * @default 1000000 (at most about 230 MiB)
   */
  maxDedupeIdsTotal?: number
  /**
   * Deepest nesting of arrays and objects in a client frame, the frame object counting as level 1 (so `pub` data nests
   * at most `maxJsonDepth - 1` levels). A deeper `pub` is answered `nack{TOO_DEEP}`, any other deeper frame
   * `error{INVALID_FRAME}`; the connection stays open. It can only be lowered: 64 is the protocol's limit, which
   * clients hold to (docs/protocol.md §1).
   * @default 64
   */
  maxJsonDepth?: number
  /**
   * Called once for every client `pub` the broker accepted, after it was published and before its `ack`; a duplicate id
   * that is only acknowledged again does not call it (tests assert "applied exactly once" with it, an application may
   * audit). Synchronous; a throw is logged and ignored. The event carries the payload and session id: never log them.
   * @default undefined
   */
  onPublished?: (event: PublishedEvent) => void
  /**
   * Where to log. Without one the server is silent, except for one `console.warn` at the first refused origin (which
   * origin, and `allowedOrigins`).
   * @default undefined
   */
  logger?: ServerLogger
  /**
   * The HTTP long-poll endpoint at `<path>/poll` (same origin checks, authentication, limits and sessions as the
   * WebSocket); false answers that path 404.
   * @default { pollTimeoutMs: 25000, idleTimeoutMs: 30000 }
   */
  longPoll?: LongPollOptions | false
  /**
   * The Server-Sent Events endpoint at `<path>/events` (receive-only, one channel a stream; same origin checks,
   * authentication, limits and resume as the WebSocket); false answers that path 404.
   * @default { keepAliveMs: 15000 }
   */
  sse?: SseOptions | false
}

/** Options with defaults applied. Internal. */
export interface ResolvedServerOptions {
  readonly host: string
  readonly path: string
  readonly allowedOrigins: ReadonlySet<string>
  readonly allowNoOrigin: boolean
  readonly helloTimeoutMs: number
  readonly handshakeTimeoutMs: number
  readonly heartbeatMs: number
  readonly heartbeatTimeoutMs: number
  readonly resumeWindowMs: number
  readonly maxReplayMessages: number
  readonly maxReplayBytes: number
  readonly maxPayload: number
  readonly rateLimit: { readonly messages: number; readonly perMs: number } | null
  readonly maxBufferedBytes: number
  readonly maxConnectionsPerPrincipal: number
  readonly maxAnonymousConnections: number
  readonly maxConnectionsPerAddress: number
  readonly maxSessionsPerPrincipal: number
  readonly maxDetachedSessions: number
  readonly maxChannelsPerConnection: number
  readonly maxChannelNameLength: number
  readonly maxDedupeIds: number
  readonly maxDedupeIdsTotal: number
  readonly maxJsonDepth: number
  /** The long-poll endpoint; null when disabled. */
  readonly longPoll: { readonly path: string; readonly pollTimeoutMs: number; readonly idleTimeoutMs: number } | null
  /** The Server-Sent Events endpoint; null when disabled. */
  readonly sse: { readonly path: string; readonly keepAliveMs: number } | null
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Validates `options` (listing every bad field in one `InvalidOptionsError`) and applies the defaults. */
export function resolveServerOptions(options: LifelineServerOptions): ResolvedServerOptions {
  const issues: OptionIssue[] = []
  const integer = (field: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback
    if (!Number.isInteger(value) || value < min || value > max) {
      issues.push({ field, problem: `must be an integer from ${String(min)} to ${String(max)}` })
    }
    return value
  }
  const hook = (field: string, value: unknown): void => {
    if (value !== undefined && typeof value !== 'function') issues.push({ field, problem: 'must be a function' })
  }

  if (options.server === undefined && options.port === undefined) {
    issues.push({ field: 'port', problem: 'give `port` to listen, or `server` to attach to' })
  }
  if (options.server !== undefined && options.port !== undefined) {
    issues.push({ field: 'port', problem: 'give either `port` or `server`, not both' })
  }
  if (options.port !== undefined) integer('port', options.port, 0, 0, 65535)
  const path = options.path ?? '/lifeline'
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
    issues.push({ field: 'path', problem: 'must be a pathname starting with "/" (no query, fragment or spaces)' })
  }
  const allowedOrigins = new Set<string>()
  if (options.allowedOrigins !== undefined && !Array.isArray(options.allowedOrigins)) {
    issues.push({ field: 'allowedOrigins', problem: 'must be an array of exact origins (no wildcard)' })
  }
  for (const [index, origin] of (Array.isArray(options.allowedOrigins) ? options.allowedOrigins : []).entries()) {
    const problem = originProblem(origin)
    if (problem) issues.push({ field: `allowedOrigins[${String(index)}]`, problem })
    else allowedOrigins.add(origin)
  }
  hook('authenticate', options.authenticate)
  hook('authenticateUpgrade', options.authenticateUpgrade)
  hook('authorize', options.authorize)
  hook('onPublished', options.onPublished)
  const heartbeatMs = integer('heartbeat.intervalMs', options.heartbeat?.intervalMs, 25_000, 10, DAY_MS)
  const heartbeatTimeoutMs = integer('heartbeat.timeoutMs', options.heartbeat?.timeoutMs, 2 * heartbeatMs, 10, DAY_MS)
  if (heartbeatTimeoutMs < heartbeatMs) {
    issues.push({ field: 'heartbeat.timeoutMs', problem: 'must be at least heartbeat.intervalMs' })
  }
  const maxConnectionsPerPrincipal = integer(
    'maxConnectionsPerPrincipal',
    options.maxConnectionsPerPrincipal,
    10,
    1,
    1e6,
  )
  const maxSessionsPerPrincipal = integer('maxSessionsPerPrincipal', options.maxSessionsPerPrincipal, 20, 1, 1e6)
  if (maxSessionsPerPrincipal < maxConnectionsPerPrincipal) {
    issues.push({ field: 'maxSessionsPerPrincipal', problem: 'must be at least maxConnectionsPerPrincipal' })
  }
  const rateLimit =
    options.rateLimit === false
      ? null
      : {
          messages: integer('rateLimit.messages', options.rateLimit?.messages, 2000, 1, 1e9),
          perMs: integer('rateLimit.perMs', options.rateLimit?.perMs, 2000, 1, DAY_MS),
        }

  const resolved: ResolvedServerOptions = {
    host: options.host ?? '127.0.0.1',
    path,
    allowedOrigins,
    allowNoOrigin: options.allowNoOrigin ?? true,
    helloTimeoutMs: integer('helloTimeoutMs', options.helloTimeoutMs, 5000, 1, DAY_MS),
    handshakeTimeoutMs: integer('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000, 1, DAY_MS),
    heartbeatMs,
    heartbeatTimeoutMs,
    resumeWindowMs: integer('resume.windowMs', options.resume?.windowMs, 120_000, 0, DAY_MS),
    maxReplayMessages: integer('resume.maxMessages', options.resume?.maxMessages, 1000, 0, 1e7),
    maxReplayBytes: integer('resume.maxBytes', options.resume?.maxBytes, 1024 * 1024, 0, 2 ** 32),
    maxPayload: integer('maxPayload', options.maxPayload, 64 * 1024, 64, 2 ** 30),
    rateLimit,
    maxBufferedBytes: integer('maxBufferedBytes', options.maxBufferedBytes, 1024 * 1024, 1024, 2 ** 32),
    maxConnectionsPerPrincipal,
    maxAnonymousConnections: integer('maxAnonymousConnections', options.maxAnonymousConnections, 10_000, 1, 1e9),
    maxConnectionsPerAddress: integer('maxConnectionsPerAddress', options.maxConnectionsPerAddress, 1000, 1, 1e9),
    maxSessionsPerPrincipal,
    maxDetachedSessions: integer('maxDetachedSessions', options.maxDetachedSessions, 100_000, 0, 1e9),
    maxChannelsPerConnection: integer('maxChannelsPerConnection', options.maxChannelsPerConnection, 100, 1, 1e6),
    maxChannelNameLength: integer('maxChannelNameLength', options.maxChannelNameLength, 200, 1, 10_000),
    maxDedupeIds: integer('maxDedupeIds', options.maxDedupeIds, 10_000, 0, 1e7),
    maxDedupeIdsTotal: integer('maxDedupeIdsTotal', options.maxDedupeIdsTotal, 1_000_000, 0, 1e9),
    maxJsonDepth: integer('maxJsonDepth', options.maxJsonDepth, MAX_JSON_DEPTH, 1, MAX_JSON_DEPTH),
    longPoll:
      options.longPoll === false
        ? null
        : {
            // `<path>/poll`, without doubling a trailing slash.
            path: `${typeof path === 'string' ? path.replace(/\/+$/, '') : ''}/poll`,
            pollTimeoutMs: integer('longPoll.pollTimeoutMs', options.longPoll?.pollTimeoutMs, 25_000, 10, DAY_MS),
            idleTimeoutMs: integer('longPoll.idleTimeoutMs', options.longPoll?.idleTimeoutMs, 30_000, 10, DAY_MS),
          },
    sse:
      options.sse === false
        ? null
        : {
            path: `${typeof path === 'string' ? path.replace(/\/+$/, '') : ''}/events`,
            keepAliveMs: integer('sse.keepAliveMs', options.sse?.keepAliveMs, 15_000, 10, DAY_MS),
          },
  }
  if (issues.length > 0) throw new InvalidOptionsError(issues)
  return resolved
}

/** Why `origin` cannot be an allowlist entry, or '' when it can. */
function originProblem(origin: unknown): string {
  if (typeof origin !== 'string') return 'must be a string'
  if (origin === '*' || origin.includes('*')) return 'no wildcards: list every exact origin'
  if (origin === 'null') return 'the "null" origin is always refused'
  let parsed: URL
  try {
    parsed = new URL(origin)
  } catch {
    return 'must be an origin such as https://app.example.com'
  }
  if (parsed.origin !== origin) return `must be exactly an origin (did you mean "${parsed.origin}"?)`
  return ''
}
