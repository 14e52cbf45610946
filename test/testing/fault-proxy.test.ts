import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { connect as connectTcp } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { createEchoServer, createFaultProxy, FaultProxyError } from '../../src/testing'
import type { EchoServer, FaultProxy } from '../../src/testing'
import { parseFaultProxyTarget } from '../../src/testing/fault-proxy'

interface ClientLog {
  readonly socket: WebSocket
  readonly messages: Array<{ readonly data: Buffer; readonly isBinary: boolean }>
  opened: boolean
  openedAt: number
  error: (Error & { code?: string }) | null
  close: { readonly code: number; readonly reason: string; readonly at: number } | null
  response: { readonly status: number; readonly body: string } | null
}

interface ServerSideLog {
  close: { readonly code: number } | null
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `predicate` every 5 ms; rejects after `timeout` ms (never more than 5 s). */
async function waitFor(label: string, predicate: () => boolean, timeout = 5_000): Promise<void> {
  const deadline = performance.now() + timeout
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${String(timeout)} ms waiting for ${label}`)
    await sleep(5)
  }
}

let server: EchoServer
let proxy: FaultProxy
const clients: WebSocket[] = []
const rawSockets: Socket[] = []
const serverSide: ServerSideLog[] = []

function watch(url: string): ClientLog {
  const socket = new WebSocket(url)
  clients.push(socket)
  const log: ClientLog = { socket, messages: [], opened: false, openedAt: 0, error: null, close: null, response: null }
  socket.on('open', () => {
    log.opened = true
    log.openedAt = performance.now()
  })
  socket.on('message', (data: Buffer, isBinary: boolean) => log.messages.push({ data, isBinary }))
  socket.on('error', (error: Error) => {
    log.error = error
  })
  socket.on('close', (code: number, reason: Buffer) => {
    log.close = { code, reason: reason.toString(), at: performance.now() }
  })
  socket.on('unexpected-response', (request, response: IncomingMessage) => {
    let body = ''
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => {
      body += chunk
    })
    response.on('end', () => {
      log.response = { status: response.statusCode ?? 0, body }
      request.destroy()
    })
  })
  return log
}

async function open(url = proxy.url): Promise<ClientLog> {
  const log = watch(url)
  await waitFor('open', () => {
    if (log.close !== null) throw new Error(`closed before open: ${String(log.close.code)} ${String(log.error)}`)
    return log.opened
  })
  return log
}

async function roundTrip(log: ClientLog, payload: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  const before = log.messages.length
  log.socket.send(payload)
  await waitFor('echo', () => log.messages.length > before)
  const reply = log.messages[before]
  if (reply === undefined) throw new Error('no reply')
  return reply
}

function rawConnect(): Promise<{ socket: Socket; events: { error: string | null; ended: boolean; closed: boolean } }> {
  return new Promise((resolve, reject) => {
    const events = { error: null as string | null, ended: false, closed: false }
    const socket = connectTcp({ host: '127.0.0.1', port: proxy.port }, () => resolve({ socket, events }))
    rawSockets.push(socket)
    socket.on('error', (error: NodeJS.ErrnoException) => {
      events.error = error.code ?? error.message
      reject(error)
    })
    socket.on('end', () => {
      events.ended = true
    })
    socket.on('close', () => {
      events.closed = true
    })
  })
}

beforeEach(async () => {
  server = await createEchoServer()
  server.onConnection(({ socket }) => {
    const log: ServerSideLog = { close: null }
    serverSide.push(log)
    socket.on('close', (code: number) => {
      log.close = { code }
    })
  })
  proxy = await createFaultProxy({ target: server.url })
})

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.terminate()
  for (const socket of rawSockets.splice(0)) socket.destroy()
  serverSide.length = 0
  await proxy.close()
  await server.close()
})

describe('createFaultProxy', () => {
  it('does forward text and binary messages both ways and counts live connections', async () => {
    const client = await open()
    expect(proxy.url).toBe(`ws://127.0.0.1:${String(proxy.port)}`)
    expect(proxy.connections).toBe(1)
    expect((await roundTrip(client, 'hello')).data.toString()).toBe('hello')
    const binary = await roundTrip(client, Buffer.from([1, 2, 3]))
    expect(binary.isBinary).toBe(true)
    expect([...binary.data]).toEqual([1, 2, 3])
    client.socket.close()
    await waitFor('proxy connection gone', () => proxy.connections === 0)
  })

  it('does blackhole open links: bytes stop, neither side sees a close, and the link stays dead after restore', async () => {
    const client = await open()
    await roundTrip(client, 'before')
    proxy.blackhole()
    const received = server.received.length
    client.socket.send('lost')
    await sleep(500)
    expect(client.messages).toHaveLength(1)
    expect(server.received).toHaveLength(received)
    expect(client.close).toBeNull()
    expect(serverSide[0]?.close).toBeNull()
    expect(server.connections).toBe(1)
    expect(proxy.stats.bytesDropped).toBeGreaterThan(0)

    proxy.restore()
    client.socket.send('still lost')
    const fresh = await open()
    expect((await roundTrip(fresh, 'after')).data.toString()).toBe('after')
    expect(client.messages).toHaveLength(1)
  })

  it('does accept new connections while blackholed without ever answering them', async () => {
    proxy.blackhole()
    const client = watch(proxy.url)
    await waitFor('proxy accepted', () => proxy.connections === 1)
    await sleep(300)
    expect(client.opened).toBe(false)
    expect(client.close).toBeNull()
    expect(server.totalConnections).toBe(0)
  })

  it('does keep a blackholed link half-open when one end leaves, and frees it once both have gone', async () => {
    const client = await open()
    const bornBlackholed = watch(proxy.url)
    proxy.blackhole()
    await waitFor('two proxied', () => proxy.connections === 2)
    server.terminateAll()
    await sleep(300)
    expect(client.close).toBeNull()
    client.socket.terminate()
    bornBlackholed.socket.terminate()
    await waitFor('proxy sockets freed', () => proxy.connections === 0, 1_000)
  })

  it('does reset live connections with a TCP RST and closes the upstream', async () => {
    const client = await open()
    const raw = await rawConnect()
    await waitFor('both proxied', () => proxy.connections === 2 && serverSide.length === 1)
    const started = performance.now()
    proxy.reset()
    await waitFor('client close', () => client.close !== null, 1_000)
    expect(performance.now() - started).toBeLessThan(500)
    expect(client.close?.code).toBe(1006)
    await waitFor('raw socket reset', () => raw.events.closed, 1_000)
    expect(raw.events.error).toBe('ECONNRESET')
    expect(raw.events.ended).toBe(false)
    await waitFor('server side close', () => serverSide[0]?.close !== null, 1_000)
    expect(serverSide[0]?.close?.code).toBe(1006)
    expect(proxy.connections).toBe(0)
  })

  it('does end live connections with a FIN and no close frame', async () => {
    const client = await open()
    const raw = await rawConnect()
    await waitFor('both proxied', () => proxy.connections === 2)
    proxy.fin()
    await waitFor('client close', () => client.close !== null, 1_000)
    expect(client.close?.code).toBe(1006)
    expect(client.error).toBeNull()
    await waitFor('raw socket end', () => raw.events.ended, 1_000)
    expect(raw.events.error).toBeNull()
    await waitFor('server side close', () => serverSide[0]?.close !== null, 1_000)
    expect(serverSide[0]?.close?.code).toBe(1006)
  })

  it('does delay every chunk in both directions, keep order, and drop the delay on delay(0)', async () => {
    const client = await open()
    let started = performance.now()
    await roundTrip(client, 'warm')
    expect(performance.now() - started).toBeLessThan(150)

    proxy.delay(150)
    started = performance.now()
    await roundTrip(client, 'slow')
    expect(performance.now() - started).toBeGreaterThanOrEqual(300)

    const before = client.messages.length
    for (let index = 0; index < 20; index += 1) client.socket.send(String(index))
    await waitFor('20 echoes', () => client.messages.length === before + 20)
    expect(client.messages.slice(before).map((message) => message.data.toString())).toEqual(
      Array.from({ length: 20 }, (_, index) => String(index)),
    )

    proxy.delay(0)
    started = performance.now()
    await roundTrip(client, 'fast')
    expect(performance.now() - started).toBeLessThan(150)
  })

  it('does slice data into 1-byte chunks, handshake included, and keeps payloads byte-identical', async () => {
    proxy.slice(1)
    const client = await open()
    const handshakeChunks = proxy.stats.chunksForwarded
    expect(handshakeChunks).toBeGreaterThan(200)

    const payload = randomBytes(10 * 1024)
    const before = proxy.stats.chunksForwarded
    const reply = await roundTrip(client, payload)
    expect(reply.isBinary).toBe(true)
    expect(reply.data.equals(payload)).toBe(true)
    expect(proxy.stats.chunksForwarded - before).toBeGreaterThanOrEqual(2 * payload.length)

    const text = 'héllo wörld 👋 — 1-byte slices split UTF-8 sequences'
    expect((await roundTrip(client, text)).data.toString('utf8')).toBe(text)

    proxy.slice(0)
    const unsliced = proxy.stats.chunksForwarded
    expect((await roundTrip(client, payload)).data.equals(payload)).toBe(true)
    expect(proxy.stats.chunksForwarded - unsliced).toBeLessThan(20)
  })

  it('does answer new upgrades with the rejectUpgrade status instead of forwarding, until acceptUpgrade', async () => {
    proxy.rejectUpgrade(403)
    const client = watch(proxy.url)
    await waitFor('HTTP response', () => client.response !== null)
    expect(client.response?.status).toBe(403)
    expect(JSON.parse(client.response?.body ?? '')).toEqual({ error: 'Forbidden' })
    expect(client.opened).toBe(false)
    expect(server.totalConnections).toBe(0)
    expect(proxy.stats.rejected).toBe(1)

    proxy.rejectUpgrade(503, 'maintenance')
    const second = watch(proxy.url)
    await waitFor('HTTP response', () => second.response !== null)
    expect(second.response).toEqual({ status: 503, body: 'maintenance' })

    proxy.acceptUpgrade()
    await open()
    expect(server.totalConnections).toBe(1)
    await waitFor('rejected sockets closed', () => proxy.connections === 1)
  })

  it('does kill new connections the given time after the handshake response reaches the client', async () => {
    const survivor = await open()
    proxy.killAfterOpen(150)
    const client = watch(proxy.url)
    await waitFor('open then close', () => client.close !== null)
    expect(client.opened).toBe(true)
    expect(client.close?.code).toBe(1006)
    expect((client.close?.at ?? 0) - client.openedAt).toBeGreaterThanOrEqual(100)

    proxy.killAfterOpen()
    const immediate = watch(proxy.url)
    await waitFor('open then close', () => immediate.close !== null)
    expect(immediate.opened).toBe(true)
    expect(immediate.close?.code).toBe(1006)

    expect(survivor.close).toBeNull()
    proxy.restore()
    const fresh = await open()
    await sleep(200)
    expect(fresh.close).toBeNull()
    expect((await roundTrip(fresh, 'alive')).data.toString()).toBe('alive')
  })

  it('does refuse new connections with an immediate reset until restore', async () => {
    proxy.refuse()
    const client = watch(proxy.url)
    await waitFor('close', () => client.close !== null, 1_000)
    expect(client.opened).toBe(false)
    expect(client.error?.code).toBe('ECONNRESET')
    expect(server.totalConnections).toBe(0)
    expect(proxy.stats.refused).toBe(1)

    proxy.restore()
    await open()
    expect(server.totalConnections).toBe(1)
  })

  it('does leave no connections after close, is idempotent, and stops listening', async () => {
    const first = await open()
    const second = await open()
    proxy.blackhole()
    watch(proxy.url)
    await waitFor('three connections', () => proxy.connections === 3)
    await proxy.close()
    await proxy.close()
    expect(proxy.connections).toBe(0)
    await waitFor('clients closed', () => first.close !== null && second.close !== null, 1_000)
    const late = watch(proxy.url)
    await waitFor('refused', () => late.close !== null, 1_000)
    expect(late.error?.code).toBe('ECONNREFUSED')
  })

  it('does reach the target through a dead upstream as a reset to the client', async () => {
    await server.kill()
    const client = watch(proxy.url)
    await waitFor('close', () => client.close !== null, 1_000)
    expect(client.opened).toBe(false)
    expect(client.error?.code).toBe('ECONNRESET')
    await waitFor('proxy connection gone', () => proxy.connections === 0, 1_000)
  })

  it('does parse targets and reject bad ones and bad arguments with a typed error', () => {
    expect(parseFaultProxyTarget('ws://localhost:8080/socket')).toEqual({ host: 'localhost', port: 8080 })
    expect(parseFaultProxyTarget('wss://example.test')).toEqual({ host: 'example.test', port: 443 })
    expect(parseFaultProxyTarget('[::1]:9000')).toEqual({ host: '::1', port: 9000 })
    expect(parseFaultProxyTarget('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 })
    expect(parseFaultProxyTarget({ port: 1234 })).toEqual({ host: '127.0.0.1', port: 1234 })
    for (const target of ['nonsense', 'host:0', 'host:99999', 'gopher://x']) {
      expect(() => parseFaultProxyTarget(target)).toThrow(
        expect.objectContaining({ code: 'FAULT_PROXY_INVALID_TARGET' }) as Error,
      )
    }
    expect(() => proxy.delay(-1)).toThrow(FaultProxyError)
    expect(() => proxy.slice(1.5)).toThrow(expect.objectContaining({ code: 'FAULT_PROXY_INVALID_ARGUMENT' }) as Error)
    expect(() => proxy.rejectUpgrade(42)).toThrow(FaultProxyError)
    expect(() => proxy.killAfterOpen(Number.NaN)).toThrow(FaultProxyError)
  })
})

interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** Records every plain HTTP request (426 to one with Sec-WebSocket-Key, else 200); echoes over WebSocket. */
async function createRecordingTarget(): Promise<{
  port: number
  requests: RecordedRequest[]
  upgrades: () => number
  close: () => Promise<void>
}> {
  const requests: RecordedRequest[] = []
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })))
  let upgrades = 0
  const http = createHttpServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      body += chunk
    })
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body })
      const wantsUpgrade = request.headers['sec-websocket-key'] !== undefined
      response.writeHead(wantsUpgrade ? 426 : 200, { 'Content-Type': 'application/json' })
      response.end(JSON.stringify(wantsUpgrade ? { error: 'upgrade required' } : { ok: true }))
    })
  })
  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades += 1
    wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    requests,
    upgrades: () => upgrades,
    async close() {
      for (const client of wss.clients) client.terminate()
      http.closeAllConnections()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/** Writes `pieces` to a raw TCP connection 20 ms apart and collects what comes back until the peer ends. */
function rawExchange(port: number, pieces: readonly string[]): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    let text = ''
    let error: string | null = null
    const socket = connectTcp({ host: '127.0.0.1', port }, () => {
      pieces.forEach((piece, index) => setTimeout(() => socket.write(piece), index * 20))
    })
    rawSockets.push(socket)
    // Bounded: a connection the proxy wrongly kept alive fails the test's assertions instead of timing it out.
    setTimeout(() => socket.destroy(), 3000).unref()
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      text += chunk
    })
    socket.on('error', (cause: NodeJS.ErrnoException) => {
      error = cause.code ?? cause.message
    })
    socket.on('close', () => resolve({ text, error }))
  })
}

const upgradeHead = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: target.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`

describe('createFaultProxy blockWebSocket', () => {
  let target: Awaited<ReturnType<typeof createRecordingTarget>>
  let blocker: FaultProxy
  let httpBase: string

  beforeEach(async () => {
    target = await createRecordingTarget()
    blocker = await createFaultProxy({ target: { port: target.port } })
    httpBase = `http://127.0.0.1:${String(blocker.port)}`
  })

  afterEach(async () => {
    for (const socket of clients.splice(0)) socket.terminate()
    await blocker.close()
    await target.close()
  })

  it('does strip Upgrade from new upgrades (the server sees a plain GET), pass plain HTTP, until unblocked', async () => {
    const before = await open(`${blocker.url}/ws`)
    blocker.blockWebSocket()
    expect(blocker.faults.blockWebSocket).toBe('strip')

    const blocked = watch(`${blocker.url}/ws`)
    await waitFor('HTTP response', () => blocked.response !== null)
    expect(blocked.response?.status).toBe(426)
    expect(blocked.opened).toBe(false)
    expect(target.upgrades()).toBe(1)
    const stripped = target.requests.at(-1)
    expect(stripped?.url).toBe('/ws')
    expect(stripped?.headers.upgrade).toBeUndefined()
    expect(stripped?.headers.connection).toBe('close')
    expect(stripped?.headers['sec-websocket-key']).toEqual(expect.any(String))

    const response = await fetch(`${httpBase}/probe?x=1`, { cache: 'no-store' })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true })
    expect(target.requests.at(-1)).toMatchObject({ method: 'GET', url: '/probe?x=1' })
    expect(blocker.stats.blockedUpgrades).toBe(1)
    expect((await roundTrip(before, 'still here')).data.toString()).toBe('still here')

    blocker.unblockWebSocket()
    expect(blocker.faults.blockWebSocket).toBeNull()
    const after = await open(`${blocker.url}/ws`)
    expect((await roundTrip(after, 'through')).data.toString()).toBe('through')
    expect(target.upgrades()).toBe(2)
  })

  it('does answer new upgrades itself with blockWebSocket({ status, body }), never reaching the target', async () => {
    blocker.blockWebSocket({ status: 400 })
    expect(blocker.faults.blockWebSocket).toEqual({ status: 400, body: undefined })
    const first = watch(`${blocker.url}/ws`)
    await waitFor('HTTP response', () => first.response !== null)
    expect(first.response).toEqual({ status: 400, body: JSON.stringify({ error: 'Bad Request' }) })

    blocker.blockWebSocket({ status: 403, body: 'no websockets here' })
    const second = watch(`${blocker.url}/ws`)
    await waitFor('HTTP response', () => second.response !== null)
    expect(second.response).toEqual({ status: 403, body: 'no websockets here' })
    expect(target.requests).toHaveLength(0)
    expect(target.upgrades()).toBe(0)
    expect(blocker.stats.blockedUpgrades).toBe(2)

    const response = await fetch(`${httpBase}/submit`, { method: 'POST', body: 'payload' })
    expect(response.status).toBe(200)
    expect(target.requests).toEqual([expect.objectContaining({ method: 'POST', url: '/submit', body: 'payload' })])
  })

  it('does reset new upgrades with blockWebSocket("reset") while plain HTTP passes', async () => {
    blocker.blockWebSocket('reset')
    const client = watch(`${blocker.url}/ws`)
    await waitFor('close', () => client.close !== null)
    expect(client.opened).toBe(false)
    expect(client.error?.code).toBe('ECONNRESET')
    expect(target.requests).toHaveLength(0)
    expect((await fetch(`${httpBase}/plain`)).status).toBe(200)
  })

  it('does screen a request head that arrives in pieces', async () => {
    blocker.blockWebSocket({ status: 418 })
    const head = upgradeHead('/ws')
    const cut = head.indexOf('Upgrade:') + 3
    const answer = await rawExchange(blocker.port, [head.slice(0, cut), head.slice(cut)])
    expect(answer.text).toMatch(/^HTTP\/1\.1 418 /)
    expect(target.requests).toHaveLength(0)
    expect(blocker.stats.blockedUpgrades).toBe(1)
  })

  it('does forward a plain request with its body, sliced, as the only request of its connection', async () => {
    blocker.blockWebSocket()
    blocker.slice(1)
    const forwardedBefore = blocker.stats.chunksForwarded
    const post =
      'POST /submit HTTP/1.1\r\nHost: target.test\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello'
    // A kept-alive connection must not carry a later upgrade past the proxy: the server closes it after one answer.
    const answer = await rawExchange(blocker.port, [post, upgradeHead('/ws')])
    // The server closes after its answer while the client still writes the upgrade, so a RST may cut the sliced answer
    // short: what arrived must be the start of a 200, never a 101.
    const start = answer.text.slice(0, 13)
    expect(start.length).toBeGreaterThan(0)
    expect('HTTP/1.1 200 '.startsWith(start)).toBe(true)
    expect(answer.text).not.toMatch(/HTTP\/1\.1 101/)
    expect(target.requests).toEqual([expect.objectContaining({ method: 'POST', body: 'hello' })])
    expect(target.requests[0]?.headers.connection).toBe('close')
    expect(target.upgrades()).toBe(0)
    // One write per byte: the re-queued head went through the link's slicing like any other data. The request the
    // server got says `Connection: close` instead of `keep-alive`; the answer may be cut short by the RST, so only the
    // request's own bytes are certain.
    const forwardedRequest = post.length - 'keep-alive'.length + 'close'.length
    expect(blocker.stats.chunksForwarded - forwardedBefore).toBeGreaterThanOrEqual(forwardedRequest)
  })

  it('does clear the block on restore and reject bad arguments with a typed error', () => {
    blocker.blockWebSocket('reset')
    blocker.restore()
    expect(blocker.faults.blockWebSocket).toBeNull()
    expect(() => blocker.blockWebSocket({ status: 42 })).toThrow(
      expect.objectContaining({ code: 'FAULT_PROXY_INVALID_ARGUMENT' }) as Error,
    )
    expect(() => blocker.blockWebSocket({ status: 400, body: 5 as unknown as string })).toThrow(FaultProxyError)
    expect(() => blocker.blockWebSocket('drop' as unknown as 'strip')).toThrow(FaultProxyError)
    expect(blocker.faults.blockWebSocket).toBeNull()
  })
})

describe('createFaultProxy with a streaming HTTP response (Server-Sent Events)', () => {
  it('does forward each event as it is written, in plain and in screening mode, and never cuts the stream', async () => {
    const open = new Set<ServerResponse>()
    const http = createHttpServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' })
      response.write(': open\n\n')
      open.add(response)
      response.on('close', () => open.delete(response))
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const streaming = await createFaultProxy({ target: { port: (http.address() as AddressInfo).port } })
    const controllers: AbortController[] = []
    try {
      for (const screening of [false, true]) {
        if (screening) streaming.blockWebSocket()
        const controller = new AbortController()
        controllers.push(controller)
        const response = await fetch(`http://127.0.0.1:${String(streaming.port)}/events`, {
          headers: { accept: 'text/event-stream' },
          signal: controller.signal,
        })
        expect(response.headers.get('content-type')).toBe('text/event-stream')
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
        let text = ''
        const readUntil = async (needle: string): Promise<void> => {
          const deadline = performance.now() + 3000
          while (!text.includes(needle)) {
            if (performance.now() > deadline) throw new Error(`no ${JSON.stringify(needle)} in ${JSON.stringify(text)}`)
            const { value, done } = await reader.read()
            if (done) throw new Error(`the stream ended before ${JSON.stringify(needle)}: ${JSON.stringify(text)}`)
            text += value
          }
        }
        await readUntil(': open')
        // Each event reaches the client while the response is still open: nothing waits for its end.
        for (const n of [1, 2]) {
          for (const response of open) response.write(`id: ${String(n)}\ndata: ${String(n)}\n\n`)
          await readUntil(`data: ${String(n)}\n\n`)
          await sleep(n === 1 ? 600 : 0)
        }
        expect(open.size).toBeGreaterThanOrEqual(1)
        controller.abort()
      }
    } finally {
      for (const controller of controllers) controller.abort()
      await streaming.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })
})
