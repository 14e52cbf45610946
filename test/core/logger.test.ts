import { afterEach, describe, expect, it, vi } from 'vitest'
import { redact } from '../../src/core'
import { createLogSink, type Logger } from '../../src/core/logger'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.secret-token-value'

describe('redact', () => {
  it('removes a known token value wherever it appears in a string', () => {
    expect(redact(`hello ${TOKEN} and again ${TOKEN}!`, [TOKEN])).toBe('hello [redacted] and again [redacted]!')
  })

  it('removes known token values inside nested objects and arrays, keeping arrays arrays', () => {
    const out = redact({ info: { text: `auth ${TOKEN}` }, list: ['plain', `x${TOKEN}x`] }, [TOKEN])
    expect(out).toEqual({ info: { text: 'auth [redacted]' }, list: ['plain', 'x[redacted]x'] })
    expect(Array.isArray((out as { list: unknown }).list)).toBe(true)
  })

  it.each([
    'token',
    'accessToken',
    'Authorization',
    'password',
    'clientSecret',
    'cookie',
    'Set-Cookie',
    'sessionId',
    'session',
  ])('redacts the value of a %s key, whatever its type', (key) => {
    expect(redact({ [key]: 'value', other: 'kept' }, [])).toEqual({ [key]: '[redacted]', other: 'kept' })
    expect(redact({ [key]: { nested: 1 } }, [])).toEqual({ [key]: '[redacted]' })
    expect(redact({ [key]: 12345 }, [])).toEqual({ [key]: '[redacted]' })
  })

  it.each([
    [
      'a query string',
      'connecting to wss://example.com/socket?token=abc&x=1 now',
      'connecting to wss://example.com/socket?[redacted] now',
    ],
    ['a fragment', 'ws://host:8080/path#access_token=abc', 'ws://host:8080/path?[redacted]'],
    ['an https URL', 'probe https://api.example.com/ws?key=1', 'probe https://api.example.com/ws?[redacted]'],
    ['user credentials', 'wss://alice:hunter2@example.com/ws', 'wss://[redacted]@example.com/ws'],
    ['a URL without a query (kept)', 'wss://example.com/socket', 'wss://example.com/socket'],
  ])('redacts %s in a URL', (_, input, expected) => {
    expect(redact(input, [])).toBe(expected)
  })

  it('keeps numbers, booleans and null as they are', () => {
    expect(redact({ code: 1006, wasClean: false, reason: null }, [])).toEqual({
      code: 1006,
      wasClean: false,
      reason: null,
    })
  })

  it('ignores an empty secret instead of redacting between every character', () => {
    expect(redact('abc', [''])).toBe('abc')
  })

  it('keeps a parsed __proto__ key as a key of the copy instead of setting its prototype', () => {
    const parsed = JSON.parse('{"__proto__":{"token":"s3cret","polluted":true},"ok":1}') as object
    const out = redact(parsed, ['s3cret']) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.keys(out)).toEqual(['__proto__', 'ok'])
    expect(JSON.stringify(out)).toBe('{"__proto__":{"token":"[redacted]","polluted":true},"ok":1}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('survives a circular value', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic
    expect(redact(cyclic, [])).toEqual({ name: 'loop', self: '[circular]' })
  })

  it('keeps the name, code and redacted message of an error', () => {
    const error = Object.assign(new Error(`bad token ${TOKEN}`), { code: 'TOKEN_REFRESH_FAILED' })
    expect(redact({ error }, [TOKEN])).toEqual({
      error: { name: 'Error', code: 'TOKEN_REFRESH_FAILED', message: 'bad token [redacted]' },
    })
  })
})

describe('createLogSink', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it.each([undefined, false])('is off (null) for %s, the default', (option) => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => undefined)
    expect(createLogSink(option, () => [])).toBeNull()
    expect(debug).not.toHaveBeenCalled()
  })

  it('logs to the console for true', () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => undefined)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const sink = createLogSink(true, () => [])!
    sink('debug', 'hello')
    sink('warn', 'careful', { code: 1 })
    expect(debug).toHaveBeenCalledWith('[lifeline] hello')
    expect(warn).toHaveBeenCalledWith('[lifeline] careful', { code: 1 })
  })

  it('redacts the message and details before a custom logger sees them, with the current secrets', () => {
    const logger: Logger = { debug: vi.fn(), warn: vi.fn() }
    let secrets: string[] = []
    const sink = createLogSink(logger, () => secrets)!
    secrets = [TOKEN]
    sink('debug', `sent ${TOKEN} to wss://h/s?token=${TOKEN}`, { token: TOKEN, note: `t=${TOKEN}` })
    expect(logger.debug).toHaveBeenCalledWith('[lifeline] sent [redacted] to wss://h/s?[redacted]', {
      token: '[redacted]',
      note: 't=[redacted]',
    })
    expect(JSON.stringify(vi.mocked(logger.debug).mock.calls)).not.toContain(TOKEN)
  })
})
