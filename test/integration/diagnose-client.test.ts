import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import { createLifeline, lifelineProtocol } from '../../src/core'
import type { HandshakeError, LifelineClient, LifelineOptions, WebSocketConstructor } from '../../src/core'
import { tinyServer as httpServer } from './tiny-server'
import { createFaultProxy, createTestServer } from '../../src/testing'
import { FAST, waitFor } from './helpers'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A client that diagnoses failed handshakes (on by default only in browsers) and records what it logs. */
function client(url: string, options: Partial<LifelineOptions> = {}) {
  const warnings: string[] = []
  const created: LifelineClient = createLifeline({
    ...FAST,
    url,
    diagnose: true,
    protocol: lifelineProtocol(),
    logger: { debug: () => undefined, warn: (message) => warnings.push(message) },
    ...options,
    environment: { WebSocket: NodeWebSocket as unknown as WebSocketConstructor, ...options.environment },
  })
  cleanups.push(() => created.dispose())
  return { client: created, warnings }
}

const diagnosisOf = (client: LifelineClient) => {
  const error = client.getSnapshot().lastError
  return error?.code === 'HANDSHAKE_FAILED' ? (error as HandshakeError).diagnosis : null
}

async function testServer(options: Parameters<typeof createTestServer>[0] = {}) {
  const server = await createTestServer(options)
  cleanups.push(() => server.close())
  return server
}

const tinyServer = (handler: Parameters<typeof httpServer>[0]) => httpServer(handler, cleanups)

describe('handshake diagnostics in the client', () => {
  it('a refused token (401 on the upgrade) asks getToken() again once, then stops with HANDSHAKE_FAILED unauthorized', async () => {
    const server = await testServer({ authenticateUpgrade: () => null })
    let tokens = 0
    const { client: c, warnings } = client(server.url, {
      getToken: () => `token-${String(++tokens)}`,
    })
    await waitFor(() => c.getSnapshot().status === 'failed', 5000, 'failed')
    const diagnosis = diagnosisOf(c)
    expect(diagnosis).toMatchObject({ kind: 'unauthorized', status: 401 })
    expect(c.getSnapshot().lastError?.hint).toMatch(/token|auth/i)
    // The first attempt's token, then one fresh token after the first diagnosed refusal.
    expect(tokens).toBe(2)
    // Logged once for the streak, not per attempt; never the token.
    expect(warnings).toHaveLength(1)
    expect(warnings.join()).not.toMatch(/token-\d/)
  })

  it('an attempt already under way with the refused token does not count: it stops only once a fresh token was refused', async () => {
    // Upgrades take 300 ms to refuse and probes 150 ms, so an attempt that began with the old token (FAST backoff:
    // 50–100 ms here) is still under way when the first diagnosis asks for a new token, and fails after it.
    let tokens = 0
    const refusedWith: number[] = []
    const server = await testServer({
      authenticateUpgrade: async (request) => {
        const upgrade = request.headers.upgrade !== undefined
        const generation = tokens
        await new Promise((resolve) => setTimeout(resolve, upgrade ? 300 : 150))
        if (upgrade) refusedWith.push(generation)
        return null
      },
    })
    const { client: c } = client(server.url, { getToken: () => `token-${String(++tokens)}`, maxDelayMs: 100 })
    let refusedWhenFailed: number[] = []
    c.subscribe(() => {
      if (c.getSnapshot().status === 'failed' && !refusedWhenFailed.length) refusedWhenFailed = [...refusedWith]
    })
    await waitFor(() => c.getSnapshot().status === 'failed', 8000, 'failed')
    expect(diagnosisOf(c)).toMatchObject({ kind: 'unauthorized', status: 401 })
    // Given up only after an attempt made with the fresh token (generation 2) was refused as well.
    expect(refusedWhenFailed).toContain(2)
  })

  it('a wrong path (404) stops after two attempts instead of retrying forever', async () => {
    const server = await testServer()
    const { client: c } = client(server.url.replace(/\/lifeline$/, '/nope'))
    await waitFor(() => c.getSnapshot().status === 'failed', 5000, 'failed')
    expect(diagnosisOf(c)).toMatchObject({ kind: 'wrong-path', status: 404 })
  })

  it("a foreign origin (403 'origin not allowed') stops with origin-refused", async () => {
    const server = await testServer({ allowedOrigins: ['https://app.example.test'] })
    const origin = 'https://evil.example.test'
    class FromOrigin extends NodeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { origin })
      }
    }
    const { client: c } = client(server.url, {
      environment: {
        WebSocket: FromOrigin as unknown as WebSocketConstructor,
        fetch: (input, init) => {
          const headers = new Headers(init?.headers)
          headers.set('Origin', origin)
          return fetch(input, { ...init, headers })
        },
      },
    })
    await waitFor(() => c.getSnapshot().status === 'failed', 5000, 'failed')
    expect(diagnosisOf(c)).toMatchObject({ kind: 'origin-refused', status: 403 })
  })

  it("a rate limit's Retry-After holds the next attempt back at least that long", async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(429, { 'Retry-After': '2', 'Content-Type': 'application/json' })
      response.end(JSON.stringify({ error: 'too many connections' }))
    })
    const { client: c } = client(server.url)
    await waitFor(() => diagnosisOf(c)?.kind === 'rate-limited', 3000, 'rate-limited diagnosis')
    const diagnosedAt = Date.now()
    const snapshot = c.getSnapshot()
    expect(snapshot.status).toBe('reconnecting')
    expect(snapshot.nextRetryAt! - diagnosedAt).toBeGreaterThan(1500)
    expect(diagnosisOf(c)).toMatchObject({ retryAfterMs: 2000, reason: 'too many connections' })
    // No attempt before the wait is over (FAST backoff alone would have tried several times by now).
    const before = server.requests()
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect(server.requests()).toBe(before)
  })

  it('an upgrade stripped by a proxy is diagnosed, and the client keeps retrying (no fallback configured)', async () => {
    const server = await testServer()
    const proxy = await createFaultProxy({ target: server.url })
    cleanups.push(() => proxy.close())
    proxy.blockWebSocket('strip')
    const { client: c, warnings } = client(`${proxy.url}/lifeline`)
    await waitFor(() => diagnosisOf(c)?.kind === 'upgrade-stripped', 3000, 'upgrade-stripped diagnosis')
    await waitFor(() => c.getSnapshot().attempt >= 3, 5000, 'three attempts')
    expect(c.getSnapshot().status).not.toBe('failed')
    expect(warnings.filter((line) => line.includes('upgrade-stripped'))).toHaveLength(1)
    expect(warnings[0]).toMatch(/proxy/)
    proxy.unblockWebSocket()
    await waitFor(() => c.getSnapshot().status === 'open', 3000, 'open once the proxy passes upgrades')
    expect(c.getSnapshot().lastError).toBeNull()
  })

  it('a server error (authenticateUpgrade throws: 500) and an unreachable port keep retrying with the finding in lastError', async () => {
    const server = await testServer({
      authenticateUpgrade: () => {
        throw new Error('database down')
      },
    })
    const { client: failing } = client(server.url)
    await waitFor(() => diagnosisOf(failing)?.kind === 'server-error', 3000, 'server-error diagnosis')
    const closed = await tinyServer(() => undefined)
    cleanups.pop()!()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const { client: nowhere } = client(closed.url)
    await waitFor(() => diagnosisOf(nowhere)?.kind === 'unreachable', 3000, 'unreachable diagnosis')
    await waitFor(() => failing.getSnapshot().attempt >= 3 && nowhere.getSnapshot().attempt >= 3, 5000, 'retries')
    expect([failing.getSnapshot().status, nowhere.getSnapshot().status]).not.toContain('failed')
  })

  it('probes an outage twice, not on every retry, and again after retry()', async () => {
    const closed = await tinyServer(() => undefined)
    await cleanups.pop()!()
    let probes = 0
    const { client: c, warnings } = client(closed.url, {
      environment: {
        WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
        fetch: (input, init) => {
          // One probe, one GET (an unreachable host gets a second, no-cors one to tell it from a CORS refusal).
          if (init?.mode !== 'no-cors') probes += 1
          return fetch(input, init)
        },
      },
    })
    const codes: Array<string | undefined> = []
    c.subscribe(() => {
      const code = c.getSnapshot().lastError?.code
      if (codes.at(-1) !== code) codes.push(code)
    })
    await waitFor(() => c.getSnapshot().attempt >= 6, 5000, 'six attempts')
    expect(probes).toBe(2)
    // Once diagnosed, the finding stays in lastError: no flicker back to a bare TRANSPORT_ERROR on each attempt.
    expect(codes.slice(codes.indexOf('HANDSHAKE_FAILED'))).toEqual(['HANDSHAKE_FAILED'])
    expect(diagnosisOf(c)?.kind).toBe('unreachable')
    expect(warnings).toHaveLength(1)
    c.retry()
    await waitFor(() => probes === 3, 3000, 'a probe after retry()')
  })

  it('is off by default outside browsers: a failed upgrade leaves the close in lastError and sends no probe', async () => {
    const server = await tinyServer((_, response) => {
      response.writeHead(503)
      response.end()
    })
    const c = createLifeline({
      ...FAST,
      url: server.url,
      environment: { WebSocket: NodeWebSocket as unknown as WebSocketConstructor },
    })
    cleanups.push(() => c.dispose())
    await waitFor(() => c.getSnapshot().attempt >= 2, 3000, 'two attempts')
    expect(c.getSnapshot().lastError?.code).not.toBe('HANDSHAKE_FAILED')
    // Every request was an upgrade attempt: no GET probe.
    expect(server.requests()).toBe(c.getSnapshot().attempt)
  })
})
