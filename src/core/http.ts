/** Longest wait a server can ask for through `Retry-After`; longer values are clamped to it. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000

const weekday = /^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms clamped to `range`
 * ([0, {@link MAX_RETRY_AFTER_MS}] by default). `null` when absent or unreadable (negative, fractional, `NaN`, garbage
 * dates): the caller then backs off on its own. A date in the past is the range's minimum.
 */
export function parseRetryAfterHeader(
  value: string | null | undefined,
  now: number,
  range: readonly [number, number] = [0, MAX_RETRY_AFTER_MS],
): number | null {
  if (typeof value !== 'string') return null
  const text = value.trim()
  let ms: number
  if (/^\d+$/.test(text)) ms = Number(text) * 1000
  else if (weekday.test(text)) ms = Date.parse(text) - now
  else return null
  return Number.isNaN(ms) ? null : Math.min(Math.max(ms, range[0]), range[1])
}

/**
 * The HTTP URL of a lifeline endpoint: `ws:` → `http:`, `wss:` → `https:` (never a downgrade), `http(s):` as is;
 * `null` for anything else or what does not parse.
 */
export function httpUrl(url: string): URL | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  const scheme = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' }[parsed.protocol]
  if (scheme === undefined) return null
  parsed.protocol = scheme
  return parsed
}
