import type { BackoffOption } from './backoff'
import type { Environment } from './environment'
import type { TransportFallback } from './fallback'
import type { Logger } from './logger'
import type { OutboxOptions } from './outbox'
import type { Protocol } from './protocol'
import type { TransportPlugin } from './sse-transport'
import type { CloseInfo, CloseRule, InboundData, OutboundData } from './types'

/** Heartbeat settings. Browsers cannot send ping frames, so the heartbeat is an application message. */
export interface HeartbeatOptions {
  /** Milliseconds between pings. @default 25000 */
  intervalMs?: number
  /** Milliseconds to wait for any inbound frame after a ping before the link is declared dead. @default 10000 */
  timeoutMs?: number
  /** Raw protocol: the ping payload. @default 'ping' */
  message?: OutboundData
  /** Raw protocol: recognises the pong; matched frames are not delivered as messages. @default data === 'pong' */
  isPong?: (data: InboundData) => boolean
}

/** A URL resolved before every attempt (a server picked per attempt, a signed URL that expires). */
export type UrlSource = () => string | Promise<string>

/** Options of {@link createLifeline}. Every field is optional but `url`; defaults follow DESIGN §3. */
export interface LifelineOptions {
  /**
   * `ws://` / `wss://` URL, or a path on the current page. Never put tokens here: use `getToken`. Or a function giving
   * one (or a promise of one), called before every attempt, like `getToken`: a throw, a rejection or a bad URL is a
   * failed attempt (`URL_FAILED`, or `INVALID_URL`), retried under the backoff and `maxAttempts`. Not with `fallback`.
   */
  url: string | UrlSource
  /** WebSocket subprotocols. @default undefined */
  protocols?: string | string[]
  /** The wire protocol. @default rawProtocol() built from `heartbeat` and `authMessage` */
  protocol?: Protocol
  /** Connect as soon as the client is created. The React hooks pass `false` and connect on mount. @default true */
  autoConnect?: boolean
  /** How binary frames are delivered. @default 'arraybuffer' */
  binaryType?: 'arraybuffer' | 'blob'
  /** Backoff strategy. @default 'full-jitter' */
  backoff?: BackoffOption
  /** Shortest wait between attempts, ms. @default 500 */
  minDelayMs?: number
  /** Longest wait between attempts, ms. @default 30000 */
  maxDelayMs?: number
  /** Consecutive failed attempts before giving up with status `failed` (`Infinity`: never). @default Infinity */
  maxAttempts?: number
  /** How long a connection must stay open before the attempt counter resets, ms. @default 5000 */
  stableAfterMs?: number
  /** Time allowed for an attempt (token included) to open, ms. @default 10000 */
  connectTimeoutMs?: number
  /** Time allowed for a close handshake, ms. @default 5000 */
  closeTimeoutMs?: number
  /** Application heartbeat: `true` for the defaults, or settings. Needed to detect half-open links. @default false */
  heartbeat?: boolean | HeartbeatOptions
  /** Rows added to or overriding the close-code table. @default {} */
  closeCodes?: Readonly<Record<number, CloseRule>>
  /**
   * Asked after every close the client did not ask for, once the close-code table has decided: return `false` to stop
   * instead (status `failed` with `CONNECTION_CLOSED`; `retry()` starts over). Always the latest function in the hooks.
   * @default undefined (the table decides)
   */
  shouldReconnect?: (close: CloseInfo) => boolean
  /** Returns a fresh token; called before the first connect and after close 4001 (single-flight). @default undefined */
  getToken?: () => string | Promise<string>
  /** Raw protocol: the first frame after each open, carrying the token. @default undefined */
  authMessage?: (token: string) => OutboundData
  /** Token refreshes allowed per `tokenRefreshWindowMs` before giving up. @default 3 */
  maxTokenRefreshes?: number
  /** Window of `maxTokenRefreshes`, ms. @default 30000 */
  tokenRefreshWindowMs?: number
  /** Called once when the server says the session expired (close 4003). @default undefined */
  onSessionExpired?: () => void
  /** Largest message `send` accepts, in bytes. @default 1048576 (1 MiB) */
  maxMessageBytes?: number
  /** Outbox limits and policies. */
  outbox?: OutboxOptions
  /** Debug tracing (tokens redacted): `true` for the console, or your own logger. @default false */
  logger?: boolean | Logger
  /** Platform parts (timers, clock, WebSocket, network, …); each defaults to the browser's. */
  environment?: Partial<Environment>
  /**
   * Lifeline protocol: move to HTTP long-poll when WebSocket is blocked, and back when it works
   * (`longPollFallback()`). Without it the client only ever uses WebSocket.
   * @default undefined
   */
  fallback?: TransportFallback
  /**
   * Another transport in place of WebSocket: `eventSource()` reads a Server-Sent Events stream (receive-only) with the
   * same healing. `url` is then an `http(s)://` URL (or a path on the page); `send` throws `NOT_SUPPORTED`; not with
   * `protocol`, `fallback` or `heartbeat` (the stream's `idleTimeoutMs` finds a dead link).
   * @default undefined (WebSocket)
   */
  transport?: TransportPlugin
  /**
   * After a handshake fails before `open`, probe the URL over plain HTTP to learn why (browsers hide the status of a
   * refused upgrade): the result lands in `lastError` (`HANDSHAKE_FAILED` with a `diagnosis`), a refusal seen twice in
   * a row (unauthorised, origin refused, wrong path) stops retrying, and a rate limit's `Retry-After` is honoured.
   * Loaded on first use. Always on with a `fallback`, which needs it.
   * @default true in browsers (where there is a `document`), false elsewhere (Node's `ws` reports the status itself)
   */
  diagnose?: boolean
}

/**
 * A number: `[default, min, max]`, bounds inclusive (`Infinity` only where it is `max`). Development builds report a
 * value out of range, production builds clamp it. A `null` default means off when absent or 0 (`outbox.ttlMs`).
 */
export type NumberRule = readonly [fallback: number | null, min: number, max: number]

/** A nested options object, checked against its own table; `orBoolean`: `true` means every default, `false` off. */
export interface NestedRule {
  readonly fields: Readonly<Record<string, OptionRule>>
  readonly orBoolean?: true
}

/**
 * How one option is checked and defaulted:
 * - a {@link NumberRule};
 * - a list of allowed strings, the default first (a last `'function'` admits a function instead of that string);
 * - `'function'` or `'boolean'`: that type;
 * - `'any'`: not checked here (`url` is checked by `resolveUrl`; `protocol`, `logger`, `environment`, `autoConnect`
 *   and `heartbeat.message` are free-form);
 * - `'protocols'`, `'closeCodes'`, `'fallback'`, `'storage'`: a check of its own in `validateOptions`;
 * - a {@link NestedRule}.
 */
export type OptionRule =
  | NumberRule
  | readonly [string, ...string[]]
  | 'function'
  | 'boolean'
  | 'any'
  | 'protocols'
  | 'closeCodes'
  | 'fallback'
  | 'storage'
  | NestedRule

/** Whether `rule` is a {@link NumberRule}: only those have a number at index 2 (the others hold strings or nothing). */
export const isNumberRule = (rule: OptionRule): rule is NumberRule =>
  typeof (rule as Partial<NumberRule>)[2] === 'number'

const HOUR = 3_600_000

/** The rules of `heartbeat`. */
export const heartbeatSchema = {
  intervalMs: [25_000, 1, HOUR],
  timeoutMs: [10_000, 1, HOUR],
  message: 'any',
  isPong: 'function',
} as const satisfies Record<keyof HeartbeatOptions, OptionRule>

/** The rules of `outbox`, in the order their problems are reported. */
export const outboxSchema = {
  storage: 'storage',
  maxMessages: [1000, 1, 1_000_000],
  maxBytes: [1 << 20, 1, 1 << 30],
  maxSendAttempts: [5, 1, 1000],
  ttlMs: [null, 1, 2 ** 53 - 1],
  overflow: ['reject', 'drop-oldest'],
} as const satisfies Record<keyof OutboxOptions, OptionRule>

/**
 * The rules of every option: the one place their types, bounds and defaults are written (`resolveOptions` and
 * `validateOptions` both read it). Rows are in the order their problems are reported.
 */
export const optionSchema = {
  // ≥ 1 ms: with 0, full jitter would always draw 0, a tight reconnect loop.
  minDelayMs: [500, 1, 600_000],
  maxDelayMs: [30_000, 0, HOUR],
  maxAttempts: [Infinity, 0, Infinity],
  stableAfterMs: [5000, 0, HOUR],
  connectTimeoutMs: [10_000, 1, 600_000],
  closeTimeoutMs: [5000, 1, 600_000],
  maxTokenRefreshes: [3, 0, 1000],
  tokenRefreshWindowMs: [30_000, 0, HOUR],
  maxMessageBytes: [1 << 20, 1, 1 << 30],
  url: 'any',
  protocol: 'any',
  autoConnect: 'any',
  logger: 'any',
  environment: 'any',
  getToken: 'function',
  authMessage: 'function',
  onSessionExpired: 'function',
  shouldReconnect: 'function',
  backoff: ['full-jitter', 'decorrelated', 'function'],
  binaryType: ['arraybuffer', 'blob'],
  protocols: 'protocols',
  closeCodes: 'closeCodes',
  heartbeat: { fields: heartbeatSchema, orBoolean: true },
  fallback: 'fallback',
  transport: 'any',
  diagnose: 'boolean',
  outbox: { fields: outboxSchema },
} as const satisfies Record<keyof LifelineOptions, OptionRule>

/** The numeric fields of a table, as `resolveOptions` returns them. */
export type NumberFields<Table> = {
  -readonly [Name in keyof Table as Table[Name] extends NumberRule ? Name : never]: Table[Name] extends readonly [
    null,
    ...unknown[],
  ]
    ? number | null
    : number
}
