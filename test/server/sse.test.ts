import { describe, expect, it } from 'vitest'
import { connectReady, logLines, startServer, waitFor } from './helpers'
import { ended, eventsUrl, openStream, tokenAuth, useSseHooks } from './sse-helpers'
import type { EventStream } from './sse-helpers'

const TOKEN = 'tok-alice-secret'

useSseHooks(TOKEN)

const payloadOf = (stream: EventStream): Array<{ id: string | undefined; data: unknown }> =>
  stream.events
    .filter((event) => event.event === 'message')
    .map((event) => ({ id: event.id, data: JSON.parse(event.data) as unknown }))

describe('SSE endpoint: the stream', () => {
  it('opens with 200 and lifeline:subscribed, then carries messages from server.publish and from a WebSocket pub, in order', async () => {
    const server = await startServer()
    const head = await server.publish('news', { n: 0 })
    const stream = await openStream(eventsUrl(server))
    expect(stream.status).toBe(200)
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(stream.headers['cache-control']).toBe('no-store')
    expect(stream.headers['x-accel-buffering']).toBe('no')
    const subscribed = await stream.next('lifeline:subscribed')
    expect(subscribed.id).toBe(`${head.epoch}:1`)
    expect(JSON.parse(subscribed.data)).toEqual({ resumed: false, epoch: head.epoch, seq: 1 })
    expect(stream.raw.startsWith(':')).toBe(true)
    expect(server.connections().map((info) => info.transport)).toEqual(['sse'])
    expect(server.stats()).toMatchObject({ connections: 1, eventStreams: 1 })

    await server.publish('news', { n: 1, text: 'line\nbreak' })
    const { client } = await connectReady(server.url)
    client.send({ type: 'pub', ch: 'news', id: 'm1', data: [2, 'two'] })
    await client.next('ack')
    await server.publish('other', 'not this channel')
    await server.publish('news', 3)
    await waitFor('3 messages', () => payloadOf(stream).length === 3)
    expect(payloadOf(stream)).toEqual([
      { id: `${head.epoch}:2`, data: { n: 1, text: 'line\nbreak' } },
      { id: `${head.epoch}:3`, data: [2, 'two'] },
      { id: `${head.epoch}:4`, data: 3 },
    ])
    expect(stream.raw).toContain(`id: ${head.epoch}:3\ndata: [2,"two"]\n\n`)
  })

  it('resumes with Last-Event-ID: exactly the missed messages in order, then lifeline:subscribed resumed:true, then live', async () => {
    const server = await startServer()
    const first = await openStream(eventsUrl(server))
    await first.next('lifeline:subscribed')
    for (let n = 1; n <= 2; n++) await server.publish('news', n)
    await waitFor('2 messages', () => payloadOf(first).length === 2)
    const lastId = payloadOf(first)[1]?.id ?? ''
    first.destroy()
    await waitFor('stream released', () => server.stats().eventStreams === 0)
    for (let n = 3; n <= 7; n++) await server.publish('news', n)

    const second = await openStream(eventsUrl(server), { headers: { 'Last-Event-ID': lastId } })
    expect(second.status).toBe(200)
    const subscribed = await second.next('lifeline:subscribed')
    const epoch = lastId.slice(0, lastId.lastIndexOf(':'))
    expect(JSON.parse(subscribed.data)).toEqual({ resumed: true, epoch, seq: 7 })
    expect(subscribed.id).toBe(`${epoch}:7`)
    expect(payloadOf(second)).toEqual([3, 4, 5, 6, 7].map((n) => ({ id: `${epoch}:${String(n)}`, data: n })))
    // The replay comes before the subscribed event.
    expect(second.events.map((event) => event.event)).toEqual([
      ...Array<string>(5).fill('message'),
      'lifeline:subscribed',
    ])
    await server.publish('news', 8)
    await waitFor('live message', () => payloadOf(second).length === 6)
    expect(payloadOf(second).map((event) => event.data)).toEqual([3, 4, 5, 6, 7, 8])
  })

  it.each([
    ['an unknown epoch', 'no-such-epoch:3'],
    ['garbage', 'garbage'],
    ['a negative seq', 'e:-1'],
    ['an epoch too long', `${'e'.repeat(129)}:1`],
  ])('answers a Last-Event-ID with %s with resumed:false and no replay', async (_label, lastEventId) => {
    const server = await startServer()
    for (let n = 1; n <= 3; n++) await server.publish('news', n)
    const stream = await openStream(eventsUrl(server), { headers: { 'Last-Event-ID': lastEventId } })
    expect(stream.status).toBe(200)
    const subscribed = JSON.parse((await stream.next('lifeline:subscribed')).data) as Record<string, unknown>
    expect(subscribed).toMatchObject({ resumed: false, seq: 3 })
    expect(payloadOf(stream)).toEqual([])
  })

  it('writes keep-alive comments and outlives the heartbeat timeout though the client never sends anything', async () => {
    const server = await startServer({ sse: { keepAliveMs: 40 }, heartbeat: { intervalMs: 20, timeoutMs: 60 } })
    const stream = await openStream(eventsUrl(server))
    await stream.next('lifeline:subscribed')
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(stream.comments.filter((comment) => comment === 'keep-alive').length).toBeGreaterThanOrEqual(4)
    expect(stream.ended).toBe(false)
    expect(server.stats()).toMatchObject({ connections: 1, eventStreams: 1 })
    await server.publish('news', 'still here')
    await waitFor('message after the timeouts', () => payloadOf(stream).length === 1)
  })

  it('ends with lifeline:close 1001 on server.close()', async () => {
    const server = await startServer()
    const stream = await openStream(eventsUrl(server))
    await stream.next('lifeline:subscribed')
    await server.close()
    const close = await stream.next('lifeline:close')
    expect(JSON.parse(close.data)).toEqual({ code: 1001, reason: 'server shutting down' })
    await ended(stream)
  })

  it('ends with lifeline:close when the server closes the connection', async () => {
    const server = await startServer()
    const stream = await openStream(eventsUrl(server))
    await stream.next('lifeline:subscribed')
    const [info] = server.connections()
    info?.close(4000, 'bye')
    expect(JSON.parse((await stream.next('lifeline:close')).data)).toEqual({ code: 4000, reason: 'bye' })
    await ended(stream)
    await waitFor('released', () => server.stats().connections === 0)
  })

  it('closes a stream whose client stops reading once the response buffers more than maxBufferedBytes', async () => {
    const server = await startServer({ maxBufferedBytes: 16 * 1024 * 1024 })
    const stream = await openStream(eventsUrl(server))
    await stream.next('lifeline:subscribed')
    stream.response?.pause()
    const big = 'x'.repeat(60_000)
    const slow = (): boolean => logLines.some((line) => line.includes('slow consumer'))
    for (let n = 0; n < 1000 && !slow(); n++) await server.publish('news', big)
    expect(slow()).toBe(true)
    // The close event cannot reach a client that does not read: the stream is cut after the close grace period.
    await waitFor('released', () => server.stats().connections === 0)
    // The unsent tail (megabytes past the kernel's buffers) is not held for as long as TCP keeps the socket: the
    // response is cut after the close grace period, so a client reading again gets what its kernel holds, then the
    // cut, never the close event at the end of the tail.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    stream.response?.resume()
    await ended(stream, 5000)
    expect(stream.events.some((event) => event.event === 'lifeline:close')).toBe(false)
  })

  it('frees the connection, its address slot and its session when the client goes away', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 1 })
    const stream = await openStream(eventsUrl(server))
    await stream.next('lifeline:subscribed')
    expect(server.stats()).toMatchObject({ connections: 1, eventStreams: 1, sessions: 1, subscriptions: 1 })
    stream.destroy()
    await waitFor('stats back to 0', () => {
      const stats = server.stats()
      return stats.connections === 0 && stats.eventStreams === 0 && stats.sessions === 0 && stats.subscriptions === 0
    })
    const again = await openStream(eventsUrl(server))
    expect(again.status).toBe(200)
  })

  it('passes the bearer token to authenticate through hello, never reads one from the URL, and never logs it', async () => {
    const seen: Array<{ token: string | undefined; url: string }> = []
    const server = await startServer({
      authenticate: (request) => {
        seen.push({ token: request.token, url: request.url })
        return tokenAuth.authenticate?.(request) ?? null
      },
    })
    const stream = await openStream(eventsUrl(server), { headers: { Authorization: `Bearer ${TOKEN}` } })
    expect(stream.status).toBe(200)
    expect(server.connections()[0]?.principal).toEqual({ id: 'alice' })
    expect(seen).toEqual([{ token: TOKEN, url: '/lifeline/events?ch=news' }])

    const inUrl = await openStream(eventsUrl(server), { query: `?ch=news&token=${TOKEN}&access_token=${TOKEN}` })
    expect(inUrl.status).toBe(401)
    expect(seen[1]?.token).toBeUndefined()
    expect(logLines.some((line) => line.includes('authentication refused'))).toBe(true)
  })
})

describe('SSE endpoint: CORS', () => {
  const origin = 'https://app.example.com'

  it('answers a preflight from an allowed origin and refuses another one', async () => {
    const server = await startServer({ allowedOrigins: [origin] })
    const preflight = await fetch(eventsUrl(server), {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Headers': 'authorization,last-event-id' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true')
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET')
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Authorization, Last-Event-ID, Cache-Control')
    const refused = await fetch(eventsUrl(server), { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('gives the stream of an allowed origin its CORS headers', async () => {
    const server = await startServer({ allowedOrigins: [origin] })
    const stream = await openStream(eventsUrl(server), { headers: { Origin: origin } })
    expect(stream.status).toBe(200)
    expect(stream.headers['access-control-allow-origin']).toBe(origin)
    expect(stream.headers['access-control-allow-credentials']).toBe('true')
    expect(stream.headers.vary).toBe('Origin')
  })
})
