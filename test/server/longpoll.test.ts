import { request as httpRequest } from 'node:http'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { ServerFrame } from '../../src/core'
import type { AuthRequest, LifelineServer, LifelineServerOptions, PublishedEvent } from '../../src/server'
import { call, cleanup, connectReady, logLines, openPoll, PollClient, pollUrl, startServer, waitFor } from './helpers'

/** Connection ids and tokens handed out in this file: none may appear in a log line. */
const secrets = new Set<string>()

afterEach(cleanup)

afterAll(() => {
  const logs = logLines.join('\n')
  for (const secret of secrets) expect(logs).not.toContain(secret)
})

/** Opens a long-poll connection; its id is a secret no log line may show. */
async function open(...args: Parameters<typeof openPoll>): ReturnType<typeof openPoll> {
  const opened = await openPoll(...args)
  if (opened.client) secrets.add(opened.client.id)
  return opened
}

async function ready(server: LifelineServer, frames: unknown[] = [{ type: 'hello', v: 1 }], origin?: string) {
  const { reply, client } = await open(server, frames, origin ? { origin } : {})
  expect(reply.status).toBe(200)
  const welcome = await client!.next('welcome')
  secrets.add(welcome.session)
  return { client: client!, welcome }
}

/** Tokens are `tok-<principal>-secret`; anything else is refused. */
const tokenAuth: Pick<LifelineServerOptions, 'authenticate'> = {
  authenticate: ({ token }: AuthRequest) => {
    const match = /^tok-(\w+)-secret$/.exec(token ?? '')
    return match?.[1] ? { id: match[1] } : null
  },
}

describe('long-poll server: the exchange', () => {
  it('opens with a POST carrying hello, answers welcome, sub and pub through polls, as a connection of its own', async () => {
    const server = await startServer()
    const { reply, client } = await open(server, [
      { type: 'hello', v: 1 },
      '{"type":"sub","ch":"news"}',
      { type: 'pub', ch: 'news', id: 'm1', data: { n: 1 } },
    ])
    expect(reply.status).toBe(200)
    expect(reply.headers.get('lifeline-connection')).toBe(client!.id)
    expect(client!.id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(server.connections().map((info) => info.transport)).toEqual(['longpoll'])
    expect(server.stats()).toMatchObject({ connections: 1, longPolls: 1 })
    const welcome = await client!.next('welcome')
    secrets.add(welcome.session)
    expect(welcome).toMatchObject({ resumed: false, maxMessageBytes: 65536 })
    expect(await client!.next('subscribed')).toMatchObject({ ch: 'news', seq: 0 })
    expect(await client!.next('ack')).toEqual({ type: 'ack', id: 'm1' })
    expect(await client!.next('msg')).toMatchObject({ ch: 'news', seq: 1, data: { n: 1 } })
  })

  it('holds a GET until a frame is sent, and answers it empty after pollTimeoutMs', async () => {
    const server = await startServer({ longPoll: { pollTimeoutMs: 300 } })
    const { client } = await ready(server, [
      { type: 'hello', v: 1 },
      { type: 'sub', ch: 'a' },
    ])
    await client.next('subscribed')
    let started = performance.now()
    const empty = await client.poll()
    expect(empty.frames).toEqual([])
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    started = performance.now()
    const waiting = client.poll()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await server.publish('a', 'x')
    const body = await waiting
    expect(performance.now() - started).toBeLessThan(250)
    expect(body.frames.map((text) => JSON.parse(text) as { data: unknown })).toMatchObject([{ data: 'x' }])
  })

  it('re-sends the frames of a lost poll response for the old cursor: no duplicate, no gap', async () => {
    const server = await startServer()
    const { client } = await ready(server, [
      { type: 'hello', v: 1 },
      { type: 'sub', ch: 'seq' },
    ])
    await client.next('subscribed')
    const seqs: number[] = []
    let lost = 0
    for (let batch = 0; batch < 10; batch++) {
      for (let index = 0; index < 10; index++) await server.publish('seq', batch * 10 + index)
      // Every other response is "lost": read, then thrown away, and the same cursor is polled again.
      const first = await client.fetchPoll()
      expect(first.status).toBe(200)
      if (batch % 2 === 0) {
        lost += first.body.frames.length
        const again = await client.fetchPoll()
        expect(again.body).toEqual(first.body)
      }
      const kept = batch % 2 === 0 ? await client.fetchPoll() : first
      client.take(kept.body)
      for (const text of kept.body.frames) {
        const frame = JSON.parse(text) as ServerFrame
        if (frame.type === 'msg') seqs.push(frame.seq)
      }
    }
    expect(lost).toBeGreaterThan(0)
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, index) => index + 1))
  })

  it('drops acknowledged frames: a cursor behind the acknowledged one or ahead of the stream is a 400', async () => {
    const server = await startServer({ longPoll: { pollTimeoutMs: 50 } })
    const { client } = await ready(server)
    expect(client.cursor).toBe(1)
    // Not acknowledged yet: the welcome is sent again.
    expect((await client.fetchPoll(0)).body.frames).toHaveLength(1)
    // Acknowledged by this poll (answered empty after the poll timeout).
    expect((await client.poll()).frames).toEqual([])
    expect((await client.fetchPoll(0)).status).toBe(400)
    expect((await client.fetchPoll(5)).status).toBe(400)
    const bad = await call(client.url, { headers: { 'Lifeline-Connection': client.id, 'Lifeline-Cursor': '-1' } })
    expect(bad.status).toBe(400)
  })

  it('answers a frame that is not valid on its own with an error and applies the rest of the batch', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => published.push(event) })
    const { client } = await ready(server)
    const reply = await client.send(['not json', 42, { type: 'pub', ch: 'c', id: 'ok', data: 1 }])
    expect(reply.status).toBe(200)
    expect(await client.next('error')).toMatchObject({ code: 'INVALID_FRAME' })
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'ok' })
    expect(published).toHaveLength(1)
  })

  it('refuses a body that is not a JSON array, or not UTF-8, with 400 and applies nothing', async () => {
    const server = await startServer()
    const { client } = await ready(server)
    const notArray = await call(client.url, {
      method: 'POST',
      headers: { 'Lifeline-Connection': client.id, 'Content-Type': 'application/json' },
      body: '{"type":"ping"}',
    })
    expect(notArray.status).toBe(400)
    const notUtf8 = await call(client.url, {
      method: 'POST',
      headers: { 'Lifeline-Connection': client.id, 'Content-Type': 'application/json' },
      body: new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]),
    })
    expect(notUtf8.status).toBe(400)
    expect(server.stats().connections).toBe(1)
  })

  it('dedupes a pub resent in a second POST (applied once, acknowledged twice)', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => published.push(event) })
    const { client } = await ready(server)
    const pub = { type: 'pub', ch: 'c', id: 'same', data: 1 }
    await client.send([pub])
    await client.send([pub])
    await client.next('ack')
    await client.next('ack')
    expect(published).toHaveLength(1)
  })

  it('closes with DELETE: 204, the connection is released, later requests get 410', async () => {
    const server = await startServer()
    const { client } = await ready(server)
    const reply = await call(client.url, { method: 'DELETE', headers: { 'Lifeline-Connection': client.id } })
    expect(reply.status).toBe(204)
    await waitFor('released', () => server.stats().connections === 0)
    expect(server.stats().longPolls).toBe(0)
    expect((await client.fetchPoll()).status).toBe(410)
    expect((await client.send([{ type: 'ping' }])).status).toBe(410)
  })

  it('answers an unknown connection id with 410 and a request without one (other than the opening POST) with 400', async () => {
    const server = await startServer()
    const unknown = await call(pollUrl(server), { headers: { 'Lifeline-Connection': 'A'.repeat(22) } })
    expect(unknown.status).toBe(410)
    const malformed = await call(pollUrl(server), { headers: { 'Lifeline-Connection': '../etc' } })
    expect(malformed.status).toBe(410)
    expect((await call(pollUrl(server), {})).status).toBe(400)
    expect((await call(pollUrl(server), { method: 'PUT' })).status).toBe(405)
  })

  it('serves nothing at <path>/poll with longPoll: false', async () => {
    const server = await startServer({ longPoll: false })
    const reply = await call(pollUrl(server), { method: 'POST', body: '[]' })
    expect(reply.status).toBe(404)
  })
})

describe('long-poll server: origins and authentication (the WebSocket rules)', () => {
  const allowed = 'https://app.test'

  it.each([
    ['a different origin', 'https://evil.test'],
    ['the allowed origin as a prefix', 'https://app.test.evil.com'],
    ['another scheme', 'http://app.test'],
    ['another port', 'https://app.test:8443'],
    ['a trailing slash', 'https://app.test/'],
    ['the null origin', 'null'],
  ])('refuses %s with 403 on the opening POST and the preflight, without CORS headers', async (_name, origin) => {
    const server = await startServer({ allowedOrigins: [allowed] })
    const { reply, client } = await open(server, [{ type: 'hello', v: 1 }], { origin })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual({ error: 'origin not allowed' })
    expect(reply.headers.get('access-control-allow-origin')).toBeNull()
    expect(client).toBeNull()
    const preflight = await fetch(pollUrl(server), { method: 'OPTIONS', headers: { Origin: origin } })
    expect(preflight.status).toBe(403)
    expect(server.stats().connections).toBe(0)
  })

  it('answers an allowed origin with CORS headers, and a preflight that allows the custom headers', async () => {
    const server = await startServer({ allowedOrigins: [allowed], longPoll: { pollTimeoutMs: 50 } })
    const preflight = await fetch(pollUrl(server), {
      method: 'OPTIONS',
      headers: { Origin: allowed, 'Access-Control-Request-Headers': 'lifeline-connection, lifeline-cursor' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(allowed)
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Lifeline-Connection.*Lifeline-Cursor/)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    const { client } = await ready(server, [{ type: 'hello', v: 1 }], allowed)
    const polled = await client.fetchPoll()
    expect(polled.headers.get('access-control-allow-origin')).toBe(allowed)
    expect(polled.headers.get('access-control-allow-credentials')).toBe('true')
    expect(polled.headers.get('access-control-expose-headers')).toContain('Retry-After')
  })

  it('accepts a later request without Origin (a same-origin GET) but refuses one from another page', async () => {
    const server = await startServer({ allowedOrigins: [allowed, 'https://other.test'] })
    const { client } = await ready(server, [{ type: 'hello', v: 1 }], allowed)
    const sameOrigin = new PollClient(client.url, client.id)
    sameOrigin.cursor = client.cursor
    const waiting = sameOrigin.fetchPoll()
    await client.send([{ type: 'ping' }])
    expect((await waiting).status).toBe(200)
    const other = new PollClient(client.url, client.id, 'https://other.test')
    expect((await other.fetchPoll(client.cursor + 1)).status).toBe(403)
    expect((await other.send([{ type: 'ping' }])).status).toBe(403)
  })

  it('refuses requests without Origin when allowNoOrigin is false', async () => {
    const server = await startServer({ allowNoOrigin: false, allowedOrigins: [allowed] })
    expect((await open(server)).reply.status).toBe(403)
  })

  it('runs authenticateUpgrade on the opening request headers: null is 401, a throw is 500, no connection', async () => {
    const seen: AuthRequest[] = []
    const server = await startServer({
      authenticateUpgrade: (request) => {
        seen.push(request)
        if (request.headers.cookie === 'sid=boom') throw new Error('hook failed')
        return request.headers.cookie === 'sid=alice' ? { id: 'alice' } : null
      },
    })
    expect((await open(server)).reply.status).toBe(401)
    expect((await open(server, [], { headers: { Cookie: 'sid=boom' } })).reply.status).toBe(500)
    expect(server.stats().connections).toBe(0)
    const { reply, client } = await open(server, [{ type: 'hello', v: 1 }], { headers: { Cookie: 'sid=alice' } })
    expect(reply.status).toBe(200)
    await client!.next('welcome')
    expect(server.connections()[0]?.principal).toEqual({ id: 'alice' })
    expect(seen.every((request) => request.token === undefined)).toBe(true)
  })

  it('authenticates the token inside hello; a refused token closes with 4001, delivered in the poll', async () => {
    const server = await startServer(tokenAuth)
    secrets.add('tok-bob-secret')
    const { client } = await ready(server, [{ type: 'hello', v: 1, token: 'tok-bob-secret' }])
    expect(server.connections()[0]?.principal).toEqual({ id: 'bob' })
    const refused = (await open(server, [{ type: 'hello', v: 1, token: 'wrong' }])).client!
    const body = await refused.poll()
    expect(body.close).toEqual({ code: 4001, reason: 'invalid token' })
    expect(client.close).toBeNull()
  })

  it('never takes the hello token from the URL', async () => {
    const server = await startServer(tokenAuth)
    secrets.add('tok-carol-secret')
    const { client } = await open(server, [{ type: 'hello', v: 1 }], { query: '?token=tok-carol-secret' })
    const body = await client!.poll()
    expect(body.close?.code).toBe(4001)
    expect(server.stats().principals).toBe(0)
  })

  it('closes a connection that sends no hello in time with 4001, like a WebSocket', async () => {
    const server = await startServer({ helloTimeoutMs: 100 })
    const { client } = await open(server, [])
    const body = await client!.poll()
    expect(body.close).toEqual({ code: 4001, reason: 'hello timeout' })
  })
})

describe('long-poll server: limits and expiry', () => {
  it('refuses a body over maxPayload with 413 and applies none of its frames', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ maxPayload: 1024, onPublished: (event) => published.push(event) })
    const { client } = await ready(server)
    const frames = [
      { type: 'pub', ch: 'c', id: 'small', data: 1 },
      { type: 'pub', ch: 'c', id: 'big', data: 'x'.repeat(1100) },
    ]
    const reply = await client.send(frames)
    expect(reply.status).toBe(413)
    expect(reply.body).toEqual({ error: 'body larger than maxPayload', maxPayload: 1024 })
    // Chunked, without a Content-Length: counted while read.
    const chunked = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        client.url,
        { method: 'POST', headers: { 'Lifeline-Connection': client.id, 'Transfer-Encoding': 'chunked' } },
        (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        },
      )
      request.on('error', reject)
      request.write('[')
      request.end(`"${'y'.repeat(2000)}"]`)
    })
    expect(chunked).toBe(413)
    expect(published).toEqual([])
    // The connection is unharmed: the small frame alone goes through.
    expect((await client.send([frames[0]])).status).toBe(200)
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'small' })
  })

  it('answers a batch over the rate limit with 429, Retry-After and the 4002 close', async () => {
    const server = await startServer({ rateLimit: { messages: 5, perMs: 10_000 } })
    const { client } = await ready(server)
    const reply = await client.send(Array.from({ length: 10 }, () => ({ type: 'ping' })))
    expect(reply.status).toBe(429)
    expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(reply.body).toMatchObject({ error: 'rate limited', close: { code: 4002 } })
    const retryAfterMs = (JSON.parse((reply.body.close as { reason: string }).reason) as { retryAfterMs: number })
      .retryAfterMs
    expect(retryAfterMs).toBeGreaterThan(0)
    expect(reply.body.retryAfterMs).toBe(retryAfterMs)
    // The close also reaches the poll, after the pongs sent before it.
    const body = await client.poll()
    expect(body.close?.code).toBe(4002)
    expect(body.frames.length).toBeGreaterThanOrEqual(4)
  })

  it('closes a connection that does not poll (slow consumer) with 1013 once its queue passes maxBufferedBytes', async () => {
    const server = await startServer({ maxBufferedBytes: 4096 })
    const { client } = await ready(server, [
      { type: 'hello', v: 1 },
      { type: 'sub', ch: 'flood' },
    ])
    await client.next('subscribed')
    for (let index = 0; index < 100; index++) await server.publish('flood', 'z'.repeat(100))
    await waitFor('slow consumer closed', () => server.stats().connections === 0)
    const body = await client.poll()
    expect(body.close).toEqual({ code: 1013, reason: 'slow consumer' })
    expect(body.frames.length).toBeGreaterThan(10)
  })

  it('expires an idle connection (410 afterwards); its session resumes on a new connection through hello', async () => {
    const server = await startServer({ longPoll: { pollTimeoutMs: 100, idleTimeoutMs: 150 } })
    const { client, welcome } = await ready(server, [
      { type: 'hello', v: 1 },
      { type: 'sub', ch: 'a' },
    ])
    await client.next('subscribed')
    // Polling keeps it alive past the idle timeout.
    for (let index = 0; index < 4; index++) await client.poll()
    expect(server.stats().longPolls).toBe(1)
    await waitFor('expiry', () => server.stats().connections === 0, 2000)
    expect((await client.fetchPoll()).status).toBe(410)
    expect(server.stats().sessions).toBe(1)
    const resumed = await ready(server, [{ type: 'hello', v: 1, session: welcome.session }])
    expect(resumed.welcome).toMatchObject({ session: welcome.session, resumed: true })
  })

  it('delivers server closes in the poll: expireSession 4003, and 1001 to a waiting poll on shutdown', async () => {
    const server = await startServer()
    const first = await ready(server)
    expect(server.expireSession(first.welcome.session)).toBe(true)
    expect((await first.client.poll()).close).toEqual({ code: 4003, reason: 'session expired' })
    const second = await ready(server)
    const waiting = second.client.fetchPoll()
    await new Promise((resolve) => setTimeout(resolve, 20))
    await server.close()
    expect((await waiting).body.close).toEqual({ code: 1001, reason: 'server shutting down' })
  })

  it('holds a server close for a client between polls (up to the close grace), as a WebSocket close handshake', async () => {
    const server = await startServer()
    const { client } = await ready(server)
    const closing = server.close()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await client.poll()).close).toEqual({ code: 1001, reason: 'server shutting down' })
    await closing
    // New connections are refused meanwhile; the server is gone now.
    await expect(open(server)).rejects.toThrow()
  })

  it('cuts a waiting poll when the connection is terminated, and answers 410 afterwards', async () => {
    const server = await startServer()
    const { client } = await ready(server)
    const waiting = client.fetchPoll().then(
      () => 'answered',
      () => 'cut',
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    server.connections()[0]!.terminate()
    expect(await waiting).toBe('cut')
    expect((await client.fetchPoll()).status).toBe(410)
  })

  it('answers 410, applying nothing, to a POST whose connection was terminated while its body was read', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => published.push(event) })
    const { client } = await ready(server)
    const status = new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        client.url,
        { method: 'POST', headers: { 'Lifeline-Connection': client.id, 'Transfer-Encoding': 'chunked' } },
        (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        },
      )
      request.on('error', reject)
      request.write('[{"type":"pub","ch":"c","id":"late",')
      setTimeout(() => {
        server.connections()[0]!.terminate()
        request.end('"data":1}]')
      }, 50)
    })
    expect(await status).toBe(410)
    expect(published).toEqual([])
  })

  it('shares sessions with WebSocket: a WebSocket session resumes over long-poll and the socket is superseded', async () => {
    const server = await startServer()
    const ws = await connectReady(server.url)
    secrets.add(ws.welcome.session)
    const { welcome } = await ready(server, [{ type: 'hello', v: 1, session: ws.welcome.session }])
    expect(welcome).toMatchObject({ session: ws.welcome.session, resumed: true })
    expect((await ws.client.closed()).code).toBe(1008)
  })
})
