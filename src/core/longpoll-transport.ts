import { parseRetryAfter } from './close-codes'
import { parseRetryAfterHeader } from './http'
import { LifelineError } from './errors'
import { safeJsonParse } from './json'
import {
  batchElement,
  closeOf,
  isObject,
  LongPollError,
  longPollUrl,
  LONG_POLL_CONNECTION_HEADER,
  LONG_POLL_CURSOR_HEADER,
  utf8Bytes,
  type Batch,
  type FetchInitLike,
  type Element,
  type LongPollTransportConfig,
  type Outcome,
} from './longpoll-wire'
import type { Transport, TransportHandlers } from './transport'

export {
  LongPollError,
  longPollUrl,
  LONG_POLL_CONNECTION_HEADER,
  LONG_POLL_CURSOR_HEADER,
  type FetchInitLike,
  type FetchLike,
  type FetchResponseLike,
  type LongPollTransportConfig,
} from './longpoll-wire'

/**
 * Opens a lifeline connection over HTTP long-poll (docs/protocol.md §8) behind the {@link Transport} interface: a
 * `POST` opens it (reported as `open`), frames written in the same tick leave in one `POST` (one in flight at a time,
 * in order), and a `GET` loop with a cursor brings the server's frames, so a lost poll response is fetched again
 * without a duplicate or a gap. Faults end in `close` with the code the client's table acts on:
 * - network error, timeout, 410 (connection expired), an unreadable 200 (captive portal): 1006 (+ `error`);
 * - 413 for one frame: 1009 (a bigger batch is split and resent first);
 * - 429 / 503: 4002 with reason `{"retryAfterMs":N}` from `Retry-After`, clamped;
 * - 401: 4001; 403: 1008; 400: 1007 for a `POST`, 1002 for a `GET`; other 5xx: 1011; anything else: 1006 (+ `error`);
 * - a close the server sent in a response: its own code and reason.
 */
export function createLongPollTransport(config: LongPollTransportConfig, handlers: TransportHandlers): Transport {
  const url = longPollUrl(config.url)
  const now = config.now ?? (() => Date.now())
  const pollTimeoutMs = config.pollTimeoutMs ?? 35_000
  const requestTimeoutMs = config.requestTimeoutMs ?? 10_000
  const maxPollRetries = config.maxPollRetries ?? 2
  const retryAfterRange = config.retryAfterRangeMs ?? [1000, 300_000]
  const credentials = config.credentials ?? 'include'
  let maxBatchBytes = config.maxBatchBytes ?? 65_536
  // Called unbound: a browser's fetch throws "Illegal invocation" when called as a method of another object.
  const fetchFn = config.fetch

  /** Events may still be reported. */
  let live = true
  let connection: string | null = null
  /** The server already forgot the connection (it sent a close, or answered 410): no `DELETE`. */
  let serverGone = false
  let cursor = 0
  const pending: Element[] = []
  let pendingBytes = 0
  let ending = false
  let inFlight: Batch | null = null
  let flushQueued = false
  let closing: { code: number; reason: string } | null = null
  const controllers = new Set<AbortController>()

  /** One request; never rejects. `dropped` once the transport is dead. */
  async function exchange(
    method: FetchInitLike['method'],
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<Outcome> {
    const controller = new AbortController()
    controllers.add(controller)
    let timedOut = false
    const timer = config.timers.setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    try {
      const init: FetchInitLike = { method, headers, signal: controller.signal, credentials, cache: 'no-store' }
      if (body !== undefined) init.body = body
      const response = await fetchFn(url, init)
      const text = await response.text()
      return { kind: 'response', status: response.status, headers: response.headers, text }
    } catch (error) {
      if (!live) return { kind: 'dropped' }
      return timedOut ? { kind: 'timeout' } : { kind: 'network', error }
    } finally {
      config.timers.clearTimeout(timer)
      controllers.delete(controller)
    }
  }

  function withConnection(extra: Record<string, string> = {}): Record<string, string> {
    return { [LONG_POLL_CONNECTION_HEADER]: connection ?? '', ...extra }
  }

  /** Reports the end once; a best-effort `DELETE` tells a server that still holds the connection. */
  function finish(code: number, reason: string, wasClean: boolean): void {
    if (!live) return
    live = false
    abortAll()
    release()
    handlers.close(code, reason, wasClean)
  }

  function fail(code: number, reason: string, error?: LifelineError): void {
    if (!live) return
    if (error) handlers.error(error)
    finish(code, reason, false)
  }

  function abortAll(): void {
    for (const controller of controllers) controller.abort()
    controllers.clear()
  }

  function release(): void {
    if (connection === null || serverGone) return
    serverGone = true
    const init: FetchInitLike = {
      method: 'DELETE',
      headers: withConnection(),
      signal: new AbortController().signal,
      credentials,
      cache: 'no-store',
      keepalive: true,
    }
    try {
      fetchFn(url, init).then(
        () => undefined,
        () => undefined,
      )
    } catch (_error) {
      // Best effort: the server expires the connection anyway.
    }
  }

  /** Ends the transport for a response that is not a success. */
  function failFor(outcome: Outcome, method: 'POST' | 'GET'): void {
    if (outcome.kind === 'dropped') return
    if (outcome.kind === 'timeout')
      return fail(1006, `long-poll ${method} timed out`, new LongPollError(null, 'timeout'))
    if (outcome.kind === 'network') {
      return fail(1006, 'long-poll network error', new LongPollError(null, 'network error', outcome.error))
    }
    const { status } = outcome
    if (status === 410) {
      // The server forgot this connection (idle expiry, restart, another instance): start over; hello resumes.
      serverGone = true
      return fail(1006, 'long-poll connection expired (410)')
    }
    if (status === 429 || status === 503) {
      // Our server closed the connection with 4002 already (its reason has the wait to the ms); a proxy's 429 or 503
      // leaves the connection to the best-effort DELETE and the wait to Retry-After.
      const close = closeOf(readBody(outcome))
      if (close) serverGone = true
      const exact = close ? parseRetryAfter(close.reason) : null
      const retryAfterMs =
        exact === null
          ? parseRetryAfterHeader(outcome.headers.get('retry-after'), now(), retryAfterRange)
          : Math.min(retryAfterRange[1], Math.max(retryAfterRange[0], exact))
      return fail(4002, retryAfterMs === null ? '' : JSON.stringify({ retryAfterMs }))
    }
    if (status === 401) return fail(4001, 'unauthorized (401)')
    if (status === 403) return fail(1008, 'forbidden (403)')
    if (status === 400) return fail(method === 'POST' ? 1007 : 1002, 'request refused (400)')
    if (status === 413) return fail(1009, 'message too big (413)')
    const error = new LongPollError(status, `HTTP ${String(status)}`)
    if (status >= 500) return fail(1011, `server error (${String(status)})`, error)
    fail(1006, `unexpected HTTP ${String(status)}`, error)
  }

  /** The JSON object of a 2xx/4xx body, or null for anything else (an HTML page from a captive portal, garbage). */
  function readBody(outcome: Extract<Outcome, { kind: 'response' }>): Record<string, unknown> | null {
    const type = outcome.headers.get('content-type') ?? ''
    if (!/\bjson\b/i.test(type)) return null
    try {
      const value = safeJsonParse(outcome.text)
      return isObject(value) ? value : null
    } catch {
      return null
    }
  }

  function unreadable(): void {
    fail(1006, 'long-poll response unreadable', new LongPollError(200, 'not a lifeline response (captive portal?)'))
  }

  async function start(): Promise<void> {
    const outcome = await exchange('POST', { 'Content-Type': 'application/json' }, '[]', requestTimeoutMs)
    if (!live) return
    if (outcome.kind !== 'response' || outcome.status !== 200) return failFor(outcome, 'POST')
    const body = readBody(outcome)
    const id = body?.connection
    if (typeof id !== 'string' || !/^[\w-]{1,128}$/.test(id)) return unreadable()
    connection = id
    const close = closeOf(body)
    if (close) {
      serverGone = true
      return finish(close.code, close.reason, true)
    }
    handlers.open()
    if (!live) return
    void poll()
    schedule()
  }

  async function poll(): Promise<void> {
    let misses = 0
    while (live) {
      const outcome = await exchange(
        'GET',
        withConnection({ [LONG_POLL_CURSOR_HEADER]: String(cursor) }),
        undefined,
        pollTimeoutMs,
      )
      if (!live) return
      if (outcome.kind === 'timeout' || outcome.kind === 'network') {
        // A hung poll, or a response lost on the way: ask again with the same cursor; the server sends it again.
        misses += 1
        if (misses <= maxPollRetries) continue
        return failFor(outcome, 'GET')
      }
      if (outcome.kind !== 'response' || outcome.status !== 200) return failFor(outcome, 'GET')
      misses = 0
      const body = readBody(outcome)
      const frames = body?.frames
      const next = body?.cursor
      if (!body || !Array.isArray(frames) || typeof next !== 'number' || !Number.isSafeInteger(next))
        return unreadable()
      if (next - frames.length !== cursor || !frames.every((frame) => typeof frame === 'string')) {
        return fail(1002, 'long-poll cursor mismatch', new LongPollError(200, 'cursor mismatch'))
      }
      cursor = next
      for (const frame of frames as string[]) {
        handlers.message(frame)
        if (!live) return
      }
      const close = closeOf(body)
      if (close) {
        serverGone = true
        return finish(close.code, close.reason, true)
      }
    }
  }

  /** Sends what was written in this tick as one batch, after the `POST` in flight. */
  function schedule(): void {
    if (flushQueued || inFlight || connection === null || !live) return
    flushQueued = true
    void Promise.resolve().then(() => {
      flushQueued = false
      void post()
    })
  }

  /** The oldest pending frames that fit in `maxBatchBytes` (at least one). */
  function takeBatch(): Batch {
    const elements: Element[] = []
    let bytes = 1
    for (const element of pending) {
      if (elements.length > 0 && bytes + 1 + element.bytes > maxBatchBytes) break
      elements.push(element)
      bytes += 1 + element.bytes
      pendingBytes -= element.bytes
    }
    pending.splice(0, elements.length)
    return { elements, bytes }
  }

  async function post(): Promise<void> {
    if (!live || inFlight || connection === null) return
    if (pending.length === 0) {
      if (closing && !ending) void end(closing)
      return
    }
    const batch = takeBatch()
    inFlight = batch
    const outcome = await exchange(
      'POST',
      withConnection({ 'Content-Type': 'application/json' }),
      `[${batch.elements.map((element) => element.text).join(',')}]`,
      requestTimeoutMs,
    )
    if (!live) return
    if (outcome.kind === 'response' && outcome.status === 413 && batch.elements.length > 1) {
      // Nothing of a refused body was applied: split it and send the halves in order.
      maxBatchBytes = Math.max(1, Math.floor(batch.bytes / 2))
      pending.unshift(...batch.elements)
      for (const element of batch.elements) pendingBytes += element.bytes
      inFlight = null
      return post()
    }
    if (outcome.kind !== 'response' || (outcome.status !== 200 && outcome.status !== 204))
      return failFor(outcome, 'POST')
    const body = readBody(outcome)
    if (!body) return unreadable()
    inFlight = null
    const close = closeOf(body)
    if (close) {
      serverGone = true
      return finish(close.code, close.reason, true)
    }
    return post()
  }

  /** Our close: frames written before it are sent first, then `DELETE`; `close` is clean if the server answered. */
  async function end(close: { code: number; reason: string }): Promise<void> {
    ending = true
    const outcome = await exchange('DELETE', withConnection(), undefined, requestTimeoutMs)
    if (!live) return
    serverGone = true
    const answered = outcome.kind === 'response' && (outcome.status === 204 || outcome.status === 410)
    finish(close.code, close.reason, answered)
  }

  void start()

  return {
    kind: 'longpoll',
    send(data) {
      if (!live || closing) return
      if (typeof data !== 'string') {
        handlers.error(new LongPollError(null, 'binary frames cannot be sent over long-poll'))
        return
      }
      const text = batchElement(data)
      const bytes = utf8Bytes(text)
      pending.push({ text, bytes })
      pendingBytes += bytes
      schedule()
    },
    close(code, reason) {
      if (!live || closing) return
      closing = { code, reason }
      if (connection === null) return finish(code, reason, false)
      if (!inFlight && !flushQueued) void post()
    },
    drop() {
      if (!live) return
      live = false
      abortAll()
      release()
    },
    buffered: () => pendingBytes + (inFlight ? inFlight.bytes : 0),
  }
}
