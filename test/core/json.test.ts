import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonDepth, MAX_JSON_DEPTH, safeJsonParse } from '../../src/core'
import { depthOf, jsonValue, prototypeSnapshot } from '../support/json-arbitrary'

const pristine = prototypeSnapshot()

/** Fails the test if anything reached a built-in prototype. */
function expectPrototypesClean(): void {
  expect(prototypeSnapshot()).toEqual(pristine)
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect({}.constructor).toBe(Object)
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

describe('safeJsonParse', () => {
  it.each([
    ['a top-level __proto__', '{"__proto__":{"polluted":true},"ok":1}', '{"__proto__":{"polluted":true},"ok":1}'],
    [
      'a nested __proto__',
      '{"a":{"__proto__":{"polluted":true},"b":2}}',
      '{"a":{"__proto__":{"polluted":true},"b":2}}',
    ],
    ['__proto__ with spaces before the colon', '{"__proto__" :{"polluted":true}}', '{"__proto__":{"polluted":true}}'],
    ['__proto__ in an array element', '[{"__proto__":{"polluted":true}}]', '[{"__proto__":{"polluted":true}}]'],
    [
      'constructor.prototype',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ],
    ['a bare prototype object', '{"x":{"prototype":{"polluted":true}}}', '{"x":{"prototype":{"polluted":true}}}'],
    ['an escaped \\u005f_proto__ key', '{"\\u005f_proto__":{"polluted":true}}', '{"__proto__":{"polluted":true}}'],
    ['an escaped constructor key', '{"\\u0063onstructor":{"prototype":1}}', '{"constructor":{"prototype":1}}'],
  ])('keeps %s as plain data and pollutes nothing', (_, text, canonical) => {
    const parsed = safeJsonParse(text)
    expect(JSON.stringify(parsed)).toBe(canonical)
    // An own data property named "__proto__": the object's prototype is untouched.
    const walk = (value: unknown): void => {
      if (!value || typeof value !== 'object') return
      expect(Object.getPrototypeOf(value)).toBe(Array.isArray(value) ? Array.prototype : Object.prototype)
      for (const inner of Object.values(value)) walk(inner)
    }
    walk(parsed)
    expectPrototypesClean()
  })

  it('makes an own "__proto__" property, which object spread and structuredClone copy as data', () => {
    const parsed = safeJsonParse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')
    expect(Object.keys(parsed as object)).toEqual(['__proto__', 'constructor'])
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: true })
    // The ways the library copies parsed objects (persistence spreads stored items) define properties, never set them.
    for (const copy of [{ ...(parsed as object) }, structuredClone(parsed)]) {
      expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
      expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed))
    }
    expectPrototypesClean()
  })

  it('keeps normal data, including constructor and prototype string values', () => {
    const text = JSON.stringify({
      constructor: 'Ford',
      prototype: 'v2',
      name: 'x',
      list: [1, 'two', null, true],
      nested: { deep: { n: 1.5 } },
    })
    expect(safeJsonParse(text)).toEqual(JSON.parse(text))
    expect(safeJsonParse('{"__proto__x":1,"x__proto__":2}')).toEqual({ __proto__x: 1, x__proto__: 2 })
    expect(safeJsonParse('["__proto__", "constructor"]')).toEqual(['__proto__', 'constructor'])
  })

  it.each([
    ['a number', '42', 42],
    ['a string', '"text"', 'text'],
    ['null', 'null', null],
    ['an array', '[1,2]', [1, 2]],
    ['non-ASCII escapes', '{"name":"caf\\u00e9"}', { name: 'café' }],
  ])('parses %s like JSON.parse', (_, text, expected) => {
    expect(safeJsonParse(text)).toEqual(expected)
  })

  it.each([
    ['truncated JSON', '{"a":1'],
    ['truncated with a risky key', '{"__proto__":{"polluted":true}'],
    ['invalid JSON', "{'a':1}"],
    ['an empty string', ''],
    ['NaN', '{"a":NaN}'],
    ['trailing garbage', '{"a":1} x'],
    ['HTML', '<html>captive portal</html>'],
  ])('throws SyntaxError on %s', (_, text) => {
    expect(() => safeJsonParse(text)).toThrow(SyntaxError)
    expectPrototypesClean()
  })

  it(`parses text nested ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} with a SyntaxError`, () => {
    expect(MAX_JSON_DEPTH).toBe(64)
    expect(jsonDepth(JSON.stringify(safeJsonParse(nested(MAX_JSON_DEPTH))))).toBe(MAX_JSON_DEPTH)
    expect(() => safeJsonParse(nested(MAX_JSON_DEPTH + 1))).toThrow(/deeper than 64/)
    expect(() => safeJsonParse(nested(MAX_JSON_DEPTH + 1))).toThrow(SyntaxError)
    expect(() => safeJsonParse('{"a":[[1]]}', 2)).toThrow(SyntaxError)
    expect(safeJsonParse('{"a":[[1]]}', 3)).toEqual({ a: [[1]] })
  })

  it('refuses 100 000 levels of nesting with a SyntaxError, not a stack overflow', () => {
    expect(() => safeJsonParse(nested(100_000))).toThrow(SyntaxError)
  })

  it('round-trips arbitrary JSON (risky keys included) exactly, 5 000 values', () => {
    fc.assert(
      fc.property(jsonValue(8), (value) => {
        const text = JSON.stringify(value)
        const parsed = safeJsonParse(text)
        expect(parsed).toEqual(value)
        expect(JSON.stringify(parsed)).toBe(text)
      }),
      { numRuns: 5000, seed: 20_240_601 },
    )
    expectPrototypesClean()
  })
})

describe('jsonDepth', () => {
  it.each([
    ['1', 0],
    ['"[[{{"', 0],
    ['[]', 1],
    ['{}', 1],
    ['[[]]', 2],
    ['[1,[2,[3]],[4]]', 3],
    ['{"a":[{"b":[]}]}', 4],
    ['["\\"[[", {}]', 2],
    ['["\\\\", [[]]]', 3],
    ['{"k\\u005b":"]]]"}', 1],
  ])('measures %s as %i', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth)
  })

  it('measures 100 000 levels without recursion, and stops just past the limit when given one', () => {
    expect(jsonDepth(nested(100_000))).toBe(100_000)
    expect(jsonDepth('['.repeat(1_000_000), MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1)
    expect(jsonDepth(nested(10), 10)).toBe(10)
  })

  it('agrees with a recursive count on arbitrary JSON, 3 000 values', () => {
    fc.assert(
      fc.property(jsonValue(10), (value) => {
        expect(jsonDepth(JSON.stringify(value))).toBe(depthOf(value))
      }),
      { numRuns: 3000, seed: 7 },
    )
  })
})
