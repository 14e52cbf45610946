import { afterEach, describe, expect, it } from 'vitest'
import { safeJsonParse } from '../../src/core'

/** Fails the test if anything reached Object.prototype. */
function expectPrototypeClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect(Object.prototype).not.toHaveProperty('polluted')
  expect(Object.keys(Object.prototype)).toEqual([])
}

/** Merges like a naive deep-merge helper would: the way parsed JSON usually pollutes a prototype. */
function naiveMerge(target: Record<string, unknown>, source: unknown): Record<string, unknown> {
  for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
    if (value && typeof value === 'object') {
      target[key] ??= {}
      naiveMerge(target[key] as Record<string, unknown>, value)
    } else target[key] = value
  }
  return target
}

describe('safeJsonParse', () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>).polluted
  })

  it.each([
    ['a top-level __proto__', '{"__proto__":{"polluted":true},"ok":1}', { ok: 1 }],
    ['a nested __proto__', '{"a":{"__proto__":{"polluted":true},"b":2}}', { a: { b: 2 } }],
    ['__proto__ with spaces before the colon', '{"__proto__" :{"polluted":true}}', {}],
    ['__proto__ in an array element', '[{"__proto__":{"polluted":true}}]', [{}]],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}', {}],
    ['a bare prototype object', '{"x":{"prototype":{"polluted":true}}}', { x: {} }],
    ['an escaped \\u005f_proto__ key', '{"\\u005f_proto__":{"polluted":true}}', {}],
    ['an escaped constructor key', '{"\\u0063onstructor":{"prototype":{"polluted":true}}}', {}],
  ])('drops %s and pollutes nothing, even through a naive merge', (_, text, expected) => {
    const parsed = safeJsonParse(text)
    expect(parsed).toEqual(expected)
    const walk = (value: unknown): void => {
      if (!value || typeof value !== 'object') return
      expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(false)
      for (const inner of Object.values(value)) walk(inner)
    }
    walk(parsed)
    naiveMerge({}, parsed)
    expectPrototypeClean()
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
    expect(safeJsonParse('{"constructor":"Ford"}')).toEqual({ constructor: 'Ford' })
    expect(safeJsonParse('{"__proto__x":1,"x__proto__":2}')).toEqual({ __proto__x: 1, x__proto__: 2 })
  })

  it('keeps a "__proto__" string value that is not a key', () => {
    expect(safeJsonParse('{"key":"__proto__"}')).toEqual({ key: '__proto__' })
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
    expectPrototypeClean()
  })
})
