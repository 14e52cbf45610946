import type { CloseAction, CloseMeaning, CloseRule } from './types'

/** A close-code table: code → rule. Pass a partial one as `closeCodes` to extend or override the defaults. */
export type CloseCodeTable = Readonly<Record<number, CloseRule>>

const actionByLetter: Record<string, CloseAction> = {
  r: 'reconnect',
  s: 'reconnect-spread',
  x: 'stop',
  t: 'refresh-token',
  l: 'rate-limit',
  e: 'session-expired',
  f: 'fail-outbound',
}

/**
 * The default table (DESIGN §4): every standard code 1000–1015 and the application codes 4001–4003, as
 * `code name action-letter [floorMs]` rows (compact on the wire). Plain-words text for users lives in the components'
 * `labels`, keyed by `name`, so it can be translated.
 */
export const defaultCloseCodes: CloseCodeTable = Object.fromEntries(
  (
    '1000 normal r,1001 going-away s,1002 protocol-error r,1003 unsupported-data f,1004 reserved r,1005 no-status r,' +
    '1006 abnormal r,1007 invalid-payload f,1008 policy-violation x,1009 message-too-big f,1010 missing-extension x,' +
    '1011 server-error r,1012 service-restart s,1013 try-again-later r 5000,1014 bad-gateway r,1015 tls-failure x,' +
    '4001 token-invalid t,4002 rate-limited l 5000,4003 session-expired e'
  )
    .split(',')
    .map((row) => {
      const [code, name, letter, floor] = row.split(' ') as [string, string, string, string?]
      const rule: CloseRule = { name, action: actionByLetter[letter]! }
      if (floor) rule.floorMs = Number(floor)
      return [code, rule]
    }),
)

/**
 * Resolves the meaning of a close code: the user's table first, then the defaults, then a fallback by range
 * (other 4000–4999: application, back off; 3000–3999: registered; anything else: unknown, back off).
 */
export function resolveCloseMeaning(code: number, table: CloseCodeTable = defaultCloseCodes): CloseMeaning {
  const found = table[code] ?? defaultCloseCodes[code]
  if (found) return { ...found, code }
  const name = code >= 4000 && code <= 4999 ? 'application' : code >= 3000 && code <= 3999 ? 'registered' : 'unknown'
  return { code, name, action: 'reconnect' }
}

/** Strips control characters and truncates to 123 UTF-8 bytes, the most a close frame may carry (RFC 6455 §5.5). */
export function sanitizeCloseReason(reason: unknown): string {
  // Control characters (C0, DEL, C1), and bidirectional overrides that could make a reason render as something else.
  const clean = typeof reason === 'string' ? reason.replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, '') : ''
  // `encodeInto` writes whole characters only; `read` is how many UTF-16 units fit (a lone surrogate counts as U+FFFD).
  const { read } = new TextEncoder().encodeInto(clean, new Uint8Array(123))
  return clean.slice(0, read)
}

/** Reads a server-provided `retryAfterMs` from a JSON close reason; `null` unless it is a finite number ≥ 0. */
export function parseRetryAfter(reason: string): number | null {
  if (!reason.startsWith('{')) return null
  try {
    const value: unknown = (JSON.parse(reason) as { retryAfterMs?: unknown }).retryAfterMs
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null
  } catch {
    return null
  }
}
