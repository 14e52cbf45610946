// A risky key, or any escape of an ASCII character: `"\u005f_proto__"` is the key `__proto__` once parsed.
const risky = /"(?:__proto__|constructor|prototype)"\s*:|\\u00[0-7]/i

/**
 * `JSON.parse` that cannot be used for prototype pollution: `__proto__` keys, and `constructor`/`prototype` keys
 * holding objects, are dropped. The reviver runs only when the text contains such a key (or an escaped ASCII
 * character that could spell one), so the common case costs one regular-expression test. Throws `SyntaxError` on
 * invalid JSON, like `JSON.parse`.
 */
export function safeJsonParse(text: string): unknown {
  return risky.test(text)
    ? JSON.parse(text, (key, value: unknown) =>
        key === '__proto__' || ((key === 'constructor' || key === 'prototype') && typeof value === 'object')
          ? undefined
          : value,
      )
    : JSON.parse(text)
}
