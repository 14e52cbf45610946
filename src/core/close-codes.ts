import type { CloseAction, CloseMeaning, CloseRule } from './types'

/** A close-code table: code → rule. Pass a partial one as `closeCodes` to extend or override the defaults. */
export type CloseCodeTable = Readonly<Record<number, CloseRule>>

const rule = (name: string, description: string, action: CloseAction, floorMs?: number): CloseRule =>
  floorMs === undefined ? { name, description, action } : { name, description, action, floorMs }

/**
 * The default table (DESIGN §4): every standard code 1000–1015 and the application codes 4001–4003.
 * Codes not listed resolve through {@link resolveCloseMeaning}.
 */
export const defaultCloseCodes: CloseCodeTable = {
  1000: rule('normal', 'The server closed the connection.', 'reconnect'),
  1001: rule('going-away', 'The server is going away.', 'reconnect-spread'),
  1002: rule('protocol-error', 'The server saw a protocol error.', 'reconnect'),
  1003: rule('unsupported-data', 'The server cannot accept this kind of data.', 'fail-outbound'),
  1004: rule('reserved', 'Reserved close code.', 'reconnect'),
  1005: rule('no-status', 'Closed without a status code.', 'reconnect'),
  1006: rule('abnormal', 'The connection dropped without a close frame.', 'reconnect'),
  1007: rule('invalid-payload', 'The server rejected a message as invalid.', 'fail-outbound'),
  1008: rule('policy-violation', 'The server refused the connection by policy.', 'stop'),
  1009: rule('message-too-big', 'A message was too big for the server.', 'fail-outbound'),
  1010: rule('missing-extension', 'The server lacks a required extension.', 'stop'),
  1011: rule('server-error', 'The server hit an internal error.', 'reconnect'),
  1012: rule('service-restart', 'The server is restarting.', 'reconnect-spread'),
  1013: rule('try-again-later', 'The server is overloaded; try again later.', 'reconnect', 5000),
  1014: rule('bad-gateway', 'A gateway got a bad answer from upstream.', 'reconnect'),
  1015: rule('tls-failure', 'The TLS handshake failed.', 'stop'),
  4001: rule('token-invalid', 'The sign-in token was refused.', 'refresh-token'),
  4002: rule('rate-limited', 'Too many requests; waiting before retrying.', 'rate-limit', 5000),
  4003: rule('session-expired', 'The session expired.', 'session-expired'),
}

/**
 * Resolves the meaning of a close code: the user's table first, then the defaults, then a fallback by range
 * (other 4000–4999: application, back off; 3000–3999: registered; anything else: unknown, back off).
 */
export function resolveCloseMeaning(code: number, table: CloseCodeTable = defaultCloseCodes): CloseMeaning {
  const found = table[code] ?? defaultCloseCodes[code]
  if (found) return { ...found, code }
  const name = code >= 4000 && code <= 4999 ? 'application' : code >= 3000 && code <= 3999 ? 'registered' : 'unknown'
  return { code, name, description: `Closed with code ${code}.`, action: 'reconnect' }
}

/** Strips control characters and truncates to 123 UTF-8 bytes, the most a close frame may carry (RFC 6455 §5.5). */
export function sanitizeCloseReason(reason: unknown): string {
  // eslint-disable-next-line no-control-regex
  const clean = typeof reason === 'string' ? reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, '') : ''
  let bytes = 0
  let end = 0
  for (const char of clean) {
    const size = char.length > 1 ? 4 : char.charCodeAt(0) < 0x80 ? 1 : char.charCodeAt(0) < 0x800 ? 2 : 3
    if (bytes + size > 123) break
    bytes += size
    end += char.length
  }
  return clean.slice(0, end)
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
