// The long-poll transport's wire side: request and response shapes, headers, errors, and the batch encoding.
// Internal helpers are exported for longpoll-transport.ts only.
import { httpUrl } from './http'
import type { Timers } from './environment'
import { InvalidUrlError, LifelineError } from './errors'

/** The part of a `fetch` response the long-poll transport reads. */
export interface FetchResponseLike {
  readonly status: number
  readonly headers: { get(name: string): string | null }
  text(): Promise<string>
}

/** The part of `fetch`'s `init` the long-poll transport passes. */
export interface FetchInitLike {
  method: 'GET' | 'POST' | 'DELETE'
  headers: Record<string, string>
  body?: string
  signal: AbortSignal
  credentials: 'include' | 'same-origin' | 'omit'
  cache: 'no-store'
  keepalive?: boolean
}

/** A `fetch` function: the platform's, or a fake in tests. */
export type FetchLike = (url: string, init: FetchInitLike) => Promise<FetchResponseLike>

/** Settings of the long-poll transport. */
export interface LongPollTransportConfig {
  /**
   * The lifeline endpoint: its WebSocket URL (`ws:` becomes `http:`, `wss:` becomes `https:`, never the reverse) or the
   * same URL in `http(s):`. Requests go to its path with `/poll` appended.
   */
  url: string
  /** The `fetch` to use (`Environment.fetch`; `globalThis.fetch` in browsers and Node 20). */
  fetch: FetchLike
  /** Timers for request timeouts. */
  timers: Timers
  /** Wall clock, for a `Retry-After` given as an HTTP date. @default Date.now */
  now?: () => number
  /**
   * How long a `GET` may take before it is abandoned and sent again with the same cursor (a hung poll). Must exceed
   * the server's `longPoll.pollTimeoutMs`.
   * @default 35000
   */
  pollTimeoutMs?: number
  /**
   * How long the opening request, a `POST` or the `DELETE` may take before the link is declared dead (close 1006).
   * @default 10000
   */
  requestTimeoutMs?: number
  /**
   * Polls in a row that may hang or fail at the network level (a lost response) and be sent again with the same
   * cursor before the link is declared dead (close 1006).
   * @default 2
   */
  maxPollRetries?: number
  /**
   * Largest `POST` body built, bytes (one frame alone may exceed it). A 413 halves it for the rest of the connection.
   * @default 65536
   */
  maxBatchBytes?: number
  /**
   * Bounds of a server's `Retry-After` (429, 503), ms.
   * @default [1000, 300000]
   */
  retryAfterRangeMs?: readonly [number, number]
  /**
   * Whether requests carry cookies, as a WebSocket upgrade does (the server answers allowed origins with credentials).
   * @default 'include'
   */
  credentials?: 'include' | 'same-origin' | 'omit'
}

/** Why a long-poll request failed: a `TRANSPORT_ERROR` carrying the HTTP status (null: no response at all). */
export class LongPollError extends LifelineError {
  /** The HTTP status, or null for a network error, a timeout or an unreadable response. */
  declare readonly status: number | null
  constructor(status: number | null, message: string, cause?: unknown) {
    super('TRANSPORT_ERROR', message, cause)
    this.name = 'LongPollError'
    this.status = status
  }

  override get hint(): string {
    return process.env.NODE_ENV !== 'production'
      ? 'A long-poll request failed: check the network, that a proxy or captive portal does not answer in the ' +
          "server's place, and that the server serves <path>/poll."
      : ''
  }
}

/** The request header carrying the connection id. */
export const LONG_POLL_CONNECTION_HEADER = 'Lifeline-Connection'
/** The request header carrying the last cursor received. */
export const LONG_POLL_CURSOR_HEADER = 'Lifeline-Cursor'

/**
 * The long-poll URL of a lifeline endpoint: `ws:` → `http:`, `wss:` → `https:` (never downgraded), `/poll` appended to
 * the path, the query kept. Throws `InvalidUrlError` for other schemes.
 */
export function longPollUrl(url: string): string {
  const parsed = httpUrl(url)
  if (!parsed || parsed.username || parsed.password) throw new InvalidUrlError(url)
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/poll`
  parsed.hash = ''
  return parsed.href
}

/** UTF-8 bytes of `text` (a lone surrogate counts as the 3 bytes of U+FFFD it becomes). */
export function utf8Bytes(text: string): number {
  let bytes = text.length
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index)
    if (unit < 0x80) continue
    if (unit < 0x800) bytes += 1
    else if (unit >= 0xd800 && unit < 0xdc00 && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 2
      index++
    } else bytes += 2
  }
  return bytes
}

/** One frame as an element of a batch body: a JSON object frame as it is (no escaping), anything else as a string. */
export function batchElement(text: string): string {
  if (text.charCodeAt(0) === 123 /* { */) {
    try {
      // Checked, so that one malformed frame is refused on its own (error INVALID_FRAME) instead of the whole batch.
      const value: unknown = JSON.parse(text)
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return text
    } catch {
      // not JSON: sent as a string below
    }
  }
  return JSON.stringify(text)
}

export type Outcome =
  | {
      readonly kind: 'response'
      readonly status: number
      readonly headers: FetchResponseLike['headers']
      readonly text: string
    }
  | { readonly kind: 'network'; readonly error: unknown }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'dropped' }

/** One frame ready for a batch body, with its size. */
export interface Element {
  readonly text: string
  readonly bytes: number
}

export interface Batch {
  readonly elements: Element[]
  /** Bytes of the body: the elements, the commas between them and the brackets. */
  readonly bytes: number
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A `close` member of a response body, if well formed. */
export function closeOf(value: unknown): { code: number; reason: string } | null {
  if (!isObject(value) || !isObject(value.close)) return null
  const { code, reason } = value.close
  if (typeof code !== 'number' || !Number.isInteger(code)) return null
  return { code, reason: typeof reason === 'string' ? reason : '' }
}
