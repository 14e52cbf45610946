import type { BackoffOption } from './backoff'
import { defaultCloseCodes } from './close-codes'
import type { Environment } from './environment'
import type { Logger } from './logger'
import type { TransportFallback } from './fallback'
import type { MachineConfig } from './machine'
import type { ResolvedOutboxOptions, OutboxOptions } from './outbox'
import type { Protocol } from './protocol'
import type { CloseRule, InboundData, OutboundData } from './types'
import { clamp } from './backoff'
import { validateOptions } from './validate-options'

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

/** Options of {@link createLifeline}. Every field is optional but `url`; defaults follow DESIGN §3. */
export interface LifelineOptions {
  /** `ws://` / `wss://` URL, or a path on the current page. Never put tokens here: use `getToken`. */
  url: string
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
   * After a handshake fails before `open`, probe the URL over plain HTTP to learn why (browsers hide the status of a
   * refused upgrade): the result lands in `lastError` (`HANDSHAKE_FAILED` with a `diagnosis`), a refusal seen twice in
   * a row (unauthorised, origin refused, wrong path) stops retrying, and a rate limit's `Retry-After` is honoured.
   * Loaded on first use. Always on with a `fallback`, which needs it.
   * @default true in browsers (where there is a `document`), false elsewhere (Node's `ws` reports the status itself)
   */
  diagnose?: boolean
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  machine: MachineConfig
  outbox: ResolvedOutboxOptions
  heartbeat: Required<Pick<HeartbeatOptions, 'intervalMs' | 'timeoutMs'>> | null
  maxMessageBytes: number
}

/** Numeric options: [default, min, max]. */
export const NUMERIC_OPTIONS = {
  // ≥ 1 ms: with 0, full jitter would always draw 0, a tight reconnect loop.
  minDelayMs: [500, 1, 600_000],
  maxDelayMs: [30_000, 0, 3_600_000],
  maxAttempts: [Infinity, 0, Infinity],
  stableAfterMs: [5000, 0, 3_600_000],
  connectTimeoutMs: [10_000, 1, 600_000],
  closeTimeoutMs: [5000, 1, 600_000],
  maxTokenRefreshes: [3, 0, 1000],
  tokenRefreshWindowMs: [30_000, 0, 3_600_000],
  maxMessageBytes: [1 << 20, 1, 1 << 30],
} as const satisfies Record<string, readonly [number, number, number]>

const number = (value: unknown, [fallback, min, max]: readonly [number, number, number]): number =>
  clamp(typeof value === 'number' ? value : fallback, min, max)

/**
 * Applies defaults. In development builds every option is validated first (one `InvalidOptionsError` lists every bad
 * field); production builds skip that text-heavy check, as React does with its warnings, and clamp numbers into range.
 */
export function resolveOptions(options: LifelineOptions): ResolvedOptions {
  // Written inline (not an imported constant) so that bundlers drop the validator from production builds.
  if (process.env.NODE_ENV !== 'production') validateOptions(options)
  const input = options as unknown as Record<string, unknown>
  const value = {} as Record<keyof typeof NUMERIC_OPTIONS, number>
  for (const name of Object.keys(NUMERIC_OPTIONS) as (keyof typeof NUMERIC_OPTIONS)[]) {
    value[name] = number(input[name], NUMERIC_OPTIONS[name])
  }
  const hb = options.heartbeat === true ? {} : options.heartbeat
  const box = options.outbox
  const { maxMessageBytes, ...machine } = value
  return {
    machine: {
      ...machine,
      maxDelayMs: Math.max(value.minDelayMs, value.maxDelayMs),
      backoff: options.backoff ?? 'full-jitter',
      closeCodes: { ...defaultCloseCodes, ...options.closeCodes },
      canRefreshToken: typeof options.getToken === 'function',
    },
    outbox: {
      maxMessages: number(box?.maxMessages, [1000, 1, 1_000_000]),
      maxBytes: number(box?.maxBytes, [1 << 20, 1, 1 << 30]),
      overflow: box?.overflow === 'drop-oldest' ? 'drop-oldest' : 'reject',
      ttlMs: box?.ttlMs ? number(box.ttlMs, [0, 1, Number.MAX_SAFE_INTEGER]) : null,
      maxSendAttempts: number(box?.maxSendAttempts, [5, 1, 1000]),
    },
    heartbeat: hb
      ? {
          intervalMs: number(hb.intervalMs, [25_000, 1, 3_600_000]),
          timeoutMs: number(hb.timeoutMs, [10_000, 1, 3_600_000]),
        }
      : null,
    maxMessageBytes,
  }
}
