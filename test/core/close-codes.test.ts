import { describe, expect, it } from 'vitest'
import {
  defaultCloseCodes,
  parseRetryAfter,
  resolveCloseMeaning,
  sanitizeCloseReason,
  type CloseAction,
} from '../../src/core'

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

describe('resolveCloseMeaning', () => {
  it.each<[number, string, CloseAction, number | undefined]>([
    [1000, 'normal', 'reconnect', undefined],
    [1001, 'going-away', 'reconnect-spread', undefined],
    [1002, 'protocol-error', 'reconnect', undefined],
    [1003, 'unsupported-data', 'fail-outbound', undefined],
    [1004, 'reserved', 'reconnect', undefined],
    [1005, 'no-status', 'reconnect', undefined],
    [1006, 'abnormal', 'reconnect', undefined],
    [1007, 'invalid-payload', 'fail-outbound', undefined],
    [1008, 'policy-violation', 'stop', undefined],
    [1009, 'message-too-big', 'fail-outbound', undefined],
    [1010, 'missing-extension', 'stop', undefined],
    [1011, 'server-error', 'reconnect', undefined],
    [1012, 'service-restart', 'reconnect-spread', undefined],
    [1013, 'try-again-later', 'reconnect', 5000],
    [1014, 'bad-gateway', 'reconnect', undefined],
    [1015, 'tls-failure', 'stop', undefined],
    [4001, 'token-invalid', 'refresh-token', undefined],
    [4002, 'rate-limited', 'rate-limit', 5000],
    [4003, 'session-expired', 'session-expired', undefined],
  ])('maps %i to %s → %s (floor %s)', (code, name, action, floorMs) => {
    const meaning = resolveCloseMeaning(code)
    expect(meaning).toMatchObject({ code, name, action })
    expect(meaning.floorMs).toBe(floorMs)
  })

  it('names every standard code 1000–1015', () => {
    for (let code = 1000; code <= 1015; code++) {
      expect(defaultCloseCodes[code], String(code)).toBeDefined()
      expect(resolveCloseMeaning(code).name).not.toBe('unknown')
    }
  })

  it.each<[number, string]>([
    [4000, 'application'],
    [4004, 'application'],
    [4999, 'application'],
    [3000, 'registered'],
    [3999, 'registered'],
    [1016, 'unknown'],
    [2999, 'unknown'],
    [5000, 'unknown'],
    [999, 'unknown'],
    [0, 'unknown'],
    [-1, 'unknown'],
    [Number.NaN, 'unknown'],
  ])('falls back by range: %d is %s and backs off', (code, name) => {
    const meaning = resolveCloseMeaning(code)
    expect(meaning).toMatchObject({ name, action: 'reconnect' })
    expect(meaning.code).toBe(code)
  })

  it('lets a user table override a default and add an application code, keeping the other defaults', () => {
    const table = {
      1006: { name: 'dropped', action: 'stop' as const },
      4100: { name: 'banned', action: 'stop' as const },
    }
    expect(resolveCloseMeaning(1006, table)).toEqual({ code: 1006, name: 'dropped', action: 'stop' })
    expect(resolveCloseMeaning(4100, table)).toMatchObject({ code: 4100, name: 'banned', action: 'stop' })
    expect(resolveCloseMeaning(1008, table)).toMatchObject({ name: 'policy-violation', action: 'stop' })
  })

  it('returns a copy, so a caller cannot edit the default table', () => {
    const meaning = resolveCloseMeaning(1000)
    ;(meaning as { action: CloseAction }).action = 'stop'
    expect(resolveCloseMeaning(1000).action).toBe('reconnect')
  })
})

describe('sanitizeCloseReason', () => {
  it.each<[string, unknown, string]>([
    ['a plain reason', 'bye', 'bye'],
    ['C0 control characters', 'a\u0000b\nc\td\u001fe', 'abcde'],
    ['DEL and C1 control characters', 'x\u007fy\u0085z\u009f', 'xyz'],
    ['undefined', undefined, ''],
    ['null', null, ''],
    ['a number', 1234, ''],
    ['an object', { toString: () => 'sneaky' }, ''],
  ])('handles %s', (_, input, expected) => {
    expect(sanitizeCloseReason(input)).toBe(expected)
  })

  it('truncates a 500-character ASCII reason to 123 bytes', () => {
    expect(sanitizeCloseReason('a'.repeat(500))).toBe('a'.repeat(123))
  })

  it.each([
    ['2-byte é', 'é'],
    ['3-byte €', '€'],
    ['4-byte emoji (a surrogate pair)', '😀'],
    ['mixed', 'aé€😀'],
    ['1 byte then 4-byte chars', 'x' + '😀'.repeat(200)],
    ['2 bytes offset then 3-byte chars', 'ab' + '€'.repeat(200)],
  ])('truncates 500 chars of %s to ≤ 123 UTF-8 bytes without splitting a character', (_, unit) => {
    const input = unit.repeat(Math.ceil(500 / unit.length)).slice(0, 500)
    const output = sanitizeCloseReason(input)
    expect(utf8Bytes(output)).toBeLessThanOrEqual(123)
    // Nothing split: the output is a prefix of the input ending on a character boundary, and one more
    // character would not fit.
    expect(input.startsWith(output)).toBe(true)
    expect(output).not.toMatch(loneSurrogate)
    const next = String.fromCodePoint(input.slice(output.length).codePointAt(0)!)
    expect(utf8Bytes(output + next)).toBeGreaterThan(123)
  })

  it('keeps exactly 123 bytes when they fit', () => {
    const reason = '€'.repeat(41)
    expect(utf8Bytes(reason)).toBe(123)
    expect(sanitizeCloseReason(reason)).toBe(reason)
  })
})

describe('parseRetryAfter', () => {
  it.each<[string, string, number | null]>([
    ['a number', '{"retryAfterMs":12000}', 12_000],
    ['zero', '{"retryAfterMs":0}', 0],
    ['a fraction', '{"retryAfterMs":1.5}', 1.5],
    ['a huge number (clamped by the caller)', '{"retryAfterMs":1e12}', 1e12],
    ['other keys around it', '{"reason":"slow","retryAfterMs":250}', 250],
    ['a negative number', '{"retryAfterMs":-5}', null],
    ['NaN (not JSON)', '{"retryAfterMs":NaN}', null],
    ['Infinity (not JSON)', '{"retryAfterMs":Infinity}', null],
    ['an overflowing literal', '{"retryAfterMs":1e400}', null],
    ['a string', '{"retryAfterMs":"abc"}', null],
    ['a numeric string', '{"retryAfterMs":"12000"}', null],
    ['null', '{"retryAfterMs":null}', null],
    ['an object', '{"retryAfterMs":{}}', null],
    ['a missing key', '{"wait":1000}', null],
    ['truncated JSON', '{"retryAfterMs":12', null],
    ['plain text', 'rate limited', null],
    ['an empty reason', '', null],
    ['a JSON array', '[12000]', null],
    ['a bare number', '12000', null],
    ['a __proto__ key', '{"__proto__":{"retryAfterMs":1}}', null],
  ])('reads %s', (_, reason, expected) => {
    expect(parseRetryAfter(reason)).toBe(expected)
  })
})
