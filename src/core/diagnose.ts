import type { Timers } from './environment'
import { LifelineError } from './errors'
import { httpUrl, MAX_RETRY_AFTER_MS, parseRetryAfterHeader } from './http'
import { safeJsonParse } from './json'

export { MAX_RETRY_AFTER_MS, parseRetryAfterHeader }

/** What most likely made a WebSocket handshake fail, as told by probing the same URL over HTTP. */
export type DiagnosisKind =
  | 'offline'
  | 'unreachable'
  | 'unauthorized'
  | 'origin-refused'
  | 'wrong-path'
  | 'upgrade-stripped'
  | 'rate-limited'
  | 'server-error'
  | 'unknown'

/** The outcome of {@link diagnoseHandshake}. Plain data: safe to keep in a snapshot and to show (as text). */
export interface Diagnosis {
  /** What most likely went wrong. */
  readonly kind: DiagnosisKind
  /** HTTP status the probe got; `null` when none could be read (offline, unreachable, hidden by CORS). */
  readonly status: number | null
  /** How long the server asks to wait (`Retry-After`, or `retryAfterMs` in its JSON), clamped to [0, 5 min]. */
  readonly retryAfterMs: number | null
  /** The server's short reason (`{"error": "..."}`), as plain text: control characters stripped, ≤ 200 characters. */
  readonly reason: string | null
  /** One sentence a developer can act on ('' in production builds; word it for users from `kind`). */
  readonly hint: string
}

/** What {@link diagnoseHandshake} takes from its platform. */
export interface DiagnoseEnvironment {
  /**
   * The `fetch` to probe with.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch | undefined
  /** Whether the platform reports a network (`navigator.onLine`); `false` answers `offline` without a request. */
  online: boolean
  /**
   * Gives up after this long (the whole probe, body included) and answers `unreachable`.
   * @default 5000
   */
  timeoutMs?: number
  /**
   * Wall clock in epoch ms, to turn a `Retry-After` HTTP date into a delay.
   * @default Date.now
   */
  now?: () => number
  /**
   * Timers for the deadline.
   * @default globalThis.setTimeout / clearTimeout
   */
  timers?: Timers
}

/** Bytes of the probe's body read at most; the rest is never downloaded. */
const MAX_BODY_BYTES = 4096
const MAX_REASON_CHARS = 200
const DEFAULT_TIMEOUT_MS = 5000

// Control characters, format characters (bidi overrides, zero-width), lone surrogates, line/paragraph separators.
const unsafeText = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu

/** A server-provided string as short plain text, or `null` when nothing readable is left. */
export function sanitizeReason(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const clean = value.replace(unsafeText, ' ').replace(/\s+/g, ' ').trim()
  // By code point, so a surrogate pair is never cut in half.
  const short = Array.from(clean).slice(0, MAX_REASON_CHARS).join('')
  return short === '' ? null : short
}

/**
 * The HTTP URL to probe for a WebSocket URL: `ws:` → `http:`, `wss:` → `https:` (never a downgrade), without
 * credentials, query or fragment (they may hold a token or a one-time ticket, and the server routes by path alone).
 * `null` for anything else.
 */
export function probeUrlFor(url: string): string | null {
  const parsed = httpUrl(url)
  return parsed && `${parsed.protocol}//${parsed.host}${parsed.pathname}`
}

// Inline so bundlers drop the table from production builds, as errors.ts does: hints are for developers (the
// components word a diagnosis for users from `kind`), and they are most of this module's weight. `{}` is filled in.
const hints =
  process.env.NODE_ENV !== 'production'
    ? {
        offline: 'The device is offline; the client reconnects when the network comes back.',
        unreachable:
          'Nothing answered at this host and port (DNS, refused connection, TLS or firewall): check the URL and ' +
          'that the server is running and reachable from this network.',
        timeout: 'Nothing answered within {} ms: check the URL, firewalls, and that the server is not overloaded.',
        hidden:
          "The server answered but withheld its answer from this page (CORS): most likely this page's origin is " +
          "not in the server's allowedOrigins; if it is, check the path, and that the probe answer carries " +
          'Access-Control-Allow-Origin and Access-Control-Allow-Credentials.',
        redirect:
          'The URL redirects (a captive portal, or an http→https or trailing-slash redirect) and WebSocket ' +
          'handshakes do not follow redirects: connect to the final URL, or sign in to the network.',
        unauthorized:
          'The server refused the credentials the upgrade carries (cookies or headers checked by ' +
          'authenticateUpgrade): sign in again; retrying as is will not help.',
        forbidden: 'The server forbids this client (403): check the credentials and permissions the upgrade carries.',
        origin:
          "The server refuses this page's origin: add it (scheme, host and port, exactly) to the server's " +
          'allowedOrigins.',
        wrongPath: "Nothing is served at this path (404): check the URL's path against the server's path option.",
        stripped:
          'The server is reachable at this path and accepts this client, but the WebSocket upgrade never reached ' +
          'it: a proxy, load balancer or CDN in between does not forward the Upgrade and Connection headers (nginx ' +
          'needs proxy_http_version 1.1 and proxy_set_header for both); the long-poll fallback works through it.',
        badRequest:
          'A plain GET of the upgrade path got 400: a proxy in between most likely drops the WebSocket Upgrade ' +
          'header, or the server rejects requests that are not upgrades.',
        rateLimited:
          'The server is rate-limiting this client: wait retryAfterMs (or back off) before the next attempt.',
        unavailable:
          'The server is unavailable (overloaded, restarting or shutting down): wait retryAfterMs (or back off) ' +
          'before the next attempt.',
        serverError: 'The server failed with {}: check its logs; the client keeps retrying with backoff.',
        hookThrew: 'The server failed with {}: its authenticateUpgrade hook threw; check the server logs.',
        portal:
          'A web page answered instead of the WebSocket server (a captive portal or a login wall): sign in to the ' +
          'network, or check that the URL points at the WebSocket endpoint.',
        notAnEndpoint:
          'The URL answered a plain GET with success, which a WebSocket endpoint does not do: check that the URL ' +
          'points at the WebSocket server.',
        unexpected: 'The probe got an unexpected {}: check the URL and what answers it.',
        invalidUrl: 'Not a ws:// or wss:// URL, so it could not be probed.',
        noFetch: 'There is no fetch() on this platform: pass env.fetch to diagnose failed handshakes.',
        failed:
          'The probe itself failed (a fetch that answered something other than a Response?); see the original ' +
          'error.',
      }
    : null

type HintKey = keyof NonNullable<typeof hints>

/** What the probe learnt besides the kind; `value` fills the hint's `{}` (default: the status). */
interface Findings {
  status?: number | null
  reason?: string | null
  retryAfterMs?: number | null
  value?: number
}

/** A diagnosis with the hint named `hint` ('' in production builds). */
function diagnosis(kind: DiagnosisKind, hint: HintKey, findings: Findings = {}): Diagnosis {
  const { status = null, reason = null, retryAfterMs = null, value = status } = findings
  return { kind, status, retryAfterMs, reason, hint: hints?.[hint].replace('{}', String(value)) ?? '' }
}

/** A JSON body's reason and `retryAfterMs`; nothing from anything that is not a JSON object. */
function readJsonBody(text: string): { reason: string | null; retryAfterMs: number | null } {
  let parsed: unknown
  try {
    parsed = text.trimStart().startsWith('{') ? safeJsonParse(text) : null
  } catch {
    // Truncated (we read 4 KB at most) or not JSON: the status alone classifies.
    parsed = null
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { reason: null, retryAfterMs: null }
  const body = parsed as { error?: unknown; reason?: unknown; message?: unknown; retryAfterMs?: unknown }
  const reason = sanitizeReason(body.error) ?? sanitizeReason(body.reason) ?? sanitizeReason(body.message)
  const wait = body.retryAfterMs
  const retryAfterMs =
    typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 ? Math.min(wait, MAX_RETRY_AFTER_MS) : null
  return { reason, retryAfterMs }
}

/** Classifies a probe response from its status, headers and the first bytes of its body. */
function classify(response: Response, body: string, now: number): Diagnosis {
  const { status } = response
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || !Number.isInteger(status) || status < 100) {
    return response.type === 'opaqueredirect' ? diagnosis('unknown', 'redirect') : diagnosis('origin-refused', 'hidden')
  }
  const { reason, retryAfterMs } = readJsonBody(body)
  const header = (name: string): string | null => {
    try {
      return response.headers.get(name)
    } catch {
      return null
    }
  }
  const seen = { status, reason }
  if (status === 401) return diagnosis('unauthorized', 'unauthorized', seen)
  if (status === 403) {
    // The reference server's refusals say 'origin not allowed' or 'origin required' (originRefusal).
    const origin = reason !== null && /\borigin\b/i.test(reason)
    return diagnosis(origin ? 'origin-refused' : 'unauthorized', origin ? 'origin' : 'forbidden', seen)
  }
  if (status === 404) return diagnosis('wrong-path', 'wrongPath', seen)
  if (status === 426) return diagnosis('upgrade-stripped', 'stripped', seen)
  if (status === 400) return diagnosis('upgrade-stripped', 'badRequest', seen)
  if (status === 429 || status === 503) {
    const wait = parseRetryAfterHeader(header('retry-after'), now) ?? retryAfterMs
    return diagnosis('rate-limited', status === 429 ? 'rateLimited' : 'unavailable', { ...seen, retryAfterMs: wait })
  }
  if (status >= 500 && status <= 599) {
    return diagnosis('server-error', reason === 'authentication failed' ? 'hookThrew' : 'serverError', seen)
  }
  if (status >= 300 && status <= 399) return diagnosis('unknown', 'redirect', { status })
  if (status >= 200 && status <= 299) {
    const html = /html/i.test(header('content-type') ?? '') || body.trimStart().startsWith('<')
    return diagnosis('unknown', html ? 'portal' : 'notAnEndpoint', html ? { status } : seen)
  }
  return diagnosis('unknown', 'unexpected', seen)
}

/** The first `limit` bytes of a body as text; stops downloading there. Never throws (a cut body reads as cut). */
async function readBodyStart(response: Response, limit: number): Promise<string> {
  const stream = (response as { body?: ReadableStream<Uint8Array> | null }).body
  if (stream && typeof stream.getReader === 'function') {
    const reader = stream.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    try {
      while (size < limit) {
        const { done, value } = await reader.read()
        if (done) break
        chunks.push(value)
        size += value.byteLength
      }
    } catch {
      // The connection died mid-body or the deadline aborted it: classify with what arrived.
    } finally {
      reader.cancel().catch(() => undefined)
    }
    const bytes = new Uint8Array(Math.min(size, limit))
    let offset = 0
    for (const chunk of chunks) {
      if (offset >= bytes.length) break
      bytes.set(chunk.subarray(0, bytes.length - offset), offset)
      offset += chunk.byteLength
    }
    return new TextDecoder().decode(bytes)
  }
  // A fake or minimal fetch without a body stream: it has the text in memory already.
  try {
    return typeof response.text === 'function' ? (await response.text()).slice(0, limit) : ''
  } catch {
    return ''
  }
}

/**
 * Probes the URL of a WebSocket whose handshake failed before `open`, over plain HTTP, and says why it most likely
 * failed. Browsers hide the status of a refused upgrade; the reference server answers a plain GET of its path the way
 * it would refuse the upgrade (403 origin, 401 auth, else 426 "upgrade required"), and 404 elsewhere (protocol §2).
 *
 * - `offline` when `env.online` is false (no request); `unreachable` on a network error or after `timeoutMs`.
 * - 401 `unauthorized`; 403 `origin-refused` when the reason mentions the origin, else `unauthorized`; 404
 *   `wrong-path`; 400 and 426 `upgrade-stripped` (the server would accept this client, so the upgrade was lost on the
 *   way); 429 and 503 `rate-limited` with `Retry-After`; other 5xx `server-error`; anything else (an HTML 200 from a
 *   captive portal, a redirect) `unknown`, with a hint.
 * - The probe is a `GET` with `cache: 'no-store'`, `credentials: 'include'` (the cookies the upgrade would carry) and
 *   `redirect: 'manual'` (a handshake does not follow redirects either). It never carries the token, the URL's
 *   query or credentials. Only the first 4 KB of the body are read, parsed with {@link safeJsonParse}.
 * - Cross-origin in a browser the answer is readable only with `Access-Control-Allow-Origin` and
 *   `Access-Control-Allow-Credentials`, which the server gives allowed origins only. A refused origin therefore fails
 *   like a network error; a second, `no-cors` request then tells the two apart: an opaque answer means something
 *   answered but hid it from this origin, reported as `origin-refused` with `status: null` (a 404 without CORS
 *   headers looks the same; the hint says so). An `unreachable` stays `unreachable`.
 *
 * Never throws: always resolves a {@link Diagnosis}.
 */
export async function diagnoseHandshake(url: string, env: DiagnoseEnvironment): Promise<Diagnosis> {
  try {
    if (!env.online) return diagnosis('offline', 'offline')
    const target = probeUrlFor(url)
    if (target === null) return diagnosis('unknown', 'invalidUrl')
    const fetchImpl = env.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch
    if (typeof fetchImpl !== 'function') return diagnosis('unknown', 'noFetch')
    const { timeoutMs: given } = env
    const timeoutMs = typeof given === 'number' && given > 0 && Number.isFinite(given) ? given : DEFAULT_TIMEOUT_MS
    const now = env.now ?? Date.now
    const timers = env.timers ?? {
      setTimeout: (callback: () => void, ms: number): unknown => setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    const controller = new AbortController()
    let answered: Response | null = null

    const probe = async (): Promise<Diagnosis> => {
      const init = { method: 'GET', cache: 'no-store', credentials: 'include', signal: controller.signal } as const
      try {
        answered = await fetchImpl(target, { ...init, redirect: 'manual', headers: { Accept: 'application/json' } })
      } catch {
        if (controller.signal.aborted) return timedOut()
        try {
          // A CORS refusal and a network error are the same TypeError; a no-cors request resolves for the former.
          answered = await fetchImpl(target, { ...init, mode: 'no-cors' })
        } catch {
          return controller.signal.aborted ? timedOut() : diagnosis('unreachable', 'unreachable')
        }
      }
      const response: Response = answered
      const body = response.type === 'opaque' ? '' : await readBodyStart(response, MAX_BODY_BYTES)
      return classify(response, body, now())
    }
    const timedOut = (): Diagnosis => diagnosis('unreachable', 'timeout', { value: timeoutMs })
    const failed = (): Diagnosis => diagnosis('unknown', 'failed')
    let timer: unknown
    const deadline = new Promise<Diagnosis>((resolve) => {
      timer = timers.setTimeout(() => {
        controller.abort()
        try {
          // A status already in hand still classifies; only its body was too slow.
          resolve(answered === null ? timedOut() : classify(answered, '', now()))
        } catch {
          resolve(failed())
        }
      }, timeoutMs)
    })
    try {
      return await Promise.race([probe().catch(failed), deadline])
    } finally {
      timers.clearTimeout(timer)
    }
  } catch {
    return diagnosis('unknown', 'failed')
  }
}

/** A WebSocket handshake failed before `open`; `diagnosis` says why, as probed over HTTP. */
export class HandshakeError extends LifelineError {
  /** What the probe found. */
  declare readonly diagnosis: Diagnosis

  constructor(diagnosis: Diagnosis, cause?: unknown) {
    const status = diagnosis.status === null ? '' : ` ${String(diagnosis.status)}`
    const reason = diagnosis.reason === null ? '' : `: ${diagnosis.reason}`
    super('HANDSHAKE_FAILED', `handshake failed: ${diagnosis.kind}${status}${reason}`, cause)
    this.name = 'HandshakeError'
    this.diagnosis = diagnosis
  }

  /** The diagnosis' hint ('' in production builds, like every hint). */
  override get hint(): string {
    return this.diagnosis.hint
  }
}

/** Wraps a {@link Diagnosis} in an error with the stable code `HANDSHAKE_FAILED`, for `lastError`. */
export function diagnosisError(diagnosis: Diagnosis, cause?: unknown): HandshakeError {
  return new HandshakeError(diagnosis, cause)
}
