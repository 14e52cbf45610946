import { readFileSync } from 'node:fs'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { InvalidOptionsError, type HeartbeatOptions, type LifelineOptions, type OptionIssue } from '../../src/core'
import {
  heartbeatSchema,
  isNumberRule,
  optionSchema,
  outboxSchema,
  type NumberRule,
  type OptionRule,
} from '../../src/core/option-schema'
import { resolveOptions, type ResolvedOptions } from '../../src/core/options'
import type { OutboxOptions } from '../../src/core/outbox'

const url = 'wss://example.com/ws'

function issuesOf(options: Record<string, unknown>): readonly OptionIssue[] {
  try {
    resolveOptions({ url, ...options })
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError)
    return (error as InvalidOptionsError).issues
  }
  return []
}

function inProduction<T>(run: () => T): T {
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  try {
    return run()
  } finally {
    process.env.NODE_ENV = previous
  }
}

const numberRows = (table: Readonly<Record<string, OptionRule>>) =>
  Object.entries(table).filter((row): row is [string, NumberRule] => isNumberRule(row[1]))

/** Each table, how to give it one field, and where `resolveOptions` puts its resolved numbers. */
const tables = [
  {
    prefix: '',
    table: optionSchema,
    give: (name: string, value: unknown) => ({ [name]: value }),
    numbers: ({ machine, maxMessageBytes }: ResolvedOptions): Record<string, unknown> => ({
      ...machine,
      maxMessageBytes,
    }),
  },
  {
    prefix: 'heartbeat.',
    table: heartbeatSchema,
    give: (name: string, value: unknown) => ({ heartbeat: { [name]: value } }),
    numbers: ({ heartbeat }: ResolvedOptions): Record<string, unknown> => ({ ...heartbeat }),
  },
  {
    prefix: 'outbox.',
    table: outboxSchema,
    give: (name: string, value: unknown) => ({ outbox: { [name]: value } }),
    numbers: ({ outbox }: ResolvedOptions): Record<string, unknown> => ({ ...outbox }),
  },
]

describe('option schema', () => {
  it('has a row for every option and nothing else (checked by the compiler)', () => {
    expectTypeOf<keyof typeof optionSchema>().toEqualTypeOf<keyof LifelineOptions>()
    expectTypeOf<keyof typeof heartbeatSchema>().toEqualTypeOf<keyof HeartbeatOptions>()
    expectTypeOf<keyof typeof outboxSchema>().toEqualTypeOf<keyof OutboxOptions>()
  })

  it('accepts every option it has a row for and reports every other key as unknown', () => {
    for (const name of Object.keys(optionSchema)) expect(issuesOf({ [name]: undefined }), name).toEqual([])
    expect(issuesOf({ autoReconnect: true })).toEqual([{ field: 'autoReconnect', problem: 'is not a known option' }])
  })

  describe.each(tables)('the $prefix numbers', ({ prefix, table, give, numbers }) => {
    const rows = numberRows(table)

    it('are exactly the numbers resolveOptions defaults, each to its row', () => {
      const resolved = numbers(resolveOptions({ url, heartbeat: true }))
      for (const [name, [fallback]] of rows) expect(resolved[name], name).toBe(fallback)
      // Every resolved number comes from a row (the other resolved fields are not numbers).
      const numeric = Object.keys(resolved).filter(
        (name) => typeof resolved[name] === 'number' || resolved[name] === null,
      )
      expect(numeric.sort()).toEqual(rows.map(([name]) => name).sort())
    })

    it.each(rows)(`validates ${prefix}%s against the same row`, (name, [, min, max]) => {
      // Only the range problems: minDelayMs > maxDelayMs is a rule across two rows.
      const rangeIssues = (value: number) =>
        issuesOf(give(name, value)).filter((issue) => issue.problem.startsWith('must be a number'))
      expect(rangeIssues(min)).toEqual([])
      expect(rangeIssues(max)).toEqual([])
      expect(rangeIssues(min - 1)).toEqual([
        { field: `${prefix}${name}`, problem: `must be a number from ${min} to ${max}, got ${min - 1}` },
      ])
      if (Number.isFinite(max)) expect(rangeIssues(max + 1)).toHaveLength(1)
    })

    it.each(rows)(`clamps ${prefix}%s to the same row in production`, (name, [, min]) => {
      const resolved = inProduction(() => resolveOptions({ url, heartbeat: true, ...give(name, min - 1) }))
      // ttlMs 0 means no TTL; maxDelayMs never drops below minDelayMs.
      const expected = name === 'ttlMs' ? null : name === 'maxDelayMs' ? Math.max(min, optionSchema.minDelayMs[0]) : min
      expect(numbers(resolved)[name]).toBe(expected)
    })
  })

  it.each<[string, Record<string, unknown>, (resolved: ResolvedOptions) => unknown, string]>([
    ['backoff', {}, (resolved) => resolved.machine.backoff, optionSchema.backoff[0]],
    ['outbox.overflow', {}, (resolved) => resolved.outbox.overflow, outboxSchema.overflow[0]],
  ])('defaults the choice %s to the first value of its row', (_, options, read, expected) => {
    expect(read(resolveOptions({ url, ...options }))).toBe(expected)
  })

  it.each([
    ['backoff', { backoff: 'linear' }, "must be 'full-jitter', 'decorrelated' or a function"],
    ['binaryType', { binaryType: 'text' }, "must be 'arraybuffer' or 'blob'"],
    ['outbox.overflow', { outbox: { overflow: 'drop-newest' } }, "must be 'reject' or 'drop-oldest'"],
    ['backoff', { backoff: 'function' }, "must be 'full-jitter', 'decorrelated' or a function"],
  ])('words the problem of choice %s from its row', (field, options, problem) => {
    expect(issuesOf(options)).toEqual([{ field, problem }])
  })

  it('keeps the options ↔ validate-options import circle out', () => {
    const importsOf = (file: string) =>
      [
        ...readFileSync(new URL(`../../src/core/${file}.ts`, import.meta.url), 'utf8').matchAll(/from '\.\/([\w-]+)'/g),
      ].map((match) => match[1])
    expect(importsOf('validate-options')).not.toContain('options')
    expect(importsOf('option-schema')).not.toContain('options')
    expect(importsOf('option-schema')).not.toContain('validate-options')
  })
})
