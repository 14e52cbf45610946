import type { IncomingMessage } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { ClientOptions } from 'ws'
import { diagnoseHandshake } from '../../src/core/diagnose'
import type { DiagnoseEnvironment } from '../../src/core/diagnose'
import { tinyServer as httpServer } from './tiny-server'
import { createFaultProxy, createTestServer } from '../../src/testing'
import type { WebSocketBlock } from '../../src/testing/fault-proxy'

const ALLOWED = 'https://app.example.test'
const FOREIGN = 'https://evil.example.test'

const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** How a real `ws` handshake failed: the HTTP status it got instead of 101, or the socket error. */
interface UpgradeFailure {
  readonly status: number | null
  readonly error: string | null
}

/** Opens a real `ws` WebSocket and resolves how its handshake failed; rejects if it opens. */
function failedUpgrade(url: string, options: ClientOptions = {}): Promise<UpgradeFailure> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 2000, ...options })
    socket.on('open', () => {
      socket.terminate()
      reject(new Error(`the upgrade to ${url} succeeded`))
    })
    socket.on('unexpected-response', (request, response: IncomingMessage) => {
      resolve({ status: response.statusCode ?? null, error: null })
      request.destroy()
    })
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ status: null, error: error.code ?? error.message }))
  })
}

/** Resolves once a real `ws` WebSocket opens (then closes it). */
function openedUpgrade(url: string, options: ClientOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 2000, ...options })
    socket.on('open', () => {
      socket.terminate()
      resolve()
    })
    socket.on('error', reject)
  })
}

/** Node's fetch with an `Origin` header, as a browser page on `origin` would send. */
const fetchFrom =
  (origin: string): typeof fetch =>
  (input, init) => {
    const headers = new Headers(init?.headers)
    headers.set('Origin', origin)
    return fetch(input, { ...init, headers })
  }

const probe = (url: string, env: Partial<DiagnoseEnvironment> = {}) =>
  diagnoseHandshake(url, { online: true, timeoutMs: 2000, ...env })

async function testServer(options: Parameters<typeof createTestServer>[0] = {}) {
  const server = await createTestServer(options)
  cleanups.push(() => server.close())
  return server
}

const tinyServer = (handler: Parameters<typeof httpServer>[0]) => httpServer(handler, cleanups)

describe('diagnoseHandshake against real servers', () => {
  it('does diagnose origin-refused from the reference server refusing a foreign Origin (403)', async () => {
    const server = await testServer({ allowedOrigins: [ALLOWED] })
    expect(await failedUpgrade(server.url, { origin: FOREIGN })).toEqual({ status: 403, error: null })
    const result = await probe(server.url, { fetch: fetchFrom(FOREIGN) })
    expect(result).toMatchObject({ kind: 'origin-refused', status: 403, reason: 'origin not allowed' })
    expect(result.hint).toMatch(/allowedOrigins/)

    // The same server and URL from an allowed origin: the upgrade works, so the origin was the cause.
    await openedUpgrade(server.url, { origin: ALLOWED })
    expect((await probe(server.url, { fetch: fetchFrom(ALLOWED) })).kind).not.toBe('origin-refused')
  })

  it('does diagnose origin-refused when the server requires an Origin and none was sent', async () => {
    const server = await testServer({ allowedOrigins: [ALLOWED], allowNoOrigin: false })
    expect(await failedUpgrade(server.url)).toEqual({ status: 403, error: null })
    expect(await probe(server.url)).toMatchObject({ kind: 'origin-refused', reason: 'origin required' })
  })

  it('does diagnose unauthorized from authenticateUpgrade returning null (401)', async () => {
    const server = await testServer({ authenticateUpgrade: () => null })
    expect(await failedUpgrade(server.url)).toEqual({ status: 401, error: null })
    const result = await probe(server.url)
    expect(result).toMatchObject({ kind: 'unauthorized', status: 401, reason: 'unauthorized' })
  })

  it('does diagnose wrong-path from a URL off the server path (404)', async () => {
    const server = await testServer()
    const wrong = server.url.replace(/\/lifeline$/, '/socket')
    expect(await failedUpgrade(wrong)).toEqual({ status: 404, error: null })
    expect(await probe(wrong)).toMatchObject({ kind: 'wrong-path', status: 404 })
  })

  it.each<[string, WebSocketBlock, UpgradeFailure]>([
    ['strips the Upgrade header', 'strip', { status: 426, error: null }],
    ['answers upgrades with 400', { status: 400 }, { status: 400, error: null }],
    ['resets upgrades', 'reset', { status: null, error: 'ECONNRESET' }],
  ])('does diagnose upgrade-stripped behind a proxy that %s (the probe gets 426)', async (_, how, failure) => {
    const server = await testServer()
    const proxy = await createFaultProxy({ target: server.url })
    cleanups.push(() => proxy.close())
    const url = `${proxy.url}/lifeline`
    await openedUpgrade(url)
    proxy.blockWebSocket(how)
    expect(await failedUpgrade(url)).toEqual(failure)
    const result = await probe(url)
    expect(result).toMatchObject({ kind: 'upgrade-stripped', status: 426, reason: 'upgrade required' })
    expect(result.hint).toMatch(/proxy/)
    proxy.unblockWebSocket()
    await openedUpgrade(url)
  })

  it('does diagnose rate-limited with Retry-After seconds from a 429', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'application/json' })
      response.end(JSON.stringify({ error: 'too many connections' }))
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 429, error: null })
    const result = await probe(server.url)
    expect(result).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 7000,
      reason: 'too many connections',
    })
  })

  it('does diagnose rate-limited with a Retry-After HTTP date from a 503', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(503, { 'Retry-After': new Date(Date.now() + 20_000).toUTCString() })
      response.end('Service Unavailable')
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 503, error: null })
    const result = await probe(server.url)
    expect(result).toMatchObject({ kind: 'rate-limited', status: 503, reason: null })
    // HTTP dates have whole seconds.
    expect(result.retryAfterMs).toBeGreaterThanOrEqual(18_000)
    expect(result.retryAfterMs).toBeLessThanOrEqual(20_000)
  })

  it('does clamp a hostile Retry-After of a year to 5 minutes', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(429, { 'Retry-After': String(365 * 86_400) })
      response.end()
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 429, error: null })
    expect((await probe(server.url)).retryAfterMs).toBe(300_000)
  })

  it('does diagnose server-error from the reference server whose authenticateUpgrade throws (500)', async () => {
    const server = await testServer({
      authenticateUpgrade: () => {
        throw new Error('database down')
      },
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 500, error: null })
    const result = await probe(server.url)
    expect(result).toMatchObject({ kind: 'server-error', status: 500, reason: 'authentication failed' })
    expect(result.hint).toMatch(/authenticateUpgrade/)
  })

  it('does diagnose server-error from a 502 bad gateway page', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html' })
      response.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 502, error: null })
    expect(await probe(server.url)).toMatchObject({ kind: 'server-error', status: 502, reason: null })
  })

  it('does diagnose unreachable from a closed port', async () => {
    const listener = createTcpServer()
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const { port } = listener.address() as AddressInfo
    await new Promise<void>((resolve) => listener.close(() => resolve()))
    const url = `ws://127.0.0.1:${String(port)}/lifeline`
    expect(await failedUpgrade(url)).toEqual({ status: null, error: 'ECONNREFUSED' })
    const result = await probe(url)
    expect(result).toMatchObject({ kind: 'unreachable', status: null })
    expect(result.hint).toMatch(/Nothing answered/)
  })

  it('does diagnose unreachable after timeoutMs from a server that accepts and never answers', async () => {
    const sockets = new Set<Socket>()
    const silent = createTcpServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          silent.close(() => resolve())
        }),
    )
    const url = `ws://127.0.0.1:${String((silent.address() as AddressInfo).port)}/lifeline`
    const failure = await failedUpgrade(url, { handshakeTimeout: 300 })
    expect(failure.error).toMatch(/handshake has timed out/)
    const started = performance.now()
    const result = await probe(url, { timeoutMs: 300 })
    expect(result).toMatchObject({ kind: 'unreachable', status: null })
    expect(result.hint).toMatch(/300 ms/)
    expect(performance.now() - started).toBeLessThan(1500)
  })

  it('does diagnose offline without sending the server anything', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(426)
      response.end()
    })
    expect(await probe(server.url, { online: false })).toMatchObject({ kind: 'offline', status: null })
    expect(server.requests()).toBe(0)
  })

  it('does diagnose unknown from a captive portal answering 200 with a login page', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      response.end('<!doctype html><title>Guest Wi-Fi</title><form>Accept the terms</form>')
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 200, error: null })
    const result = await probe(server.url)
    expect(result).toMatchObject({ kind: 'unknown', status: 200, reason: null })
    expect(result.hint).toMatch(/captive portal/)
  })

  it('does diagnose unknown from a portal that redirects to its login page, without following it', async () => {
    let followed = false
    const server = await tinyServer((request, response) => {
      if (request.url === '/login') followed = true
      response.writeHead(302, { Location: '/login' })
      response.end()
    })
    expect(await failedUpgrade(server.url)).toEqual({ status: 302, error: null })
    const result = await probe(server.url)
    expect(result).toMatchObject({ kind: 'unknown', status: 302 })
    expect(result.hint).toMatch(/redirect/)
    expect(followed).toBe(false)
  })
})
