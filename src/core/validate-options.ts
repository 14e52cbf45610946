import { defaultCloseCodes } from './close-codes'
import type { HeartbeatOptions, LifelineOptions } from './options'
import { NUMERIC_OPTIONS } from './options'
import type { OutboxOptions } from './outbox'
import type { CloseRule } from './types'
import { IssueList } from './validate'

const functionOptions = ['protocol', 'getToken', 'authMessage', 'onSessionExpired', 'logger', 'environment', 'url']
const otherOptions = [
  'protocols',
  'autoConnect',
  'binaryType',
  'backoff',
  'heartbeat',
  'closeCodes',
  'outbox',
  'fallback',
  'diagnose',
]
const actions = [
  'reconnect',
  'reconnect-spread',
  'stop',
  'refresh-token',
  'rate-limit',
  'session-expired',
  'fail-outbound',
]
const MINUTE = 60_000

/**
 * Validates every option and throws one `InvalidOptionsError` listing every bad field (unknown keys included).
 * Runs in development builds; production builds apply defaults and clamp (see `resolveOptions`).
 */
export function validateOptions(options: LifelineOptions): void {
  const list = new IssueList()
  if (!isObject(options)) {
    list.add('options', 'must be an object with a url')
    list.throwIfAny()
  }
  const input = options as unknown as Record<string, unknown>
  const value: Record<string, number> = {}
  for (const [name, [fallback, min, max]] of Object.entries(NUMERIC_OPTIONS)) {
    const given = input[name]
    value[name] = given === undefined ? fallback : list.number(name, given, min, max) ? given : fallback
  }
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(NUMERIC_OPTIONS, name) && !functionOptions.includes(name) && !otherOptions.includes(name)) {
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
  const validTokens = protocolList.every(
    (name) => typeof name === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name),
  )
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
    if (!actions.includes(given.action as string))
      list.add(`closeCodes.${key}.action`, `must be one of ${actions.join(', ')}`)
    else if (typeof given.name !== 'string') list.add(`closeCodes.${key}.name`, 'must be a string')
    if (given.floorMs !== undefined) list.number(`closeCodes.${key}.floorMs`, given.floorMs, 0, 60 * MINUTE)
    if (list.issues.length === before) closeCodes[code] = rule
  }

  const hb: unknown = options.heartbeat
  if (hb === true || isObject(hb)) {
    const given: HeartbeatOptions = hb === true ? {} : hb
    unknownKeys(list, 'heartbeat', given, ['intervalMs', 'timeoutMs', 'message', 'isPong'])
    const intervalMs = given.intervalMs ?? 25_000
    const timeoutMs = given.timeoutMs ?? 10_000
    list.number('heartbeat.intervalMs', intervalMs, 1, 60 * MINUTE)
    list.number('heartbeat.timeoutMs', timeoutMs, 1, 60 * MINUTE)
    if (given.isPong !== undefined && typeof given.isPong !== 'function')
      list.add('heartbeat.isPong', 'must be a function')
  } else if (hb !== undefined && hb !== false) list.add('heartbeat', 'must be a boolean or an object')

  const fallback: unknown = options.fallback
  if (fallback !== undefined && !(isObject(fallback) && typeof fallback.attach === 'function')) {
    list.add('fallback', 'must come from longPollFallback()')
  } else if (fallback !== undefined && (options.protocol as { name?: unknown } | undefined)?.name !== 'lifeline') {
    list.add('fallback', 'needs protocol: lifelineProtocol() (long-poll speaks the lifeline protocol)')
  }
  if (options.diagnose !== undefined && typeof options.diagnose !== 'boolean') list.add('diagnose', 'must be a boolean')
  const givenBox: unknown = options.outbox ?? {}
  if (!isObject(givenBox)) list.add('outbox', 'must be an object')
  const box: OutboxOptions = isObject(givenBox) ? givenBox : {}
  unknownKeys(list, 'outbox', box, ['maxMessages', 'maxBytes', 'overflow', 'ttlMs', 'maxSendAttempts', 'storage'])
  const storage: unknown = box.storage
  if (storage !== undefined && !(isObject(storage) && typeof storage.attach === 'function')) {
    list.add('outbox.storage', 'must come from localStorageOutbox(), indexedDbOutbox() or outboxStorage()')
  }
  const outbox = {
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
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reports keys of a nested option object that are not known (typos such as `maxMesages`). */
function unknownKeys(list: IssueList, prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) list.add(`${prefix}.${key}`, 'is not a known option')
}
