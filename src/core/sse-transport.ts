import type { Environment, PageLocation } from './environment'
import { InvalidOptionsError, lifelineError } from './errors'
import { parseRetryAfterHeader } from './http'
import { safeJsonParse } from './json'
import { createSseParser, type SseEvent } from './sse-parser'
import type { LifelineOptions } from './option-schema'
import type { Transport, TransportHandlers } from './transport'
import { resolveUrl } from './validate'

/** Options of {@link eventSource}. */
export interface EventSourceOptions {
  /** Send cookies to another origin, like `EventSource`'s `withCredentials` (`fetch` credentials `include`). @default false */
  withCredentials?: boolean | undefined
  /**
   * Longest silence on an open stream (no byte at all, keep-alive comments included) before it is declared dead and
   * replaced (`HEARTBEAT_TIMEOUT`, close 1006): how a half-open stream is found, since an event stream cannot ping.
   * Keep it above the server's keep-alive interval (the reference server: 15 s). `null`: never.
   * @default 45000
   */
  idleTimeoutMs?: number | null | undefined
  /**
   * Largest event, in characters (its data plus the line being read): a larger one ends the stream with 1009
   * (`MESSAGE_TOO_LARGE` in `lastError`) instead of growing memory without bound.
   * @default 1048576
   */
  maxEventChars?: number | undefined
  /**
   * Which event types become messages (`lastMessage`, `onMessage`): `'all'`, or a list (`message` is the type of
   * events without an `event:` field). `lifeline:*` events are the reference server's control events and never are.
   * @default 'all'
   */
  events?: 'all' | readonly string[] | undefined
  /** Where to resume the first request from (e.g. an id you stored): sent as `Last-Event-ID`. @default '' (from now) */
  lastEventId?: string | undefined
}

/** What a client gives a {@link TransportPlugin} when it attaches it. */
export interface TransportHost {
  env: Environment
  /** The client's options, to refuse those that do not apply. */
  options: LifelineOptions
  /** The token from `getToken()`, if any (sent in a header, never in the URL). */
  token(): string | null
}

/** A client's own transport, in place of WebSocket. Attached once per client. */
export interface AttachedTransport {
  /** Resolves the URL (`url` option, or what a URL function gave); throws `InvalidUrlError`/`InsecureTransportError`. */
  resolve(input: unknown, page: PageLocation | undefined): string
  /** Opens one attempt at `url`. */
  create(url: string, handlers: TransportHandlers): Transport
  /** The resume point: the id of the last event received (sent as `Last-Event-ID` by the next attempt). */
  lastEventId(): string
}

/**
 * A transport that replaces WebSocket for a client (`transport` option): today {@link eventSource}. It is receive-only:
 * `send` throws `NOT_SUPPORTED`, and the heartbeat, `fallback` and `protocol` options do not apply.
 */
export interface TransportPlugin {
  readonly kind: 'sse'
  /** The settings, as data: the hooks compare two plugins by them (a new `eventSource({…})` each render is the same). */
  readonly settings: Readonly<EventSourceOptions>
  attach(host: TransportHost): AttachedTransport
}

const DEFAULT_IDLE_MS = 45_000
const DEFAULT_MAX_EVENT_CHARS = 1 << 20
/** The clamp of a `Retry-After` on 429/503, ms. */
const RETRY_AFTER_RANGE: readonly [number, number] = [1000, 300_000]

/**
 * Server-Sent Events over `fetch` (not `EventSource`), so that the client's own state machine decides every retry
 * (backoff with jitter, offline, visibility, `maxAttempts`), the HTTP status of a refusal is seen (`EventSource` hides
 * it and retries a 500 forever at its own pace), the token travels in an `Authorization` header rather than the URL,
 * and `Last-Event-ID` is sent on every reconnect, from the id of the last event received. Any `text/event-stream`
 * endpoint works; the reference server's `<path>/events?ch=…` (docs/protocol.md §9) adds resume of a channel and
 * control events (`lifeline:close` carries the close code of a server that shuts down).
 *
 * @example const client = createLifeline({ url: 'https://example.com/live/events?ch=news', transport: eventSource() })
 */
export function eventSource(options: EventSourceOptions = {}): TransportPlugin {
  const idleMs = options.idleTimeoutMs === undefined ? DEFAULT_IDLE_MS : options.idleTimeoutMs
  const maxChars = options.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS
  const wanted = options.events === undefined || options.events === 'all' ? null : new Set(options.events)
  return {
    kind: 'sse',
    settings: { ...options },
    attach(host) {
      const clashes = (['protocol', 'fallback', 'heartbeat'] as const).filter((field) => host.options[field])
      const problem = 'does not apply to an event stream (transport: eventSource())'
      if (clashes.length) throw new InvalidOptionsError(clashes.map((field) => ({ field, problem })))
      let resumeFrom = options.lastEventId ?? ''
      return {
        // http(s), or ws(s) mapped to it; http: from an https page refused as mixed content (as ws: is).
        resolve: (input, page) => resolveUrl(input, page).replace(/^ws/, 'http'),
        lastEventId: () => resumeFrom,
        create(url, handlers) {
          const fetchFn = host.env.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch
          if (!fetchFn) throw lifelineError('TRANSPORT_ERROR', 'no fetch')
          return openStream({
            url,
            fetch: fetchFn,
            host,
            handlers,
            idleMs,
            maxChars,
            lastEventId: resumeFrom,
            credentials: options.withCredentials ? 'include' : 'same-origin',
            deliver: (event) => wanted === null || wanted.has(event.type),
            resumed: (id) => {
              resumeFrom = id
            },
          })
        },
      }
    },
  }
}

interface StreamConfig {
  url: string
  fetch: typeof fetch
  host: TransportHost
  handlers: TransportHandlers
  idleMs: number | null
  maxChars: number
  lastEventId: string
  credentials: 'include' | 'same-origin'
  deliver(event: SseEvent): boolean
  /** A new resume point. */
  resumed(id: string): void
}

/** What an HTTP answer that is not a stream means: a close code the table acts on, or a final refusal. */
function refusal(status: number, retryAfter: string | null, now: number): { code: number; reason: string } | null {
  if (status === 401) return { code: 4001, reason: 'HTTP 401' }
  if (status === 429 || status === 503) {
    const ms = parseRetryAfterHeader(retryAfter, now, RETRY_AFTER_RANGE)
    return { code: 4002, reason: ms === null ? `HTTP ${status}` : JSON.stringify({ retryAfterMs: ms }) }
  }
  if (status >= 500) return { code: 1011, reason: `HTTP ${status}` }
  if (status === 408) return { code: 1006, reason: 'HTTP 408' }
  // 204 (the standard's "do not reconnect"), 403, 404, 400, …: retrying cannot help.
  return null
}

/** A control event's JSON, or `null` when it is not JSON (then its defaults apply; the stream goes on). */
function parse(text: string): unknown {
  try {
    return safeJsonParse(text)
  } catch {
    return null
  }
}

function openStream(config: StreamConfig): Transport {
  const { handlers, host } = config
  const { timers, clock } = host.env
  const controller = new AbortController()
  let live = true
  let idleTimer: unknown = null
  let resumedFrom = config.lastEventId
  let subscribedBefore = false

  const stopTimer = () => {
    if (idleTimer !== null) timers.clearTimeout(idleTimer)
    idleTimer = null
  }
  /** Ends the stream once, reporting `close` (unless dropped). */
  const finish = (code: number, reason: string, wasClean: boolean) => {
    if (!live) return
    live = false
    stopTimer()
    controller.abort()
    handlers.close(code, reason, wasClean)
  }
  const heard = () => {
    if (config.idleMs === null || !live) return
    stopTimer()
    idleTimer = timers.setTimeout(() => {
      handlers.error(lifelineError('HEARTBEAT_TIMEOUT', `no data for ${String(config.idleMs)} ms`))
      finish(1006, '', false)
    }, config.idleMs)
  }

  const parser = createSseParser(
    {
      event(event) {
        if (!live) return
        if (event.lastEventId !== resumedFrom) {
          resumedFrom = event.lastEventId
          config.resumed(event.lastEventId)
        }
        if (event.type === 'lifeline:close') {
          const close = parse(event.data) as { code?: unknown; reason?: unknown } | null
          const code = close && Number.isInteger(close.code) ? (close.code as number) : 1006
          const valid = code >= 1000 && code <= 4999
          return finish(valid ? code : 1006, typeof close?.reason === 'string' ? close.reason : '', valid)
        }
        if (event.type === 'lifeline:subscribed') {
          const subscribed = parse(event.data) as { resumed?: unknown } | null
          // A first subscription without a resume point is not a gap: nothing was asked for.
          if (config.lastEventId || subscribedBefore) handlers.resumed?.(subscribed?.resumed === true)
          subscribedBefore = true
          return
        }
        if (event.type.startsWith('lifeline:')) return
        if (config.deliver(event)) handlers.message(event.data, event)
      },
      overflow() {
        handlers.error(lifelineError('MESSAGE_TOO_LARGE', `an event passed ${String(config.maxChars)} characters`))
        finish(1009, '', false)
      },
    },
    config.maxChars,
    config.lastEventId,
  )

  const headers: Record<string, string> = { accept: 'text/event-stream' }
  const token = host.token()
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (config.lastEventId) headers['last-event-id'] = config.lastEventId

  async function run(): Promise<void> {
    // Called unbound: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    const fetchFn = config.fetch
    const response = await fetchFn(config.url, {
      method: 'GET',
      headers,
      credentials: config.credentials,
      cache: 'no-store',
      signal: controller.signal,
    })
    if (!live) return
    const type = response.headers.get('content-type') ?? ''
    if (response.status !== 200 || !/^text\/event-stream\b/i.test(type) || !response.body) {
      void response.body?.cancel().catch(() => undefined)
      if (response.status === 200) {
        // A captive portal or a proxy's page: the network may come back to the real server.
        handlers.error(lifelineError('PROTOCOL_ERROR', `not an event stream (${type || 'no content type'})`))
        return finish(1006, '', false)
      }
      const close = refusal(response.status, response.headers.get('retry-after'), clock.now())
      if (close) return finish(close.code, close.reason, true)
      const error = lifelineError('HANDSHAKE_FAILED', `HTTP ${String(response.status)}`)
      if (!handlers.fail) return finish(1008, error.message, true)
      live = false
      return handlers.fail(error)
    }
    handlers.open()
    heard()
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    for (;;) {
      const { done, value } = await reader.read()
      if (!live) return
      if (done) {
        parser.feed(decoder.decode())
        return finish(1000, 'stream ended', true)
      }
      heard()
      parser.feed(decoder.decode(value, { stream: true }))
    }
  }

  run().catch((error: unknown) => {
    if (!live) return
    handlers.error(lifelineError('TRANSPORT_ERROR', 'event stream failed', error))
    finish(1006, '', false)
  })

  return {
    kind: 'sse',
    send: () => undefined,
    close(code, reason) {
      // Nothing to hand-shake: the stream is cut, and the close is reported as soon as the caller is done.
      void Promise.resolve().then(() => finish(code, reason, true))
    },
    drop() {
      live = false
      stopTimer()
      controller.abort()
    },
    buffered: () => 0,
  }
}
