import { afterEach, describe, expect, it, vi } from 'vitest'
import { LifelineError } from '../../src/core/errors'
import {
  diagnoseHandshake,
  diagnosisError,
  HandshakeError,
  MAX_RETRY_AFTER_MS,
  parseRetryAfterHeader,
  probeUrlFor,
  sanitizeReason,
} from '../../src/core/diagnose'
import type { Diagnosis, DiagnosisKind } from '../../src/core/diagnose'

const URL_ = 'wss://api.example.test/lifeline'
const NOW = Date.parse('2030-01-01T00:00:00Z')

interface Call {
  readonly url: string
  readonly init: RequestInit
}

/** A fetch that records its calls and answers with `answer` (which may throw, like a network error). */
function fakeFetch(answer: (call: Call, index: number) => Response | Promise<Response>): {
  fetch: typeof fetch
  calls: Call[]
} {
  const calls: Call[] = []
  const fetch = ((input: string, init: RequestInit = {}) => {
    const call = { url: input, init }
    calls.push(call)
    return answer(call, calls.length - 1)
  }) as typeof globalThis.fetch
  return { fetch, calls }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })

const diagnose = (answer: Response | (() => Response | Promise<Response>), url = URL_): Promise<Diagnosis> =>
  diagnoseHandshake(url, {
    online: true,
    now: () => NOW,
    fetch: fakeFetch(() => (typeof answer === 'function' ? answer() : answer)).fetch,
  })

/** A fetch of a browser: a CORS refusal or a network error rejects with TypeError; `no-cors` gets an opaque answer. */
const opaque = { type: 'opaque', status: 0, headers: new Headers(), body: null } as unknown as Response

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('diagnoseHandshake', () => {
  it('does answer offline without any request when the platform is offline', async () => {
    const { fetch, calls } = fakeFetch(() => json(426, { error: 'upgrade required' }))
    const result = await diagnoseHandshake(URL_, { online: false, fetch })
    expect(result).toEqual({ kind: 'offline', status: null, retryAfterMs: null, reason: null, hint: result.hint })
    expect(result.hint).toMatch(/offline/)
    expect(calls).toHaveLength(0)
  })

  it('does probe with a no-store, credentialed GET that does not follow redirects and carries no token', async () => {
    const { fetch, calls } = fakeFetch(() => json(426, { error: 'upgrade required' }))
    await diagnoseHandshake('wss://user:secret-token@api.example.test:8443/lifeline?token=secret-token#frag', {
      online: true,
      fetch,
    })
    expect(calls).toHaveLength(1)
    const [{ url, init }] = calls as [Call]
    expect(url).toBe('https://api.example.test:8443/lifeline')
    expect(init).toMatchObject({ method: 'GET', cache: 'no-store', credentials: 'include', redirect: 'manual' })
    expect(init.signal).toBeInstanceOf(AbortSignal)
    expect(JSON.stringify([url, init])).not.toContain('secret-token')
  })

  it.each([
    ['ws://localhost:8080/lifeline', 'http://localhost:8080/lifeline'],
    ['wss://example.test', 'https://example.test/'],
    ['WSS://Example.TEST/Path', 'https://example.test/Path'],
    ['ws://[::1]:9000/x?session=abc', 'http://[::1]:9000/x'],
    ['https://example.test/already-http', 'https://example.test/already-http'],
  ])('does map %s to the probe URL %s (never a downgrade, no query)', (url, expected) => {
    expect(probeUrlFor(url)).toBe(expected)
  })

  it.each(['ftp://example.test/x', 'not a url', '', '/relative/path'])(
    'does answer unknown without a request for the URL %j',
    async (url) => {
      const { fetch, calls } = fakeFetch(() => json(426, {}))
      const result = await diagnoseHandshake(url, { online: true, fetch })
      expect(result.kind).toBe('unknown')
      expect(result.hint).toMatch(/ws:\/\//)
      expect(calls).toHaveLength(0)
    },
  )

  it.each<[string, Response, DiagnosisKind, string | null, RegExp]>([
    ['401', json(401, { error: 'unauthorized' }), 'unauthorized', 'unauthorized', /credentials/],
    [
      '403 origin not allowed',
      json(403, { error: 'origin not allowed' }),
      'origin-refused',
      'origin not allowed',
      /allowedOrigins/,
    ],
    [
      '403 origin required',
      json(403, { error: 'origin required' }),
      'origin-refused',
      'origin required',
      /allowedOrigins/,
    ],
    ['403 for another reason', json(403, { error: 'banned' }), 'unauthorized', 'banned', /forbids/],
    ['403 without a body', new Response(null, { status: 403 }), 'unauthorized', null, /forbids/],
    ['404', json(404, { error: 'not found' }), 'wrong-path', 'not found', /path/],
    ['426', json(426, { error: 'upgrade required' }), 'upgrade-stripped', 'upgrade required', /proxy/],
    ['400', new Response('Bad Request', { status: 400 }), 'upgrade-stripped', null, /proxy/],
    ['429', json(429, { error: 'slow down' }), 'rate-limited', 'slow down', /rate-limiting/],
    ['503', json(503, { error: 'server shutting down' }), 'rate-limited', 'server shutting down', /unavailable/],
    [
      '500 from a throwing hook',
      json(500, { error: 'authentication failed' }),
      'server-error',
      'authentication failed',
      /authenticateUpgrade hook threw/,
    ],
    ['502', new Response('<h1>Bad gateway</h1>', { status: 502 }), 'server-error', null, /502/],
    [
      'an HTML 200 (captive portal)',
      new Response('<!doctype html><title>Wi-Fi login</title>', {
        status: 200,
        headers: { 'Content-Type': 'text/html' },
      }),
      'unknown',
      null,
      /captive portal/,
    ],
    [
      'HTML without a content type',
      new Response('  <html><body>Sign in</body></html>', { status: 200 }),
      'unknown',
      null,
      /captive portal/,
    ],
    ['a JSON 200', json(200, { ok: true }), 'unknown', null, /points at the WebSocket server/],
    [
      'a redirect',
      new Response(null, { status: 302, headers: { Location: 'https://portal.test/login' } }),
      'unknown',
      null,
      /redirect/,
    ],
    ['a 418', json(418, { error: 'teapot' }), 'unknown', 'teapot', /unexpected 418/],
  ])('does classify %s', async (_, response, kind, reason, hint) => {
    const result = await diagnose(response)
    expect(result).toMatchObject({ kind, status: response.status, reason })
    expect(result.hint).toMatch(hint)
  })

  it('does answer unreachable on a network error, after a no-cors retry that fails too', async () => {
    const { fetch, calls } = fakeFetch(() => Promise.reject(new TypeError('fetch failed')))
    const result = await diagnoseHandshake(URL_, { online: true, fetch })
    expect(result).toMatchObject({ kind: 'unreachable', status: null, reason: null })
    expect(result.hint).toMatch(/Nothing answered/)
    expect(calls).toHaveLength(2)
    expect(calls[1]?.init).toMatchObject({ mode: 'no-cors', credentials: 'include', cache: 'no-store' })
    // no-cors forbids redirect: 'manual' (the request would fail as a network error).
    expect(calls[1]?.init.redirect).toBeUndefined()
  })

  it('does answer unreachable when fetch throws synchronously', async () => {
    const fetch = (() => {
      throw new TypeError('boom')
    }) as unknown as typeof globalThis.fetch
    expect((await diagnoseHandshake(URL_, { online: true, fetch })).kind).toBe('unreachable')
  })

  it('does report a CORS-hidden answer (opaque to no-cors) as origin-refused without a status', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.init.mode === 'no-cors' ? opaque : Promise.reject(new TypeError('Failed to fetch')),
    )
    const result = await diagnoseHandshake(URL_, { online: true, fetch })
    expect(result).toMatchObject({ kind: 'origin-refused', status: null, reason: null, retryAfterMs: null })
    expect(result.hint).toMatch(/CORS/)
    expect(result.hint).toMatch(/allowedOrigins/)
    expect(calls).toHaveLength(2)
  })

  it('does classify a readable answer to the no-cors retry by its status', async () => {
    const { fetch } = fakeFetch((_, index) => (index === 0 ? Promise.reject(new TypeError('reset')) : json(401, {})))
    expect((await diagnoseHandshake(URL_, { online: true, fetch })).kind).toBe('unauthorized')
  })

  it('does report an opaque redirect (a browser with redirect: manual) as unknown with a redirect hint', async () => {
    const redirect = { type: 'opaqueredirect', status: 0, headers: new Headers(), body: null } as unknown as Response
    const result = await diagnose(redirect)
    expect(result).toMatchObject({ kind: 'unknown', status: null })
    expect(result.hint).toMatch(/redirect/)
  })

  it('does give up after timeoutMs (default 5000) as unreachable, even if fetch ignores the abort', async () => {
    vi.useFakeTimers()
    let signal: AbortSignal | undefined
    const { fetch } = fakeFetch((call) => {
      signal = call.init.signal ?? undefined
      return new Promise<Response>(() => undefined)
    })
    let result: Diagnosis | null = null
    void diagnoseHandshake(URL_, { online: true, fetch }).then((value) => {
      result = value
    })
    await vi.advanceTimersByTimeAsync(4999)
    expect(result).toBeNull()
    expect(signal?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(result).toMatchObject({ kind: 'unreachable', status: null })
    expect(result!.hint).toMatch(/5000 ms/)
    expect(signal?.aborted).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it.each([
    [250, 250],
    [Number.NaN, 5000],
    [-1, 5000],
    [Number.POSITIVE_INFINITY, 5000],
  ])('does honour timeoutMs %s as %s ms', async (timeoutMs, expected) => {
    vi.useFakeTimers()
    const { fetch } = fakeFetch(() => new Promise<Response>(() => undefined))
    let result: Diagnosis | null = null
    void diagnoseHandshake(URL_, { online: true, fetch, timeoutMs }).then((value) => {
      result = value
    })
    await vi.advanceTimersByTimeAsync(expected - 1)
    expect(result).toBeNull()
    await vi.advanceTimersByTimeAsync(1)
    expect(result).toMatchObject({ kind: 'unreachable' })
  })

  it('does clear its deadline timer once the probe answers', async () => {
    vi.useFakeTimers()
    const result = await diagnoseHandshake(URL_, { online: true, fetch: fakeFetch(() => json(404, {})).fetch })
    expect(result.kind).toBe('wrong-path')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does classify by status when the headers came but the body stalls past the deadline', async () => {
    vi.useFakeTimers()
    const stalled = new ReadableStream<Uint8Array>({ start: () => undefined })
    const { fetch } = fakeFetch(() => new Response(stalled, { status: 401 }))
    let result: Diagnosis | null = null
    void diagnoseHandshake(URL_, { online: true, fetch, timeoutMs: 1000 }).then((value) => {
      result = value
    })
    await vi.advanceTimersByTimeAsync(1000)
    expect(result).toMatchObject({ kind: 'unauthorized', status: 401, reason: null })
  })

  it('does resolve unknown, not throw in its timer, when a stalled answer breaks at the deadline', async () => {
    vi.useFakeTimers()
    const stalled = new ReadableStream<Uint8Array>({ start: () => undefined })
    const broken = {
      type: 'basic',
      get status(): number {
        throw new Error('unreadable status')
      },
      headers: new Headers(),
      body: stalled,
    } as unknown as Response
    let result: Diagnosis | null = null
    void diagnoseHandshake(URL_, { online: true, fetch: fakeFetch(() => broken).fetch, timeoutMs: 500 }).then(
      (value) => {
        result = value
      },
    )
    await vi.advanceTimersByTimeAsync(500)
    expect(result).toMatchObject({ kind: 'unknown', status: null })
    expect(result!.hint).toMatch(/probe itself failed/)
  })

  it('does use injected timers for the deadline', async () => {
    const scheduled: Array<{ ms: number; run: () => void }> = []
    const timers = {
      setTimeout: (run: () => void, ms: number) => scheduled.push({ ms, run }),
      clearTimeout: vi.fn(),
    }
    const { fetch } = fakeFetch(() => new Promise<Response>(() => undefined))
    const pending = diagnoseHandshake(URL_, { online: true, fetch, timers, timeoutMs: 1234 })
    await Promise.resolve()
    expect(scheduled.map((entry) => entry.ms)).toEqual([1234])
    scheduled[0]?.run()
    expect((await pending).kind).toBe('unreachable')
    expect(timers.clearTimeout).toHaveBeenCalledTimes(1)
  })

  it('does use the global fetch by default and answers unknown when there is none', async () => {
    const { fetch, calls } = fakeFetch(() => json(426, {}))
    vi.stubGlobal('fetch', fetch)
    expect((await diagnoseHandshake(URL_, { online: true })).kind).toBe('upgrade-stripped')
    expect(calls).toHaveLength(1)
    vi.stubGlobal('fetch', undefined)
    const result = await diagnoseHandshake(URL_, { online: true })
    expect(result.kind).toBe('unknown')
    expect(result.hint).toMatch(/env\.fetch/)
  })

  it('does resolve unknown, never throw, when fetch answers something that is not a response', async () => {
    const result = await diagnose(() => null as unknown as Response)
    expect(result.kind).toBe('unknown')
  })
})

describe('diagnoseHandshake with bad responses', () => {
  it('does take no reason from an HTML error page', async () => {
    const result = await diagnose(new Response('<html>{"error":"origin not allowed"}</html>', { status: 403 }))
    expect(result).toMatchObject({ kind: 'unauthorized', reason: null })
  })

  it('does survive truncated JSON: classified by status, no reason', async () => {
    const result = await diagnose(new Response('{"error":"origin not al', { status: 403 }))
    expect(result).toMatchObject({ kind: 'unauthorized', status: 403, reason: null })
  })

  it.each([
    ['an array', '[{"error":"origin not allowed"}]'],
    ['null', 'null'],
    ['a number for error', '{"error":403}'],
    ['an object for error', '{"error":{"text":"origin not allowed"}}'],
    ['an empty error', '{"error":" \\u0000 "}'],
  ])('does take no reason from %s', async (_, body) => {
    const result = await diagnose(new Response(body, { status: 403 }))
    expect(result).toMatchObject({ kind: 'unauthorized', reason: null })
  })

  it('does not let a __proto__ key in the body reach Object.prototype', async () => {
    const result = await diagnose(
      new Response('{"__proto__":{"polluted":true},"error":"origin not allowed"}', { status: 403 }),
    )
    expect(result.kind).toBe('origin-refused')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('does sanitise the reason: control and bidi characters stripped, at most 200 characters', async () => {
    const hostile = 'origin\u0000 not\u202e allowed\n\u001b[31m' + 'x'.repeat(1000)
    const result = await diagnose(json(403, { error: hostile }))
    expect(result.kind).toBe('origin-refused')
    expect(result.reason).toBe(('origin not allowed [31m' + 'x'.repeat(1000)).slice(0, 200))
    expect(result.reason).toHaveLength(200)
  })

  it('does stop reading a huge body after 4 KB and still classify it', async () => {
    // 10 MiB in 1 KiB chunks, produced on demand.
    let pulls = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1
        if (pulls > 10 * 1024) controller.close()
        else controller.enqueue(new TextEncoder().encode(pulls === 1 ? '{"error":"' : 'a'.repeat(1024)))
      },
    })
    const result = await diagnose(new Response(endless, { status: 429, headers: { 'Retry-After': '3' } }))
    expect(result).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterMs: 3000, reason: null })
    expect(pulls).toBeLessThan(10)
  })

  it('does read a reason that fits in 4 KB from a body that arrives in many chunks', async () => {
    const text = JSON.stringify({ error: 'origin not allowed', pad: 'p'.repeat(3000) })
    const chunks = text.match(/[\s\S]{1,7}/g) ?? []
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift()
        if (chunk === undefined) controller.close()
        else controller.enqueue(new TextEncoder().encode(chunk))
      },
    })
    expect(await diagnose(new Response(stream, { status: 403 }))).toMatchObject({ reason: 'origin not allowed' })
  })

  it('does classify a body cut by a connection error by its status', async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"error":"unauth'))
        controller.error(new TypeError('terminated'))
      },
    })
    expect(await diagnose(new Response(broken, { status: 401 }))).toMatchObject({ kind: 'unauthorized', reason: null })
  })

  it('does read the text of a minimal fetch result without a body stream, bounded', async () => {
    const minimal = {
      type: 'basic',
      status: 403,
      headers: new Headers(),
      body: null,
      text: () => Promise.resolve(JSON.stringify({ error: 'origin not allowed' })),
    } as unknown as Response
    expect(await diagnose(minimal)).toMatchObject({ kind: 'origin-refused', reason: 'origin not allowed' })
  })

  it.each<[string, string, number | null]>([
    ['seconds', '7', 7000],
    ['zero', '0', 0],
    ['padded seconds', ' 12 ', 12_000],
    ['1e12 seconds, written out', '1000000000000', MAX_RETRY_AFTER_MS],
    ['a thousand digits', '9'.repeat(1000), MAX_RETRY_AFTER_MS],
    ['negative seconds', '-5', null],
    ['NaN', 'NaN', null],
    ['1e12 in exponent form', '1e12', null],
    ['fractional seconds', '1.5', null],
    ['Infinity', 'Infinity', null],
    ['empty', '', null],
    ['garbage', 'soon', null],
    ['an HTTP date 30 s ahead', new Date(NOW + 30_000).toUTCString(), 30_000],
    ['an HTTP date in the past', new Date(NOW - 60_000).toUTCString(), 0],
    ['an HTTP date a year ahead', new Date(NOW + 365 * 86_400_000).toUTCString(), MAX_RETRY_AFTER_MS],
    ['an RFC 850 date', 'Tuesday, 01-Jan-30 00:00:10 GMT', 10_000],
    ['a garbage date', 'Mon, 99 Foo 2030 99:99:99 GMT', null],
    ['a date-like number', '2030-01-01', null],
    ['a weekday alone', 'Monday, ', null],
  ])('does read a Retry-After of %s', async (_, header, expected) => {
    expect(parseRetryAfterHeader(header, NOW)).toBe(expected)
    const result = await diagnose(json(503, { error: 'busy' }, { 'Retry-After': header }))
    expect(result).toMatchObject({ kind: 'rate-limited', retryAfterMs: expected })
  })

  it.each<[string, unknown, number | null]>([
    ['a number', 2500, 2500],
    ['1e12', 1e12, MAX_RETRY_AFTER_MS],
    ['a negative number', -1, null],
    ['a string', '2500', null],
    ['null', null, null],
  ])('does read retryAfterMs from the JSON body when there is no header: %s', async (_, retryAfterMs, expected) => {
    const result = await diagnose(json(429, { error: 'rate limited', retryAfterMs }))
    expect(result.retryAfterMs).toBe(expected)
  })

  it('does prefer the Retry-After header to the JSON retryAfterMs', async () => {
    const result = await diagnose(json(429, { retryAfterMs: 100 }, { 'Retry-After': '2' }))
    expect(result.retryAfterMs).toBe(2000)
  })

  it('does report no retryAfterMs for statuses other than 429 and 503', async () => {
    expect((await diagnose(json(500, { retryAfterMs: 100 }, { 'Retry-After': '2' }))).retryAfterMs).toBeNull()
  })
})

describe('sanitizeReason', () => {
  it.each<[string, unknown, string | null]>([
    ['plain text', 'origin not allowed', 'origin not allowed'],
    ['tabs and line ends', '  spaced\t\tout\r\n', 'spaced out'],
    ['a zero-width space', 'zero\u200bwidth', 'zero width'],
    ['a line separator', 'line\u2028break', 'line break'],
    ['a lone surrogate', 'lone \ud800 surrogate', 'lone surrogate'],
    ['250 emoji (cut by code point)', '😀'.repeat(250), '😀'.repeat(200)],
    ['a number', 42, null],
    ['null', null, null],
    ['only control characters', '\u0000\u0001', null],
  ])('does sanitise %s', (_, input, expected) => {
    expect(sanitizeReason(input)).toBe(expected)
  })
})

describe('diagnosisError', () => {
  it('does wrap a diagnosis in a HANDSHAKE_FAILED error with the diagnosis and its hint', () => {
    const diagnosis: Diagnosis = {
      kind: 'origin-refused',
      status: 403,
      retryAfterMs: null,
      reason: 'origin not allowed',
      hint: 'Add the origin.',
    }
    const cause = new Error('Unexpected server response')
    const error = diagnosisError(diagnosis, cause)
    expect(error).toBeInstanceOf(HandshakeError)
    expect(error).toBeInstanceOf(LifelineError)
    expect(error.code).toBe('HANDSHAKE_FAILED')
    expect(error.name).toBe('HandshakeError')
    expect(error.diagnosis).toBe(diagnosis)
    expect(error.hint).toBe('Add the origin.')
    expect(error.message).toBe('handshake failed: origin-refused 403: origin not allowed')
    expect(error.cause).toBe(cause)
    const offline = diagnosisError({ kind: 'offline', status: null, retryAfterMs: null, reason: null, hint: 'x' })
    expect(offline.message).toBe('handshake failed: offline')
  })
})

describe('diagnoseHandshake in production builds', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    vi.resetModules()
  })

  it('does drop the developer hints and keeps everything else', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.resetModules()
    const production = await import('../../src/core/diagnose')
    const { fetch } = fakeFetch(() => json(403, { error: 'origin not allowed' }))
    const result = await production.diagnoseHandshake(URL_, { online: true, fetch })
    expect(result).toEqual({
      kind: 'origin-refused',
      status: 403,
      retryAfterMs: null,
      reason: 'origin not allowed',
      hint: '',
    })
    expect(production.diagnosisError(result).hint).toBe('')
  })
})
