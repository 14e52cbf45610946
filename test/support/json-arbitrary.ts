import fc from 'fast-check'

/** Keys that name prototype machinery: a parser must keep them as plain data, and nothing may reach a prototype. */
export const RISKY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const

/** JSON scalars; `-0` becomes `0`, as JSON itself makes it. */
const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => (Object.is(value, -0) ? 0 : value)),
  fc.string(),
  // Any code point, lone surrogates included: JSON.stringify escapes those, so they survive the trip.
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':') }),
)

/**
 * Arbitrary JSON values whose object keys are often {@link RISKY_KEYS} (each created as an own data property, as
 * `JSON.parse` creates them). Nesting is at most `maxDepth` arrays/objects.
 */
export function jsonValue(maxDepth = 5): fc.Arbitrary<unknown> {
  const key = fc.oneof(fc.constantFrom(...RISKY_KEYS), fc.string())
  const { value } = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
    value: fc.oneof({ maxDepth, depthIdentifier: 'json' }, scalar, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5, depthIdentifier: 'json' }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 6, noNullPrototype: true, depthIdentifier: 'json' }),
  }))
  return value
}

/** Nesting depth of a JSON value by plain recursion (the reference the iterative scanner is checked against). */
export function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value)
  return 1 + children.reduce<number>((deepest, child) => Math.max(deepest, depthOf(child)), 0)
}

/** Own property names of the built-in prototypes, to check after a test that nothing was added to them. */
export function prototypeSnapshot(): Record<string, string[]> {
  return {
    object: Object.getOwnPropertyNames(Object.prototype).sort(),
    array: Object.getOwnPropertyNames(Array.prototype).sort(),
    function: Object.getOwnPropertyNames(Function.prototype).sort(),
  }
}
