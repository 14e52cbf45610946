import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { InvalidUrlError, type LifelineError } from '../../src/core'
import {
  createLongPollTransport,
  longPollUrl,
  LongPollError,
  type FetchInitLike,
  type FetchLike,
  type FetchResponseLike,
  type LongPollTransportConfig,
} from '../../src/core/longpoll-transport'
import { parseRetryAfterHeader } from '../../src/core/http'
import type { Transport } from '../../src/core/transport'

interface Call {
  readonly url: string
  readonly init: FetchInitLike
  readonly method: FetchInitLike['method']
  aborted: boolean
  answered: boolean
  respond(status: number, body?: unknown, headers?: Record<string, string>): void
  fail(error?: unknown): void
}

type Event = ['open'] | ['message', string] | ['close', number, string, boolean] | ['error', LifelineError]

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' }

function response(status: number, body: unknown, headers: Record<string, string>): FetchResponseLike {
  const lower = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]))
  return {
    status,
    headers: { get: (name) => lower[name.toLowerCase()] ?? null },
    text: () => Promise.resolve(typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body)),
  }
}

/** A fetch whose every call waits for the test to answer it. */
function fakeFetch() {
  const calls: Call[] = []
  const fetch: FetchLike = (url, init) =>
    new Promise((resolve, reject) => {
      const call: Call = {
        url,
        init,
        method: init.method,
        aborted: false,
        answered: false,
        respond(status, body = {}, headers = JSON_TYPE) {
          call.answered = true
          resolve(response(status, body, headers))
        },
        fail(error = new TypeError('fetch failed')) {
          call.answered = true
          reject(error)
        },
      }
      init.signal.addEventListener('abort', () => {
        call.aborted = true
        reject(new DOMException('This operation was aborted', 'AbortError'))
      })
      calls.push(call)
    })
  /** The oldest unanswered, unaborted call of `method`. */
  const next = (method: FetchInitLike['method']): Call => {
    const call = calls.find((candidate) => candidate.method === method && !candidate.answered && !candidate.aborted)
    if (!call) throw new Error(`no pending ${method}; calls: ${calls.map((c) => c.method).join(',')}`)
    return call
  }
  const pending = (method: FetchInitLike['method']): Call[] =>
    calls.filter((call) => call.method === method && !call.answered && !call.aborted)
  return { fetch, calls, next, pending }
}

const settle = () => vi.advanceTimersByTimeAsync(0)

let fake: ReturnType<typeof fakeFetch>
let events: Event[]
let transport: Transport
/** Every transport a test created, dropped after it. */
const created: Transport[] = []

function start(overrides: Partial<LongPollTransportConfig> = {}): Transport {
  transport = createLongPollTransport(
    {
      url: 'wss://live.example.com/lifeline',
      fetch: fake.fetch,
      timers: {
        setTimeout: (callback, ms) => setTimeout(callback, ms),
        clearTimeout: (handle) => clearTimeout(handle as number),
      },
      now: () => Date.parse('2030-01-01T00:00:00Z'),
      ...overrides,
    },
    {
      open: () => events.push(['open']),
      message: (data) => events.push(['message', data as string]),
      close: (code, reason, wasClean) => events.push(['close', code, reason, wasClean]),
      error: (error) => events.push(['error', error]),
    },
  )
  created.push(transport)
  return transport
}

/** Starts and answers the opening POST: the transport is open and its first GET waits. */
async function opened(overrides: Partial<LongPollTransportConfig> = {}): Promise<Transport> {
  start(overrides)
  fake.next('POST').respond(200, { connection: 'conn-1' })
  await settle()
  expect(events).toEqual([['open']])
  events.length = 0
  return transport
}

const closes = () => events.filter((event) => event[0] === 'close')
const errors = () =>
  events.filter((event): event is ['error', LifelineError] => event[0] === 'error').map((event) => event[1])

beforeEach(() => {
  vi.useFakeTimers()
  fake = fakeFetch()
  events = []
})

afterEach(() => {
  for (const each of created.splice(0)) each.drop()
  vi.useRealTimers()
})

describe('longPollUrl', () => {
  it.each([
    ['ws://h:8080/lifeline', 'http://h:8080/lifeline/poll'],
    ['wss://h/lifeline', 'https://h/lifeline/poll'],
    ['https://h/lifeline/', 'https://h/lifeline/poll'],
    ['http://h/', 'http://h/poll'],
    ['wss://h/x?tenant=7', 'https://h/x/poll?tenant=7'],
  ])('maps %s to %s', (url, expected) => {
    expect(longPollUrl(url)).toBe(expected)
  })

  it('never downgrades wss to http, and refuses other schemes and credentials', () => {
    expect(longPollUrl('wss://h/p').startsWith('https:')).toBe(true)
    expect(() => longPollUrl('ftp://h/p')).toThrow(InvalidUrlError)
    expect(() => longPollUrl('wss://user:pw@h/p')).toThrow(InvalidUrlError)
    expect(() => longPollUrl('not a url')).toThrow(InvalidUrlError)
  })
})

describe('parseRetryAfterHeader', () => {
  const now = Date.parse('2030-01-01T00:00:00Z')
  it.each([
    ['2', 2000],
    ['0', 1000],
    ['86400', 300_000],
    ['Tue, 01 Jan 2030 00:00:30 GMT', 30_000],
    ['Mon, 31 Dec 2029 23:00:00 GMT', 1000],
  ])('reads %j as %d ms, clamped to [1 s, 5 min]', (value, expected) => {
    expect(parseRetryAfterHeader(value, now, [1000, 300_000])).toBe(expected)
  })

  it('returns null when absent or unreadable', () => {
    expect(parseRetryAfterHeader(null, now, [1000, 300_000])).toBeNull()
    expect(parseRetryAfterHeader('soon', now, [1000, 300_000])).toBeNull()
    expect(parseRetryAfterHeader('-5', now, [1000, 300_000])).toBeNull()
  })
})

describe('createLongPollTransport: opening', () => {
  it('opens with a POST of an empty batch, reports open once it succeeds, then polls with cursor 0', async () => {
    start()
    expect(transport.kind).toBe('longpoll')
    const post = fake.next('POST')
    expect(post.url).toBe('https://live.example.com/lifeline/poll')
    expect(post.init.body).toBe('[]')
    expect(post.init.headers['Lifeline-Connection']).toBeUndefined()
    expect(post.init.credentials).toBe('include')
    await settle()
    expect(events).toEqual([])
    post.respond(200, { connection: 'conn-1' })
    await settle()
    expect(events).toEqual([['open']])
    const get = fake.next('GET')
    expect(get.url).toBe('https://live.example.com/lifeline/poll')
    expect(get.init.headers).toMatchObject({ 'Lifeline-Connection': 'conn-1', 'Lifeline-Cursor': '0' })
  })

  it.each([
    ['an HTML 200 (captive portal)', 200, '<html>Sign in to Wi-Fi</html>', { 'content-type': 'text/html' }],
    ['a JSON 200 without a connection id', 200, { hello: 1 }, JSON_TYPE],
    ['a truncated JSON 200', 200, '{"connection":', JSON_TYPE],
    ['a 200 that looks right but is served as HTML', 200, { connection: 'c' }, { 'content-type': 'text/html' }],
  ])('turns %s into a transport error and close 1006, no exception escaping', async (_name, status, body, headers) => {
    start()
    fake.next('POST').respond(status, body, headers)
    await settle()
    expect(errors()[0]).toBeInstanceOf(LongPollError)
    expect(errors()[0]).toMatchObject({ code: 'TRANSPORT_ERROR', status: 200 })
    expect(closes()).toEqual([['close', 1006, 'long-poll response unreadable', false]])
    expect(fake.pending('GET')).toEqual([])
  })

  it('calls fetch unbound, as a browser requires ("Illegal invocation" otherwise)', async () => {
    const inner = fake.fetch
    const strict = function (this: unknown, url: string, init: FetchInitLike) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation')
      return inner(url, init)
    }
    start({ fetch: strict })
    fake.next('POST').respond(200, { connection: 'conn-1' })
    await settle()
    expect(events).toEqual([['open']])
    transport.drop()
    expect(fake.pending('DELETE')).toHaveLength(1)
  })

  it('reports a network error on the opening request as an error and close 1006', async () => {
    start()
    fake.next('POST').fail()
    await settle()
    expect(errors()[0]).toMatchObject({ code: 'TRANSPORT_ERROR', status: null })
    expect(closes()).toEqual([['close', 1006, 'long-poll network error', false]])
  })

  it('gives up an opening request that hangs past requestTimeoutMs (close 1006)', async () => {
    start({ requestTimeoutMs: 1000 })
    const post = fake.next('POST')
    await vi.advanceTimersByTimeAsync(999)
    expect(closes()).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(post.aborted).toBe(true)
    expect(closes()).toEqual([['close', 1006, 'long-poll POST timed out', false]])
  })

  it.each([
    [401, 4001],
    [403, 1008],
    [500, 1011],
    [502, 1011],
    [404, 1006],
  ])('maps HTTP %d on the opening request to close %d', async (status, code) => {
    start()
    fake.next('POST').respond(status, { error: 'x' })
    await settle()
    expect(closes()).toEqual([['close', code, expect.any(String), false]])
    // Statuses without a close-code meaning of their own are reported as errors with the status.
    if (status >= 500 || status === 404) expect(errors()[0]).toMatchObject({ status })
  })
})

describe('createLongPollTransport: sending', () => {
  it('sends frames written in the same tick as one POST, in order, one POST in flight at a time', async () => {
    await opened()
    transport.send('{"type":"pub","id":"1"}')
    transport.send('{"type":"pub","id":"2"}')
    transport.send('{"type":"pub","id":"3"}')
    expect(fake.pending('POST')).toEqual([])
    await settle()
    const first = fake.next('POST')
    expect(first.init.body).toBe('[{"type":"pub","id":"1"},{"type":"pub","id":"2"},{"type":"pub","id":"3"}]')
    expect(first.init.headers['Lifeline-Connection']).toBe('conn-1')
    transport.send('{"type":"pub","id":"4"}')
    await settle()
    transport.send('{"type":"pub","id":"5"}')
    await settle()
    expect(fake.pending('POST')).toHaveLength(1)
    first.respond(200, {})
    await settle()
    expect(fake.next('POST').init.body).toBe('[{"type":"pub","id":"4"},{"type":"pub","id":"5"}]')
  })

  it('sends a JSON object frame as it is and anything else as a string element (one bad frame never spoils a batch)', async () => {
    await opened()
    transport.send('{"type":"ping"}')
    transport.send('not json')
    transport.send('{"broken":')
    transport.send('[1,2]')
    await settle()
    const body = fake.next('POST').init.body!
    expect(JSON.parse(body)).toEqual([{ type: 'ping' }, 'not json', '{"broken":', '[1,2]'])
  })

  it('counts buffered() bytes until the server accepted them', async () => {
    await opened()
    expect(transport.buffered()).toBe(0)
    transport.send('{"a":"é"}')
    expect(transport.buffered()).toBe(10)
    await settle()
    expect(transport.buffered()).toBeGreaterThanOrEqual(10)
    fake.next('POST').respond(200, {})
    await settle()
    expect(transport.buffered()).toBe(0)
  })

  it('splits a batch refused with 413 and resends the halves in order; nothing is lost or reordered', async () => {
    await opened()
    const frames = Array.from({ length: 8 }, (_, index) => `{"n":${String(index)},"pad":"${'x'.repeat(100)}"}`)
    for (const frame of frames) transport.send(frame)
    await settle()
    const whole = fake.next('POST')
    expect(JSON.parse(whole.init.body!)).toHaveLength(8)
    whole.respond(413, { error: 'body larger than maxPayload' })
    await settle()
    const sent: unknown[] = []
    for (let round = 0; round < 8 && sent.length < 8; round++) {
      const post = fake.next('POST')
      const batch = JSON.parse(post.init.body!) as unknown[]
      expect(batch.length).toBeLessThanOrEqual(4)
      // A body over 500 bytes is refused again: it is split further.
      if (post.init.body!.length > 500) post.respond(413, {})
      else {
        sent.push(...batch)
        post.respond(200, {})
      }
      await settle()
    }
    expect(sent).toEqual(frames.map((frame) => JSON.parse(frame) as unknown))
    expect(closes()).toEqual([])
  })

  it('fails a single frame refused with 413 as close 1009 and releases the connection with DELETE', async () => {
    await opened()
    transport.send(`{"big":"${'x'.repeat(1000)}"}`)
    await settle()
    fake.next('POST').respond(413, {})
    await settle()
    expect(closes()).toEqual([['close', 1009, 'message too big (413)', false]])
    expect(fake.next('DELETE').init.headers['Lifeline-Connection']).toBe('conn-1')
    expect(fake.pending('GET')).toEqual([])
  })

  it.each([
    ['Retry-After: 2', 429, { 'retry-after': '2' }, '{"retryAfterMs":2000}'],
    ['Retry-After: 0, clamped up', 429, { 'retry-after': '0' }, '{"retryAfterMs":1000}'],
    ['a day, clamped down', 503, { 'retry-after': '86400' }, '{"retryAfterMs":300000}'],
    ['an HTTP date', 503, { 'retry-after': 'Tue, 01 Jan 2030 00:00:10 GMT' }, '{"retryAfterMs":10000}'],
    ['no Retry-After', 503, {}, ''],
  ])('turns a %s into close 4002 with the clamped wait as a JSON reason', async (_name, status, headers, reason) => {
    await opened()
    transport.send('{"type":"ping"}')
    await settle()
    fake.next('POST').respond(status, { error: 'rate limited' }, { ...JSON_TYPE, ...headers })
    await settle()
    expect(closes()).toEqual([['close', 4002, reason, false]])
  })

  it('clamps Retry-After to retryAfterRangeMs when given', async () => {
    await opened({ retryAfterRangeMs: [5000, 60_000] })
    transport.send('{"type":"ping"}')
    await settle()
    fake.next('POST').respond(429, {}, { ...JSON_TYPE, 'retry-after': '1' })
    await settle()
    expect(closes()).toEqual([['close', 4002, '{"retryAfterMs":5000}', false]])
  })

  it('maps a POST refused with 400 to close 1007 (the client fails the suspect message instead of looping)', async () => {
    await opened()
    transport.send('{"type":"ping"}')
    await settle()
    fake.next('POST').respond(400, { error: 'the body is not valid UTF-8' })
    await settle()
    expect(closes()).toEqual([['close', 1007, 'request refused (400)', false]])
  })

  it('reports a close the server put in a POST answer (rate limit) with its own code and reason, without DELETE', async () => {
    await opened()
    transport.send('{"type":"ping"}')
    await settle()
    const close = { code: 4002, reason: '{"retryAfterMs":1500}' }
    fake
      .next('POST')
      .respond(429, { error: 'rate limited', retryAfterMs: 1500, close }, { ...JSON_TYPE, 'retry-after': '2' })
    await settle()
    expect(closes()).toEqual([['close', 4002, '{"retryAfterMs":1500}', false]])
    expect(fake.pending('DELETE')).toEqual([])
  })

  it('refuses binary data with an error and sends nothing', async () => {
    await opened()
    transport.send(new Uint8Array([1, 2]))
    await settle()
    expect(errors()[0]).toMatchObject({ code: 'TRANSPORT_ERROR' })
    expect(fake.pending('POST')).toEqual([])
  })
})

describe('createLongPollTransport: polling', () => {
  it('delivers polled frames in order and acknowledges them with the cursor of the next poll', async () => {
    await opened()
    fake.next('GET').respond(200, { cursor: 2, frames: ['{"type":"welcome"}', '{"type":"pong"}'] })
    await settle()
    expect(events).toEqual([
      ['message', '{"type":"welcome"}'],
      ['message', '{"type":"pong"}'],
    ])
    expect(fake.next('GET').init.headers['Lifeline-Cursor']).toBe('2')
    fake.next('GET').respond(200, { cursor: 2, frames: [] })
    await settle()
    expect(fake.next('GET').init.headers['Lifeline-Cursor']).toBe('2')
  })

  it('polls again with the same cursor after a lost response: the re-sent frames arrive once, no gap', async () => {
    await opened()
    fake.next('GET').respond(200, { cursor: 1, frames: ['{"n":1}'] })
    await settle()
    fake.next('GET').fail(new TypeError('network connection was lost'))
    await settle()
    const again = fake.next('GET')
    expect(again.init.headers['Lifeline-Cursor']).toBe('1')
    again.respond(200, { cursor: 3, frames: ['{"n":2}', '{"n":3}'] })
    await settle()
    expect(events.map((event) => event[1])).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])
    expect(closes()).toEqual([])
  })

  it('aborts a hung poll after pollTimeoutMs and polls again with the same cursor; too many in a row close 1006', async () => {
    await opened({ pollTimeoutMs: 30_000, maxPollRetries: 2 })
    for (let hang = 0; hang < 2; hang++) {
      const get = fake.next('GET')
      await vi.advanceTimersByTimeAsync(30_000)
      expect(get.aborted).toBe(true)
      expect(fake.next('GET').init.headers['Lifeline-Cursor']).toBe('0')
    }
    expect(closes()).toEqual([])
    await vi.advanceTimersByTimeAsync(30_000)
    expect(closes()).toEqual([['close', 1006, 'long-poll GET timed out', false]])
    expect(errors()[0]).toMatchObject({ status: null })
  })

  it('resets the retry budget after a good poll', async () => {
    await opened({ maxPollRetries: 1 })
    for (let round = 0; round < 3; round++) {
      fake.next('GET').fail()
      await settle()
      fake.next('GET').respond(200, { cursor: 0, frames: [] })
      await settle()
    }
    expect(closes()).toEqual([])
  })

  it('turns a 410 into close 1006 (start over, resume through hello) without DELETE', async () => {
    await opened()
    fake.next('GET').respond(410, { error: 'unknown or expired connection' })
    await settle()
    expect(closes()).toEqual([['close', 1006, 'long-poll connection expired (410)', false]])
    expect(fake.pending('DELETE')).toEqual([])
  })

  it.each([
    ['an HTML page', '<!doctype html><title>Login</title>', { 'content-type': 'text/html' }],
    ['HTML labelled as JSON', '<html></html>', JSON_TYPE],
    ['a JSON body of another shape', { ok: true }, JSON_TYPE],
    ['frames that are not strings', { cursor: 1, frames: [{ type: 'pong' }] }, JSON_TYPE],
  ])('treats %s in a poll answer as a transport error (close), never as frames', async (_name, body, headers) => {
    await opened()
    fake.next('GET').respond(200, body, headers)
    await settle()
    expect(events.filter((event) => event[0] === 'message')).toEqual([])
    expect(closes()).toHaveLength(1)
    expect([1006, 1002]).toContain(closes()[0]![1])
  })

  it('closes 1002 when the cursor does not continue the stream (a gap or a duplicate would follow)', async () => {
    await opened()
    fake.next('GET').respond(200, { cursor: 5, frames: ['{"n":5}'] })
    await settle()
    expect(events.filter((event) => event[0] === 'message')).toEqual([])
    expect(closes()).toEqual([['close', 1002, 'long-poll cursor mismatch', false]])
  })

  it('reports a close sent by the server after the frames before it, as clean, without DELETE', async () => {
    await opened()
    fake.next('GET').respond(200, {
      cursor: 1,
      frames: ['{"type":"ack","id":"a"}'],
      close: { code: 4003, reason: 'session expired' },
    })
    await settle()
    expect(events).toEqual([
      ['message', '{"type":"ack","id":"a"}'],
      ['close', 4003, 'session expired', true],
    ])
    expect(fake.pending('DELETE')).toEqual([])
    expect(fake.pending('GET')).toEqual([])
  })

  it('stops at once when a message handler drops the transport', async () => {
    start()
    transport = createLongPollTransport(
      {
        url: 'ws://h/p',
        fetch: fake.fetch,
        timers: { setTimeout, clearTimeout: (handle) => clearTimeout(handle as number) },
      },
      {
        open: () => events.push(['open']),
        message: (data) => {
          events.push(['message', data as string])
          transport.drop()
        },
        close: (code, reason, wasClean) => events.push(['close', code, reason, wasClean]),
        error: (error) => events.push(['error', error]),
      },
    )
    fake.pending('POST').at(-1)!.respond(200, { connection: 'c2' })
    await settle()
    fake
      .pending('GET')
      .at(-1)!
      .respond(200, { cursor: 2, frames: ['{"n":1}', '{"n":2}'] })
    await settle()
    expect(events.filter((event) => event[0] === 'message')).toEqual([['message', '{"n":1}']])
    expect(closes()).toEqual([])
  })
})

describe('createLongPollTransport: closing', () => {
  it('close() sends what was written first, then DELETE, and reports a clean close when it is answered', async () => {
    await opened()
    transport.send('{"type":"pub","id":"last"}')
    transport.close(1000, 'bye')
    await settle()
    expect(fake.pending('DELETE')).toEqual([])
    fake.next('POST').respond(200, {})
    await settle()
    const del = fake.next('DELETE')
    expect(del.init.headers['Lifeline-Connection']).toBe('conn-1')
    expect(closes()).toEqual([])
    del.respond(204, undefined, {})
    await settle()
    expect(closes()).toEqual([['close', 1000, 'bye', true]])
    expect(fake.pending('GET')).toEqual([])
    transport.send('{"type":"ping"}')
    await settle()
    expect(fake.pending('POST')).toEqual([])
  })

  it('close() before the connection opened reports an unclean close and sends nothing more', async () => {
    start()
    const post = fake.next('POST')
    transport.close(1000, '')
    await settle()
    expect(post.aborted).toBe(true)
    expect(closes()).toEqual([['close', 1000, '', false]])
    expect(fake.calls).toHaveLength(1)
  })

  it('drop() aborts every request, releases the connection with DELETE and reports nothing', async () => {
    await opened()
    transport.send('{"type":"ping"}')
    await settle()
    const post = fake.next('POST')
    const get = fake.next('GET')
    transport.drop()
    await settle()
    expect(post.aborted).toBe(true)
    expect(get.aborted).toBe(true)
    expect(fake.next('DELETE').init.keepalive).toBe(true)
    expect(events).toEqual([])
  })
})
