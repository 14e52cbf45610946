import type { BackoffOption } from './backoff'
import { defaultCloseCodes, type CloseCodeTable } from './close-codes'
import type { Environment } from './environment'
import type { Logger } from './logger'
import type { MachineConfig } from './machine'
import type { ResolvedOutboxOptions, OutboxOptions } from './outbox'
import type { Protocol } from './protocol'
import type { CloseRule, InboundData, OutboundData } from './types'
import { IssueList } from './validate'

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
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  machine: MachineConfig
  outbox: ResolvedOutboxOptions
  heartbeat: Required<Pick<HeartbeatOptions, 'intervalMs' | 'timeoutMs'>> | null
  maxMessageBytes: number
}

const functionOptions = ['protocol', 'getToken', 'authMessage', 'onSessionExpired', 'logger', 'environment', 'url']
const otherOptions = ['protocols', 'autoConnect', 'binaryType', 'backoff', 'heartbeat', 'closeCodes', 'outbox']
const actions = ['reconnect', 'reconnect-spread', 'stop', 'refresh-token', 'rate-limit', 'session-expired', 'fail-outbound']
const MINUTE = 60_000

/** Applies defaults and validates every option, throwing one `InvalidOptionsError` that lists every bad field. */
export function resolveOptions(options: LifelineOptions): ResolvedOptions {
  const list = new IssueList()
  if (!isObject(options)) {
    list.add('options', 'must be an object with a url')
    list.throwIfAny()
  }
  const input = options as unknown as Record<string, unknown>
  const numbers: Record<string, [fallback: number, min: number, max?: number]> = {
    // ≥ 1 ms: with 0, full jitter would always draw 0, a tight reconnect loop.
    minDelayMs: [500, 1, 10 * MINUTE],
    maxDelayMs: [30_000, 0, 60 * MINUTE],
    maxAttempts: [Infinity, 0, Infinity],
    stableAfterMs: [5000, 0, 60 * MINUTE],
    connectTimeoutMs: [10_000, 1, 10 * MINUTE],
    closeTimeoutMs: [5000, 1, 10 * MINUTE],
    maxTokenRefreshes: [3, 0, 1000],
    tokenRefreshWindowMs: [30_000, 0, 60 * MINUTE],
    maxMessageBytes: [1 << 20, 1, 1 << 30],
  }
  const value: Record<string, number> = {}
  for (const [name, [fallback, min, max]] of Object.entries(numbers)) {
    const given = input[name]
    value[name] = given === undefined ? fallback : list.number(name, given, min, max) ? given : fallback
  }
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(numbers, name) && !functionOptions.includes(name) && !otherOptions.includes(name)) {
      list.add(name, 'is not a known option')
    }
  }
  for (const name of ['getToken', 'authMessage', 'onSessionExpired']) {
    if (input[name] !== undefined && typeof input[name] !== 'function') list.add(name, 'must be a function')
  }
  if ((value.minDelayMs ?? 0) > (value.maxDelayMs ?? 0)) list.add('minDelayMs', 'must not exceed maxDelayMs')
  const { backoff = 'full-jitter', binaryType = 'arraybuffer', protocols } = options
  if (typeof backoff !== 'function' && backoff !== 'full-jitter' && backoff !== 'decorrelated') {
    list.add('backoff', "must be 'full-jitter', 'decorrelated' or a function")
  }
  if (binaryType !== 'arraybuffer' && binaryType !== 'blob') list.add('binaryType', "must be 'arraybuffer' or 'blob'")
  const protocolList = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols]
  const validTokens = protocolList.every((name) => typeof name === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
  // Browsers throw a SyntaxError from the WebSocket constructor for a repeated subprotocol.
  if (!validTokens || new Set(protocolList).size !== protocolList.length) {
    list.add('protocols', 'must be distinct subprotocol tokens (RFC 6455 §4.1)')
  }

  const closeCodes: Record<number, CloseRule> = { ...defaultCloseCodes }
  for (const [key, rule] of Object.entries(options.closeCodes ?? {})) {
    const code = Number(key)
    if (!Number.isInteger(code) || code < 1000 || code > 4999) {
      list.add(`closeCodes.${key}`, 'must be a code 1000–4999')
      continue
    }
    const given = (isObject(rule) ? rule : {}) as Partial<Record<keyof CloseRule, unknown>>
    const before = list.issues.length
    if (!actions.includes(given.action as string)) list.add(`closeCodes.${key}.action`, `must be one of ${actions.join(', ')}`)
    else if (typeof given.name !== 'string') list.add(`closeCodes.${key}.name`, 'must be a string')
    if (given.floorMs !== undefined) list.number(`closeCodes.${key}.floorMs`, given.floorMs, 0, 60 * MINUTE)
    if (list.issues.length === before) closeCodes[code] = rule
  }

  let heartbeat: ResolvedOptions['heartbeat'] = null
  const hb: unknown = options.heartbeat
  if (hb === true || isObject(hb)) {
    const given: HeartbeatOptions = hb === true ? {} : hb
    unknownKeys(list, 'heartbeat', given, ['intervalMs', 'timeoutMs', 'message', 'isPong'])
    const intervalMs = given.intervalMs ?? 25_000
    const timeoutMs = given.timeoutMs ?? 10_000
    const intervalOk = list.number('heartbeat.intervalMs', intervalMs, 1, 60 * MINUTE)
    const timeoutOk = list.number('heartbeat.timeoutMs', timeoutMs, 1, 60 * MINUTE)
    if (given.isPong !== undefined && typeof given.isPong !== 'function') list.add('heartbeat.isPong', 'must be a function')
    if (intervalOk && timeoutOk) heartbeat = { intervalMs, timeoutMs }
  } else if (hb !== undefined && hb !== false) list.add('heartbeat', 'must be a boolean or an object')

  const givenBox: unknown = options.outbox ?? {}
  if (!isObject(givenBox)) list.add('outbox', 'must be an object')
  const box: OutboxOptions = isObject(givenBox) ? givenBox : {}
  unknownKeys(list, 'outbox', box, ['maxMessages', 'maxBytes', 'overflow', 'ttlMs', 'maxSendAttempts'])
  const outbox: ResolvedOutboxOptions = {
    maxMessages: box.maxMessages ?? 1000,
    maxBytes: box.maxBytes ?? 1 << 20,
    overflow: box.overflow ?? 'reject',
    ttlMs: box.ttlMs ?? null,
    maxSendAttempts: box.maxSendAttempts ?? 5,
  }
  list.number('outbox.maxMessages', outbox.maxMessages, 1, 1_000_000)
  list.number('outbox.maxBytes', outbox.maxBytes, 1, 1 << 30)
  list.number('outbox.maxSendAttempts', outbox.maxSendAttempts, 1, 1000)
  if (outbox.ttlMs !== null) list.number('outbox.ttlMs', outbox.ttlMs, 1)
  if (outbox.overflow !== 'reject' && outbox.overflow !== 'drop-oldest') {
    list.add('outbox.overflow', "must be 'reject' or 'drop-oldest'")
  }
  list.throwIfAny()

  return {
    machine: {
      minDelayMs: value.minDelayMs!,
      maxDelayMs: value.maxDelayMs!,
      maxAttempts: value.maxAttempts!,
      backoff,
      closeCodes: closeCodes as CloseCodeTable,
      canRefreshToken: typeof options.getToken === 'function',
      maxTokenRefreshes: value.maxTokenRefreshes!,
      tokenRefreshWindowMs: value.tokenRefreshWindowMs!,
      connectTimeoutMs: value.connectTimeoutMs!,
      closeTimeoutMs: value.closeTimeoutMs!,
      stableAfterMs: value.stableAfterMs!,
    },
    outbox,
    heartbeat,
    maxMessageBytes: value.maxMessageBytes!,
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reports keys of a nested option object that are not known (typos such as `maxMesages`). */
function unknownKeys(list: IssueList, prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) list.add(`${prefix}.${key}`, 'is not a known option')
}
