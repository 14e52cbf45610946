import { describe, expect, it } from 'vitest'
import { defaultCloseCodes, InvalidOptionsError, type LifelineOptions, type OptionIssue } from '../../src/core'
import { resolveOptions } from '../../src/core/options'

const url = 'wss://example.com/ws'

/** The issues resolveOptions reports for `options` (fails the test if it does not throw InvalidOptionsError). */
function issuesOf(options: unknown): readonly OptionIssue[] {
  try {
    resolveOptions(options as LifelineOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError)
    expect((error as InvalidOptionsError).code).toBe('INVALID_OPTIONS')
    return (error as InvalidOptionsError).issues
  }
  throw new Error('expected InvalidOptionsError')
}
const fieldsOf = (options: unknown) => issuesOf(options).map((issue) => issue.field)

describe('resolveOptions: defaults', () => {
  it('applies the DESIGN §3 defaults', () => {
    const resolved = resolveOptions({ url })
    expect(resolved.machine).toEqual({
      minDelayMs: 500,
      maxDelayMs: 30_000,
      maxAttempts: Infinity,
      backoff: 'full-jitter',
      closeCodes: { ...defaultCloseCodes },
      canRefreshToken: false,
      maxTokenRefreshes: 3,
      tokenRefreshWindowMs: 30_000,
      connectTimeoutMs: 10_000,
      closeTimeoutMs: 5000,
      stableAfterMs: 5000,
    })
    expect(resolved.outbox).toEqual({
      maxMessages: 1000,
      maxBytes: 1 << 20,
      overflow: 'reject',
      ttlMs: null,
      maxSendAttempts: 5,
    })
    expect(resolved.heartbeat).toBeNull()
    expect(resolved.maxMessageBytes).toBe(1 << 20)
  })

  it('keeps given values', () => {
    const backoff = () => 1000
    const resolved = resolveOptions({
      url,
      minDelayMs: 100,
      maxDelayMs: 2000,
      maxAttempts: 7,
      backoff,
      getToken: () => 'token',
      outbox: { maxMessages: 10, overflow: 'drop-oldest', ttlMs: 60_000 },
      heartbeat: { intervalMs: 1000, timeoutMs: 500 },
    })
    expect(resolved.machine).toMatchObject({
      minDelayMs: 100,
      maxDelayMs: 2000,
      maxAttempts: 7,
      backoff,
      canRefreshToken: true,
    })
    expect(resolved.outbox).toEqual({
      maxMessages: 10,
      maxBytes: 1 << 20,
      overflow: 'drop-oldest',
      ttlMs: 60_000,
      maxSendAttempts: 5,
    })
    expect(resolved.heartbeat).toEqual({ intervalMs: 1000, timeoutMs: 500 })
  })

  it.each<[string, NonNullable<LifelineOptions['heartbeat']>, unknown]>([
    ['true', true, { intervalMs: 25_000, timeoutMs: 10_000 }],
    ['false', false, null],
    ['an empty object', {}, { intervalMs: 25_000, timeoutMs: 10_000 }],
    ['a partial object', { timeoutMs: 2000 }, { intervalMs: 25_000, timeoutMs: 2000 }],
  ])('resolves heartbeat %s', (_, heartbeat, expected) => {
    expect(resolveOptions({ url, heartbeat }).heartbeat).toEqual(expected)
  })

  it('merges closeCodes over the defaults', () => {
    const closeCodes = {
      4100: { name: 'banned', action: 'stop' as const },
      1006: { name: 'dropped', action: 'stop' as const },
    }
    const table = resolveOptions({ url, closeCodes }).machine.closeCodes
    expect(table[4100]).toEqual(closeCodes[4100])
    expect(table[1006]).toEqual(closeCodes[1006])
    expect(table[1001]).toEqual(defaultCloseCodes[1001])
  })

  it('accepts subprotocol tokens', () => {
    expect(() => resolveOptions({ url, protocols: ['lifeline.v1', 'json'] })).not.toThrow()
    expect(() => resolveOptions({ url, protocols: 'graphql-ws' })).not.toThrow()
  })
})

describe('resolveOptions: bad input (every bad field at once)', () => {
  it('lists 5 bad fields as 5 issues in one InvalidOptionsError', () => {
    const fields = fieldsOf({
      url,
      minDelayMs: -1,
      maxAttempts: 'many',
      connectTimeoutMs: 0,
      backoff: 'linear',
      binaryType: 'text',
    })
    expect(fields).toEqual(
      expect.arrayContaining(['minDelayMs', 'maxAttempts', 'connectTimeoutMs', 'backoff', 'binaryType']),
    )
    expect(fields).toHaveLength(5)
  })

  it('names every field in the error message', () => {
    expect(() => resolveOptions({ url, stableAfterMs: -1, outbox: { maxBytes: 0 } })).toThrow(
      /stableAfterMs.*outbox\.maxBytes/,
    )
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['a negative minDelayMs', { minDelayMs: -1 }, 'minDelayMs'],
    ['a NaN maxDelayMs', { maxDelayMs: Number.NaN }, 'maxDelayMs'],
    ['an infinite minDelayMs', { minDelayMs: Infinity }, 'minDelayMs'],
    ['a string maxAttempts', { maxAttempts: '3' }, 'maxAttempts'],
    ['a negative stableAfterMs', { stableAfterMs: -5 }, 'stableAfterMs'],
    ['a zero connectTimeoutMs', { connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    ['a huge closeTimeoutMs', { closeTimeoutMs: 1e12 }, 'closeTimeoutMs'],
    ['a negative maxTokenRefreshes', { maxTokenRefreshes: -1 }, 'maxTokenRefreshes'],
    ['a boolean tokenRefreshWindowMs', { tokenRefreshWindowMs: true }, 'tokenRefreshWindowMs'],
    ['a zero maxMessageBytes', { maxMessageBytes: 0 }, 'maxMessageBytes'],
    ['minDelayMs above maxDelayMs', { minDelayMs: 5000, maxDelayMs: 1000 }, 'minDelayMs'],
    ['an unknown backoff name', { backoff: 'linear' }, 'backoff'],
    ['an unknown binaryType', { binaryType: 'text' }, 'binaryType'],
    ['a non-token subprotocol', { protocols: 'has space' }, 'protocols'],
    ['an empty subprotocol', { protocols: [''] }, 'protocols'],
    ['a duplicate subprotocol', { protocols: ['json', 'json'] }, 'protocols'],
    ['a non-function getToken', { getToken: 'secret' }, 'getToken'],
    ['a non-function authMessage', { authMessage: {} }, 'authMessage'],
    ['a non-function onSessionExpired', { onSessionExpired: 1 }, 'onSessionExpired'],
    ['a string heartbeat', { heartbeat: 'yes' }, 'heartbeat'],
    ['a numeric heartbeat', { heartbeat: 1 }, 'heartbeat'],
    ['a zero heartbeat.intervalMs', { heartbeat: { intervalMs: 0 } }, 'heartbeat.intervalMs'],
    ['a negative heartbeat.timeoutMs', { heartbeat: { timeoutMs: -1 } }, 'heartbeat.timeoutMs'],
    ['a non-function heartbeat.isPong', { heartbeat: { isPong: 'pong' } }, 'heartbeat.isPong'],
    ['an unknown heartbeat key', { heartbeat: { interval: 1000 } }, 'heartbeat.interval'],
    ['a non-object outbox', { outbox: 5 }, 'outbox'],
    ['a zero outbox.maxMessages', { outbox: { maxMessages: 0 } }, 'outbox.maxMessages'],
    ['a string outbox.maxBytes', { outbox: { maxBytes: '1MB' } }, 'outbox.maxBytes'],
    ['an unknown outbox.overflow', { outbox: { overflow: 'drop-newest' } }, 'outbox.overflow'],
    ['a negative outbox.ttlMs', { outbox: { ttlMs: -1 } }, 'outbox.ttlMs'],
    ['a zero outbox.maxSendAttempts', { outbox: { maxSendAttempts: 0 } }, 'outbox.maxSendAttempts'],
    ['an unknown outbox key', { outbox: { maxMesages: 10 } }, 'outbox.maxMesages'],
    ['a close code out of range', { closeCodes: { 999: { name: 'x', action: 'stop' } } }, 'closeCodes.999'],
    ['a non-numeric close code', { closeCodes: { abc: { name: 'x', action: 'stop' } } }, 'closeCodes.abc'],
    ['an unknown close action', { closeCodes: { 4100: { name: 'x', action: 'explode' } } }, 'closeCodes.4100.action'],
    ['a null close rule', { closeCodes: { 4100: null } }, 'closeCodes.4100.action'],
    [
      'a negative close floorMs',
      { closeCodes: { 4100: { name: 'x', action: 'reconnect', floorMs: -5 } } },
      'closeCodes.4100.floorMs',
    ],
    [
      'a NaN close floorMs',
      { closeCodes: { 4100: { name: 'x', action: 'reconnect', floorMs: Number.NaN } } },
      'closeCodes.4100.floorMs',
    ],
    ['a missing close name', { closeCodes: { 4100: { action: 'reconnect' } } }, 'closeCodes.4100.name'],
    ['an unknown option', { reconect: true }, 'reconect'],
    ['an unknown option named like an Object method', { toString: 'x' }, 'toString'],
    ['an unknown option named constructor', { constructor: 'x' }, 'constructor'],
  ])('reports %s', (_, bad, field) => {
    expect(fieldsOf({ url, ...bad })).toEqual([field])
  })

  it('reports both heartbeat numbers when both are bad', () => {
    expect(fieldsOf({ url, heartbeat: { intervalMs: 0, timeoutMs: -1 } })).toEqual([
      'heartbeat.intervalMs',
      'heartbeat.timeoutMs',
    ])
  })

  it('reports every bad outbox field at once', () => {
    const fields = fieldsOf({
      url,
      outbox: { maxMessages: 0, maxBytes: 'x', overflow: 'no', ttlMs: -1, maxSendAttempts: 0 },
    })
    expect(fields).toHaveLength(5)
  })

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'wss://example.com'],
  ])('throws InvalidOptionsError (not a TypeError) for %s options', (_, options) => {
    expect(() => resolveOptions(options as unknown as LifelineOptions)).toThrow(InvalidOptionsError)
  })

  it('accepts maxAttempts Infinity and 0', () => {
    expect(resolveOptions({ url, maxAttempts: Infinity }).machine.maxAttempts).toBe(Infinity)
    expect(resolveOptions({ url, maxAttempts: 0 }).machine.maxAttempts).toBe(0)
  })
})

describe('resolveOptions: production builds', () => {
  it('skips the validator and clamps hostile numbers into range instead of throwing', () => {
    const previous = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      const resolved = resolveOptions({
        url: 'ws://x.test',
        minDelayMs: -5,
        maxDelayMs: Number.NaN,
        connectTimeoutMs: 1e15,
        heartbeat: { intervalMs: 0, timeoutMs: Number.POSITIVE_INFINITY },
        outbox: { maxMessages: -1, overflow: 'nonsense' as 'reject' },
        unknownOption: true,
      } as Parameters<typeof resolveOptions>[0])
      expect(resolved.machine.minDelayMs).toBe(1)
      expect(resolved.machine.maxDelayMs).toBeGreaterThanOrEqual(resolved.machine.minDelayMs)
      expect(resolved.machine.connectTimeoutMs).toBe(600_000)
      expect(resolved.heartbeat).toEqual({ intervalMs: 1, timeoutMs: 3_600_000 })
      expect(resolved.outbox).toMatchObject({ maxMessages: 1, overflow: 'reject' })
    } finally {
      process.env.NODE_ENV = previous
    }
  })
})
