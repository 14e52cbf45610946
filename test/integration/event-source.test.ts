import { afterEach, describe, expect, it } from 'vitest'
import {
  createLifeline,
  eventSource,
  simulateFault,
  type EventSourceOptions,
  type InboundMessage,
  type LifelineClient,
  type LifelineOptions,
} from '../../src/core'
import { FAST, sleep, waitFor, waitForStatus } from './helpers'
import { closeSseServers, sseServer, stream } from './sse-server'

const clients: LifelineClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose()
  await closeSseServers()
})

function client(url: string, sse: EventSourceOptions = {}, options: Partial<LifelineOptions> = {}) {
  const messages: InboundMessage[] = []
  const created = createLifeline({ url, ...FAST, transport: eventSource(sse), ...options })
  created.on('message', (message) => messages.push(message))
  clients.push(created)
  return { client: created, messages }
}

describe('eventSource(): a Server-Sent Events stream with the client’s healing', () => {
  it('delivers events in order with their type and id, skipping comments, and sends no token in the URL', async () => {
    const { url, requests } = await sseServer(({ response }) => {
      stream(response)
      // Split mid-line and mid-CRLF, as a network may.
      for (const chunk of [
        'id: 1\r',
        '\ndata: {"n":1}\r\n\r\n: keep-alive\n\n',
        'event: up',
        'date\nid: 2\ndata: a\n',
        'data: b\n\n',
      ])
        response.write(chunk)
    })
    const { client: stream_, messages } = client(url, {}, { getToken: () => 'secret-token' })
    await waitFor(() => messages.length === 2, 3000, 'two events')
    expect(messages.map(({ type, data, lastEventId }) => ({ type, data, lastEventId }))).toEqual([
      { type: 'message', data: '{"n":1}', lastEventId: '1' },
      { type: 'update', data: 'a\nb', lastEventId: '2' },
    ])
    expect(stream_.getSnapshot()).toMatchObject({ status: 'open', transport: 'sse' })
    expect(requests[0]!.headers.authorization).toBe('Bearer secret-token')
    expect(requests[0]!.headers.accept).toBe('text/event-stream')
    expect(requests[0]!.url).toBe('/events')
    expect(requests[0]!.headers['last-event-id']).toBeUndefined()
  })

  it('resumes after a dropped stream: the next request carries Last-Event-ID, and only the events asked for pass', async () => {
    const { url, requests } = await sseServer(({ response, headers }, index) => {
      stream(response)
      const from = Number(headers['last-event-id'] ?? 0)
      for (let n = from + 1; n <= from + 3; n++)
        response.write(`event: ${n % 2 ? 'odd' : 'even'}\nid: ${n}\ndata: ${n}\n\n`)
      // The first stream is cut abruptly (a server killed); the second stays.
      if (index === 0) setTimeout(() => response.socket?.destroy(), 50)
    })
    const { client: stream_, messages } = client(url, { events: ['odd'] })
    await waitFor(() => requests.length === 2 && messages.length === 3, 4000, 'the second stream')
    expect(requests[1]!.headers['last-event-id']).toBe('3')
    expect(messages.map((message) => message.data)).toEqual(['1', '3', '5'])
    expect(stream_.getSnapshot().lastClose).toMatchObject({ code: 1006, wasClean: false })
  })

  it('a stream the server ends is reconnected (1000), and one that falls silent is replaced (idleTimeoutMs)', async () => {
    const { url, requests } = await sseServer(({ response }, index) => {
      stream(response)
      if (index === 0) response.end()
      // The second stays open and silent: the idle watchdog must replace it.
    })
    const { client: stream_ } = client(url, { idleTimeoutMs: 300 })
    const errors: string[] = []
    stream_.on('error', (error) => errors.push(error.code))
    await waitFor(() => requests.length === 3, 4000, 'a third request')
    expect(errors).toEqual(['CONNECTION_CLOSED', 'HEARTBEAT_TIMEOUT'])
    expect(stream_.getSnapshot().lastClose).toMatchObject({ code: 1006 })
    expect(requests[1]!.gone).toBe(true)
  })

  it('refusals: 401 refreshes the token, 503 honours Retry-After, 500 backs off, 403 stops with the status', async () => {
    let tokens = 0
    const { url, requests } = await sseServer(({ response, headers }, index) => {
      if (index === 0) return void response.writeHead(401).end()
      if (index === 1) {
        expect(headers.authorization).toBe('Bearer t2')
        return void response.writeHead(503, { 'retry-after': '1' }).end()
      }
      if (index === 2) return void response.writeHead(500).end()
      response.writeHead(403).end('{"error":"forbidden"}')
    })
    const { client: stream_ } = client(url, {}, { getToken: () => `t${++tokens}` })
    await waitForStatus(stream_, 'failed', 5000)
    expect(requests).toHaveLength(4)
    // The 503's Retry-After: 1 s between the second and third requests; the 401 was retried at once with a new token.
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(950)
    expect(requests[1]!.at - requests[0]!.at).toBeLessThan(500)
    expect(stream_.getSnapshot().lastError).toMatchObject({
      code: 'HANDSHAKE_FAILED',
      message: expect.stringContaining('403'),
    })
    await sleep(300)
    expect(requests).toHaveLength(4)
  })

  it('204 No Content and a 404 stop for good; a 200 that is not an event stream is retried', async () => {
    for (const status of [204, 404]) {
      const { url, requests } = await sseServer(({ response }) => void response.writeHead(status).end())
      const { client: stream_ } = client(url)
      await waitForStatus(stream_, 'failed', 2000)
      expect(requests).toHaveLength(1)
    }
    const portal = await sseServer(({ response }, index) => {
      if (index === 0) return void response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>')
      stream(response)
    })
    const { client: stream_ } = client(portal.url)
    await waitForStatus(stream_, 'open', 3000)
    expect(portal.requests).toHaveLength(2)
  })

  it('an event past maxEventChars ends the stream with 1009 and MESSAGE_TOO_LARGE; memory stays bounded', async () => {
    const { url } = await sseServer(({ response }, index) => {
      stream(response)
      if (index === 0) response.write(`data: ${'x'.repeat(5000)}`)
    })
    const { client: stream_, messages } = client(url, { maxEventChars: 1000 })
    await waitFor(() => stream_.getSnapshot().lastClose?.code === 1009, 3000, 'close 1009')
    expect(stream_.getSnapshot().lastError?.code).toBe('MESSAGE_TOO_LARGE')
    expect(messages).toHaveLength(0)
    await waitForStatus(stream_, 'open', 3000)
  })

  it("the reference server's lifeline:close carries its close code (1001: spread retry), and control events are not messages", async () => {
    const { url, requests } = await sseServer(({ response }, index) => {
      stream(response)
      response.write('id: e:1\nevent: lifeline:subscribed\ndata: {"resumed":false}\n\n')
      if (index === 0) response.write('event: lifeline:close\ndata: {"code":1001,"reason":"server shutting down"}\n\n')
    })
    const { client: stream_, messages } = client(url)
    await waitFor(() => requests.length === 2, 3000, 'a reconnect')
    expect(stream_.getSnapshot().lastClose).toMatchObject({ code: 1001, reason: 'server shutting down' })
    expect(requests[1]!.headers['last-event-id']).toBe('e:1')
    expect(messages).toHaveLength(0)
  })

  it('close() cuts the request; offline waits without requests; send throws NOT_SUPPORTED', async () => {
    const { url, requests } = await sseServer(({ response }) => stream(response))
    const { client: stream_ } = client(url)
    await waitForStatus(stream_, 'open', 2000)
    expect(() => stream_.send('x')).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED' }))
    simulateFault(stream_, 'drop-link')
    simulateFault(stream_, 'offline')
    expect(stream_.getSnapshot().status).toBe('offline')
    await sleep(200)
    expect(requests).toHaveLength(1)
    simulateFault(stream_, 'online')
    await waitForStatus(stream_, 'open', 2000)
    expect(requests).toHaveLength(2)
    stream_.close()
    await waitForStatus(stream_, 'closed', 1000)
    await waitFor(() => requests[1]!.gone, 1000, 'the request to end')
    expect(stream_.resources()).toMatchObject({ sockets: 0 })
  })
  it('a tab coming back into view retries at once instead of waiting out a long backoff', async () => {
    let visible = true
    const listeners = new Set<(value: boolean) => void>()
    const visibility = {
      get: () => visible,
      subscribe(listener: (value: boolean) => void) {
        listeners.add(listener)
        return () => void listeners.delete(listener)
      },
    }
    const { url, requests } = await sseServer(({ response }, index) => {
      if (index === 0) return void response.writeHead(500).end()
      stream(response)
    })
    const { client: stream_ } = client(url, {}, { minDelayMs: 20_000, maxDelayMs: 30_000, environment: { visibility } })
    await waitForStatus(stream_, 'reconnecting', 2000)
    visible = false
    for (const listener of listeners) listener(false)
    await sleep(100)
    expect(requests).toHaveLength(1)
    visible = true
    for (const listener of listeners) listener(true)
    await waitForStatus(stream_, 'open', 2000)
    expect(requests).toHaveLength(2)
  })
})

describe('eventSource(): options', () => {
  it('refuses protocol, fallback and heartbeat with an event stream, and ws:// URLs are mapped to http://', () => {
    expect(() =>
      createLifeline({ url: 'http://127.0.0.1:1/e', transport: eventSource(), heartbeat: true, autoConnect: false }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    const mapped = createLifeline({ url: 'ws://127.0.0.1:1/e', transport: eventSource(), autoConnect: false })
    expect(mapped.url).toBe('http://127.0.0.1:1/e')
    mapped.dispose()
  })

  it('refuses an http:// stream from an https page (mixed content)', () => {
    const environment = { location: { href: 'https://app.example/', protocol: 'https:' } }
    expect(() =>
      createLifeline({ url: 'http://api.example/e', transport: eventSource(), environment, autoConnect: false }),
    ).toThrow(expect.objectContaining({ code: 'INSECURE_TRANSPORT' }))
  })
})
