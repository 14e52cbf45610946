import { MAX_JSON_DEPTH } from './wire'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d

/**
 * How deeply JSON `text` nests arrays and objects: 0 for a scalar, 1 for `[]` or `{"a":1}`, 2 for `[[]]`. Counts
 * brackets outside strings (escapes honoured) in one pass, without parsing or recursion, so any depth is safe to
 * measure. Once the depth passes `limit` it stops and returns `limit + 1`. It does not validate the text.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (inString) {
      if (code === BACKSLASH) index++
      else if (code === QUOTE) inString = false
    } else if (code === QUOTE) inString = true
    else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) depth--
  }
  return deepest
}

/**
 * `JSON.parse` bounded in depth: text nesting arrays and objects deeper than `maxDepth` (the protocol's 64 by default)
 * throws a `SyntaxError` before anything is parsed, as invalid JSON does. Every key is kept, `__proto__`,
 * `constructor` and `prototype` included: `JSON.parse` defines own data properties, so parsing cannot reach a
 * prototype; only merging parsed objects into existing ones could, and the library never does (docs/protocol.md §1).
 */
export function safeJsonParse(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new SyntaxError(`nested deeper than ${String(maxDepth)} levels`)
  }
  return JSON.parse(text)
}
