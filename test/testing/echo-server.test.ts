import { get } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createEchoServer, EchoServerError } from '../../src/testing'
import type { EchoServer, EchoServerOptions } from '../../src/testing'

interface ClientLog {
  readonly socket: WebSocket
  readonly messages: Array<{ readonly data: Buffer; readonly isBinary: boolean }>
  opened: boolean
  error: (Error & { code?: string }) | null
  close: { readonly code: number; readonly reason: string } | null
  response: { readonly status: number; readonly body: string } | null
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

const servers: EchoServer[] = []
const clients: WebSocket[] = []

async function start(options?: EchoServerOptions): Promise<EchoServer> {
  const server = await createEchoServer(options)
  servers.push(server)
  return server
}

function watch(url: string, protocol?: string): ClientLog {
  const socket = protocol === undefined ? new WebSocket(url) : new WebSocket(url, protocol)
  clients.push(socket)
  const log: ClientLog = { socket, messages: [], opened: false, error: null, close: null, response: null }
  socket.on('open', () => {
    log.opened = true
  })
  socket.on('message', (data: Buffer, isBinary: boolean) => log.messages.push({ data, isBinary }))
  socket.on('error', (error: Error) => {
    log.error = error
  })
  socket.on('close', (code: number, reason: Buffer) => {
    log.close = { code, reason: reason.toString() }
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

async function open(url: string): Promise<ClientLog> {
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
  await waitFor('reply', () => log.messages.length > before)
  const reply = log.messages[before]
  if (reply === undefined) throw new Error('no reply')
  return reply
}

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.terminate()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

describe('createEchoServer', () => {
  it('does echo text as text and binary as binary and records what it received', async () => {
    const server = await start()
    expect(server.url).toBe(`ws://127.0.0.1:${String(server.port)}`)
    const client = await open(server.url)
    const text = await roundTrip(client, 'hello')
    expect(text).toEqual({ data: Buffer.from('hello'), isBinary: false })
    const binary = await roundTrip(client, Buffer.from([0, 255, 7]))
    expect(binary.isBinary).toBe(true)
    expect([...binary.data]).toEqual([0, 255, 7])
    expect(server.received).toEqual([
      { data: 'hello', isBinary: false, connectionId: 1 },
      { data: Buffer.from([0, 255, 7]), isBinary: true, connectionId: 1 },
    ])
    expect(server.connections).toBe(1)
    expect(server.totalConnections).toBe(1)
  })

  it('does answer ping with pong instead of an echo, configurably', async () => {
    const server = await start()
    const client = await open(server.url)
    expect((await roundTrip(client, 'ping')).data.toString()).toBe('pong')

    const custom = await start({ pong: { ping: '{"type":"ping"}', pong: '{"type":"pong"}' } })
    const customClient = await open(custom.url)
    expect((await roundTrip(customClient, '{"type":"ping"}')).data.toString()).toBe('{"type":"pong"}')
    expect((await roundTrip(customClient, 'ping')).data.toString()).toBe('ping')

    const off = await start({ pong: false })
    expect((await roundTrip(await open(off.url), 'ping')).data.toString()).toBe('ping')
  })

  it('does not echo when echo is false but still records and pongs', async () => {
    const server = await start({ echo: false })
    const client = await open(server.url)
    client.socket.send('quiet')
    await waitFor('received', () => server.received.length === 1)
    expect((await roundTrip(client, 'ping')).data.toString()).toBe('pong')
    expect(client.messages.map((message) => message.data.toString())).toEqual(['pong'])
  })

  it('does close every connection with the given code and reason', async () => {
    const server = await start()
    const client = await open(server.url)
    server.closeAll(4001, 'token expired')
    await waitFor('close', () => client.close !== null)
    expect(client.close).toEqual({ code: 4001, reason: 'token expired' })
    await waitFor('server side gone', () => server.connections === 0)
    expect(() => server.closeAll(1006)).toThrow(EchoServerError)
    expect(() => server.closeAll(4000, 'x'.repeat(124))).toThrow(
      expect.objectContaining({ code: 'ECHO_SERVER_INVALID_ARGUMENT' }) as Error,
    )
  })

  it('does terminate connections without a close frame', async () => {
    const server = await start()
    const client = await open(server.url)
    server.terminateAll()
    await waitFor('close', () => client.close !== null)
    expect(client.close?.code).toBe(1006)
  })

  it('does broadcast with send and unsubscribe onConnection listeners', async () => {
    const server = await start()
    const seen: number[] = []
    const unsubscribe = server.onConnection(({ id }) => seen.push(id))
    const first = await open(server.url)
    unsubscribe()
    const second = await open(server.url)
    expect(seen).toEqual([1])
    expect(server.send('news')).toBe(2)
    expect(server.send(Buffer.from([9]))).toBe(2)
    await waitFor('both got both', () => first.messages.length === 2 && second.messages.length === 2)
    expect(first.messages.map((message) => message.isBinary)).toEqual([false, true])
  })

  it('does go away on kill and come back on the same port on restart', async () => {
    const server = await start()
    const { port } = server
    const client = await open(server.url)
    await server.kill()
    await waitFor('close', () => client.close !== null, 1_000)
    expect(client.close?.code).toBe(1006)
    expect(server.listening).toBe(false)
    const refused = watch(server.url)
    await waitFor('refused', () => refused.close !== null, 1_000)
    expect(refused.error?.code).toBe('ECONNREFUSED')

    await server.restart()
    expect(server.listening).toBe(true)
    expect(server.port).toBe(port)
    const again = await open(server.url)
    expect((await roundTrip(again, 'back')).data.toString()).toBe('back')
    expect(server.totalConnections).toBe(2)
    await server.restart()
  })

  it('does refuse upgrades with rejectAll and rejectNext statuses', async () => {
    const server = await start()
    server.rejectAll(401)
    const refused = watch(server.url)
    await waitFor('response', () => refused.response !== null)
    expect(refused.response?.status).toBe(401)
    expect(JSON.parse(refused.response?.body ?? '')).toEqual({ error: 'Unauthorized' })
    server.rejectAll(null)
    await open(server.url)

    server.rejectNext(503)
    const once = watch(server.url)
    await waitFor('response', () => once.response !== null)
    expect(once.response?.status).toBe(503)
    await open(server.url)
    expect(server.totalConnections).toBe(2)
    expect(() => server.rejectAll(42)).toThrow(EchoServerError)
  })

  it('does close with 1009 for a message over maxPayload (64 KiB by default)', async () => {
    const server = await start()
    const client = await open(server.url)
    expect((await roundTrip(client, Buffer.alloc(64 * 1024, 1))).data.length).toBe(64 * 1024)
    client.socket.send(Buffer.alloc(64 * 1024 + 1, 1))
    await waitFor('close', () => client.close !== null)
    expect(client.close?.code).toBe(1009)
    expect(server.errors).toHaveLength(1)

    const small = await start({ maxPayload: 16 })
    const smallClient = await open(small.url)
    smallClient.socket.send('x'.repeat(17))
    await waitFor('close', () => smallClient.close !== null)
    expect(smallClient.close?.code).toBe(1009)
  })

  it('does refuse upgrades through the handshake hook and the path option', async () => {
    const server = await start({
      path: '/live',
      handshake: (request) => (request.headers['sec-websocket-protocol'] === 'banned' ? 403 : undefined),
    })
    expect(server.url).toBe(`ws://127.0.0.1:${String(server.port)}/live`)
    await open(server.url)
    const wrongPath = watch(`ws://127.0.0.1:${String(server.port)}/other`)
    await waitFor('response', () => wrongPath.response !== null)
    expect(wrongPath.response?.status).toBe(404)
    const banned = watch(server.url, 'banned')
    await waitFor('response', () => banned.response !== null)
    expect(banned.response?.status).toBe(403)
    expect(banned.opened).toBe(false)
  })

  it('does keep only the most recent receivedLimit messages', async () => {
    const server = await start({ receivedLimit: 3 })
    const client = await open(server.url)
    for (const text of ['1', '2', '3', '4', '5']) client.socket.send(text)
    await waitFor('echoes', () => client.messages.length === 5)
    expect(server.received.map((message) => message.data)).toEqual(['3', '4', '5'])
    server.clearReceived()
    expect(server.received).toHaveLength(0)
  })

  it('does answer plain HTTP with 426', async () => {
    const server = await start()
    const status = await new Promise<number>((resolve, reject) => {
      get(`http://127.0.0.1:${String(server.port)}/`, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      }).on('error', reject)
    })
    expect(status).toBe(426)
  })

  it('does close idempotently, leaving no connections, and refuses restart afterwards', async () => {
    const server = await start()
    const client = await open(server.url)
    server.closeAll(4000)
    const closing = server.close()
    expect(server.close()).toBe(closing)
    await closing
    expect(server.connections).toBe(0)
    expect(server.listening).toBe(false)
    await waitFor('client closed', () => client.close !== null, 1_000)
    await expect(server.restart()).rejects.toMatchObject({ code: 'ECHO_SERVER_CLOSED' })
  })
})
