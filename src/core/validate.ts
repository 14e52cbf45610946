import {
  InsecureTransportError,
  InvalidMessageError,
  InvalidOptionsError,
  InvalidUrlError,
  type OptionIssue,
} from './errors'
import type { PageLocation } from './environment'
import { jsonDepth } from './json'
import type { OutboundData } from './types'

/**
 * Resolves a WebSocket URL: absolute `ws:`/`wss:` (or `http:`/`https:`, mapped to them), or a path resolved against
 * the page. Throws `InvalidUrlError` for anything else (including credentials or a fragment in the URL) and
 * `InsecureTransportError` for `ws:` from an `https:` page, which the browser would block as mixed content.
 */
export function resolveUrl(input: unknown, page: PageLocation | undefined): string {
  const text = typeof input === 'string' ? input.trim() : ''
  let url: URL
  try {
    url = new URL(text, page?.href)
  } catch {
    throw new InvalidUrlError(String(input))
  }
  url.protocol = url.protocol.replace(/^http/, 'ws')
  // `url.hash` is '' for a bare '#', but the WebSocket constructor rejects any fragment, even an empty one.
  if (!text || !/^wss?:$/.test(url.protocol) || url.username || url.password || url.href.includes('#')) {
    throw new InvalidUrlError(String(input))
  }
  if (page?.protocol === 'https:' && url.protocol === 'ws:') throw new InsecureTransportError()
  return url.href
}

/**
 * Measures a message in bytes as it will go on the wire (UTF-8 for strings), and rejects what cannot be sent:
 * strings with a lone UTF-16 surrogate (they would become U+FFFD or close the socket with 1007) and unsupported types.
 */
export function measureMessage(data: OutboundData): number {
  if (typeof data === 'string') {
    let bytes = 0
    for (let index = 0; index < data.length; index++) {
      const unit = data.charCodeAt(index)
      if (unit < 0x80) bytes += 1
      else if (unit < 0x800) bytes += 2
      else if (unit < 0xd800 || unit > 0xdfff) bytes += 3
      // A surrogate: valid only as a high one (D800–DBFF) followed by a low one (DC00–DFFF), 4 bytes together.
      else if (unit < 0xdc00 && data.charCodeAt(index + 1) >= 0xdc00 && data.charCodeAt(index + 1) <= 0xdfff) {
        bytes += 4
        index++
      } else throw new InvalidMessageError(`lone surrogate at index ${index}`)
    }
    return bytes
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size
  throw new InvalidMessageError(`unsupported type ${data === null ? 'null' : typeof data}`)
}

/**
 * The JSON text of a message value, or `InvalidMessageError` for a value JSON cannot represent (BigInt, a cycle,
 * `undefined`) and for one nesting arrays and objects deeper than `maxDepth`, which the server would refuse. Data
 * thousands of levels deep overflows `JSON.stringify`'s recursion first: that RangeError (the `cause`) is reported as
 * not serialisable.
 */
export function jsonText(value: unknown, maxDepth: number): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new InvalidMessageError('not JSON-serialisable', error)
  }
  if (text === undefined) throw new InvalidMessageError(`${typeof value} has no JSON form`)
  if (jsonDepth(text, maxDepth) > maxDepth)
    throw new InvalidMessageError(`nested deeper than ${String(maxDepth)} levels`)
  return text
}

/** Collects option problems so that one error lists every bad field. */
export class IssueList {
  readonly issues: OptionIssue[] = []
  add(field: string, problem: string): void {
    this.issues.push({ field, problem })
  }
  /** Checks `value` is a number in [min, max] (`Infinity` allowed only if `max` is). Returns whether it is. */
  number(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
    const ok = typeof value === 'number' && value >= min && value <= max && (Number.isFinite(value) || value === max)
    if (!ok) this.add(field, `must be a number from ${min} to ${max}, got ${describe(value)}`)
    return ok
  }
  throwIfAny(): void {
    if (this.issues.length) throw new InvalidOptionsError(this.issues)
  }
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value
}
