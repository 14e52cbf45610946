import { isNumberRule, optionSchema, type LifelineOptions, type NestedRule, type OptionRule } from './option-schema'
import type { CloseRule } from './types'
import { IssueList } from './validate'

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
type Input = Record<string, unknown>

/**
 * Validates every option against `optionSchema` and throws one `InvalidOptionsError` listing every bad field (unknown
 * keys included). Runs in development builds; production builds apply defaults and clamp (see `resolveOptions`).
 */
export function validateOptions(options: LifelineOptions): void {
  const list = new IssueList()
  if (!isObject(options)) {
    list.add('options', 'must be an object with a url')
    list.throwIfAny()
  }
  const input = options as unknown as Input
  const rows = Object.entries(optionSchema) as [string, OptionRule][]
  // Problems are reported in this order: numbers, unknown keys, functions, the delay range, then the rest by row.
  const valid: Record<string, number | null> = {}
  for (const [name, rule] of rows) {
    if (!isNumberRule(rule)) continue
    const given = input[name]
    valid[name] = given === undefined || !list.number(name, given, rule[1], rule[2]) ? rule[0] : given
  }
  for (const name of Object.keys(input)) if (!Object.hasOwn(optionSchema, name)) list.add(name, 'is not a known option')
  for (const [name, rule] of rows) if (rule === 'function') check(list, name, input[name], rule, options)
  if ((valid.minDelayMs ?? 0) > (valid.maxDelayMs ?? 0)) list.add('minDelayMs', 'must not exceed maxDelayMs')
  for (const [name, rule] of rows) {
    if (!isNumberRule(rule) && rule !== 'function') check(list, name, input[name], rule, options)
  }
  list.throwIfAny()
}

/** Checks one value against its rule; `undefined` always means the default. */
function check(list: IssueList, field: string, value: unknown, rule: OptionRule, options: LifelineOptions): void {
  if (value === undefined) return
  if (isNumberRule(rule)) list.number(field, value, rule[1], rule[2])
  else if (isChoiceRule(rule)) {
    const name = value as string
    const allowed = typeof value === 'function' ? rule.includes('function') : name !== 'function' && rule.includes(name)
    if (!allowed) list.add(field, `must be ${choices(rule)}`)
  } else if (typeof rule === 'object') nested(list, field, value, rule, options)
  else if (rule === 'function' || rule === 'boolean') {
    if (typeof value !== rule) list.add(field, `must be a ${rule}`)
  } else if (rule === 'protocols') protocols(list, value)
  else if (rule === 'closeCodes') closeCodes(list, value)
  else if (rule === 'fallback') {
    if (!(isObject(value) && typeof value.attach === 'function')) list.add(field, 'must come from longPollFallback()')
    else if ((options.protocol as { name?: unknown } | undefined)?.name !== 'lifeline') {
      list.add(field, 'needs protocol: lifelineProtocol() (long-poll speaks the lifeline protocol)')
    }
  } else if (rule === 'storage' && !(isObject(value) && typeof value.attach === 'function')) {
    list.add(field, 'must come from localStorageOutbox(), indexedDbOutbox() or outboxStorage()')
  }
}

function nested(list: IssueList, field: string, value: unknown, rule: NestedRule, options: LifelineOptions): void {
  // `true` selects every default (all valid); `outbox: null` has always meant the defaults too.
  if ((rule.orBoolean && typeof value === 'boolean') || (!rule.orBoolean && value === null)) return
  if (!isObject(value)) {
    list.add(field, rule.orBoolean ? 'must be a boolean or an object' : 'must be an object')
    return
  }
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(rule.fields, key)) list.add(`${field}.${key}`, 'is not a known option')
  }
  for (const [key, row] of Object.entries(rule.fields)) {
    // Inside a nested object, `null` selects the default of a number or a choice (they were read with `??`).
    const given = Array.isArray(row) ? (value[key] ?? undefined) : value[key]
    check(list, `${field}.${key}`, given, row, options)
  }
}

const isChoiceRule = (rule: OptionRule): rule is readonly [string, ...string[]] =>
  Array.isArray(rule) && !isNumberRule(rule)

/** `'a', 'b' or a function`. */
function choices(rule: readonly string[]): string {
  const names = rule.map((name) => (name === 'function' ? 'a function' : `'${name}'`))
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`
}

function protocols(list: IssueList, value: unknown): void {
  const protocolList: unknown[] = Array.isArray(value) ? value : [value]
  const validTokens = protocolList.every(
    (name) => typeof name === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name),
  )
  // Browsers throw a SyntaxError from the WebSocket constructor for a repeated subprotocol.
  if (!validTokens || new Set(protocolList).size !== protocolList.length) {
    list.add('protocols', 'must be distinct subprotocol tokens (RFC 6455 §4.1)')
  }
}

function closeCodes(list: IssueList, value: unknown): void {
  for (const [key, rule] of Object.entries(value ?? {})) {
    const code = Number(key)
    if (!Number.isInteger(code) || code < 1000 || code > 4999) {
      list.add(`closeCodes.${key}`, 'must be a code 1000–4999')
      continue
    }
    const given = (isObject(rule) ? rule : {}) as Partial<Record<keyof CloseRule, unknown>>
    if (!actions.includes(given.action as string))
      list.add(`closeCodes.${key}.action`, `must be one of ${actions.join(', ')}`)
    else if (typeof given.name !== 'string') list.add(`closeCodes.${key}.name`, 'must be a string')
    if (given.floorMs !== undefined) list.number(`closeCodes.${key}.floorMs`, given.floorMs, 0, 60 * MINUTE)
  }
}

function isObject(value: unknown): value is Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
