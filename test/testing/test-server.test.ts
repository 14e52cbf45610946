import { createServer as createNetServer } from 'node:net'
import type { Server as NetServer } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidOptionsError } from '../../src/core'
import { createTestServer, TestServerError } from '../../src/testing'
import type { TestServer, TestServerOptions } from '../../src/testing'
import { cleanup, connect, connectReady, openClient, waitFor } from '../server/helpers'
import type { TestClient } from '../server/helpers'

const servers: TestServer[] = []
const blockers: NetServer[] = []

async function start(options?: TestServerOptions): Promise<TestServer> {
  const server = await createTestServer(options)
  servers.push(server)
  return server
}

afterEach(async () => {
  await cleanup()
  await Promise.all(servers.splice(0).map((server) => server.close()))
  await Promise.all(blockers.splice(0).map((blocker) => new Promise<void>((resolve) => blocker.close(() => resolve()))))
})

/** Listens on `port` with a plain TCP server, so that the test server cannot. */
async function occupy(port: number): Promise<NetServer> {
  const blocker = createNetServer((socket) => socket.destroy())
  blockers.push(blocker)
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject)
    blocker.listen(port, '127.0.0.1', () => resolve())
  })
  return blocker
}

function release(blocker: NetServer): Promise<void> {
  blockers.splice(blockers.indexOf(blocker), 1)
  return new Promise((resolve) => blocker.close(() => resolve()))
}

/** Opens a client that the server must refuse at the TCP level; resolves with its error code. */
async function refusal(url: string): Promise<string | undefined> {
  const client = openClient(url, { label: 'refused client' })
  await waitFor('the connection to fail', () => client.error !== null || client.opened)
  expect(client.opened).toBe(false)
  return (client.error as (Error & { code?: string }) | null)?.code
}

/**
 * Records every timer created through the globals until `restore()`: `pending()` lists the ones that neither fired
 * nor were cleared (with the delay they were given).
 */
function trackTimers(): { pending(): number[]; restore(): void } {
  const live = new Map<unknown, number>()
  const { setTimeout: realSetTimeout, setInterval: realSetInterval } = globalThis
  const { clearTimeout: realClearTimeout, clearInterval: realClearInterval } = globalThis
  const spies = [
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: (...args: unknown[]) => void, ms?: number) => {
      const handle = realSetTimeout(() => {
        live.delete(handle)
        callback()
      }, ms)
      live.set(handle, ms ?? 0)
      return handle
    }) as unknown as typeof setTimeout),
    vi.spyOn(globalThis, 'setInterval').mockImplementation(((callback: () => void, ms?: number) => {
      const handle = realSetInterval(callback, ms)
      live.set(handle, ms ?? 0)
      return handle
    }) as unknown as typeof setInterval),
    vi.spyOn(globalThis, 'clearTimeout').mockImplementation((handle) => {
      live.delete(handle)
      realClearTimeout(handle)
    }),
    vi.spyOn(globalThis, 'clearInterval').mockImplementation((handle) => {
      live.delete(handle)
      realClearInterval(handle)
    }),
  ]
  return {
    pending: () => [...live.values()],
    restore: () => {
      for (const spy of spies) spy.mockRestore()
    },
  }
}

/** Sends a `pub` frame. */
function pub(client: TestClient, ch: string, id: string, data: unknown): void {
  client.send({ type: 'pub', ch, id, data })
}

describe('createTestServer', () => {
  it('serves the lifeline protocol at ws://127.0.0.1:PORT/lifeline: hello, sub, server and client publishes', async () => {
    const server = await start()
    expect(server.url).toBe(`ws://127.0.0.1:${String(server.port)}/lifeline`)
    expect(server.port).toBeGreaterThan(0)
    expect(server.listening).toBe(true)

    const { client, welcome } = await connectReady(server.url)
    expect(welcome.resumed).toBe(false)
    expect(await client.subscribe('news')).toMatchObject({ resumed: false, seq: 0 })

    const position = await server.publish('news', { n: 1 })
    expect(position.seq).toBe(1)
    expect(await client.next('msg')).toMatchObject({ ch: 'news', epoch: position.epoch, seq: 1, data: { n: 1 } })

    pub(client, 'news', 'c-1', { n: 2 })
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'c-1' })
    await waitFor('the published message', () => client.all('msg').length === 2)
    expect(client.all('msg')[1]).toMatchObject({ seq: 2, data: { n: 2 } })
    expect(server.connections).toBe(1)
    expect(server.totalConnections).toBe(1)
    expect(server.server.connections()[0]?.channels).toEqual(['news'])
  })

  it('kill() drops clients without a close frame and refuses connections; restart() keeps sessions and history', async () => {
    const server = await start()
    const { client, welcome } = await connectReady(server.url)
    const subscribed = await client.subscribe('feed')
    await server.publish('feed', 1)
    await client.next('msg', (frame) => frame.seq === 1)

    await server.kill()
    expect((await client.closed()).code).toBe(1006)
    expect(server.listening).toBe(false)
    expect(server.connections).toBe(0)
    expect(await refusal(server.url)).toBe('ECONNREFUSED')

    // Published while the server is down: the broker outlives the connections.
    await server.publish('feed', 2)
    await server.publish('feed', 3)
    await server.restart()
    expect(server.listening).toBe(true)

    const again = await connectReady(server.url, { session: welcome.session })
    expect(again.welcome).toMatchObject({ resumed: true, session: welcome.session })
    again.client.send({ type: 'sub', ch: 'feed', since: { epoch: subscribed.epoch, seq: 1 } })
    const done = await again.client.next('subscribed')
    expect(done).toMatchObject({ resumed: true, epoch: subscribed.epoch, seq: 3 })
    expect(again.client.all('msg').map((frame) => frame.data)).toEqual([2, 3])
    expect(server.totalConnections).toBe(2)
  })

  it('restart({ loseHistory, loseSessions }) gives a fresh session, a new epoch and resumed: false', async () => {
    const server = await start()
    const { client, welcome } = await connectReady(server.url)
    const subscribed = await client.subscribe('feed')
    await server.publish('feed', 'a')
    await client.next('msg')
    const before = server.server

    await server.restart({ loseHistory: true, loseSessions: true })
    expect((await client.closed()).code).toBe(1006)
    expect(server.server).not.toBe(before)

    const again = await connectReady(server.url, { session: welcome.session })
    expect(again.welcome.resumed).toBe(false)
    expect(again.welcome.session).not.toBe(welcome.session)
    const resubscribed = await again.client.subscribe('feed', { epoch: subscribed.epoch, seq: 1 })
    expect(resubscribed.resumed).toBe(false)
    expect(resubscribed.epoch).not.toBe(subscribed.epoch)
    expect(resubscribed.seq).toBe(0)
    expect(again.client.all('msg')).toEqual([])
    expect(server.totalConnections).toBe(2)
  })

  it('restart({ loseSessions: true }) on a running server kills it first and keeps channel history', async () => {
    const server = await start()
    const { client, welcome } = await connectReady(server.url)
    const subscribed = await client.subscribe('feed')
    await server.publish('feed', 'a')
    await client.next('msg')

    await server.restart({ loseSessions: true })
    expect((await client.closed()).code).toBe(1006)

    const again = await connectReady(server.url, { session: welcome.session })
    expect(again.welcome.resumed).toBe(false)
    expect(await again.client.subscribe('feed', { epoch: subscribed.epoch, seq: 0 })).toMatchObject({
      resumed: true,
      epoch: subscribed.epoch,
      seq: 1,
    })
    expect(again.client.all('msg').map((frame) => frame.data)).toEqual(['a'])
  })

  it('closeClients(4002, reason) closes every client with that code and reason', async () => {
    const server = await start()
    const first = await connectReady(server.url)
    const second = await connect(server.url)

    expect(server.closeClients(4002, '{"retryAfterMs":100}')).toBe(2)
    expect(await first.client.closed()).toEqual({ code: 4002, reason: '{"retryAfterMs":100}' })
    expect(await second.closed()).toEqual({ code: 4002, reason: '{"retryAfterMs":100}' })
    await waitFor('the server to drop them', () => server.connections === 0)
  })

  it('closeClient() closes only the connections of one principal or one session', async () => {
    const server = await start({ tokens: { 't-alice': 'alice', 't-bob': 'bob' } })
    const alice = await connectReady(server.url, { token: 't-alice' })
    const bob = await connectReady(server.url, { token: 't-bob' })

    expect(server.closeClient({ principal: 'nobody' }, 4001)).toBe(0)
    expect(server.closeClient({ principal: 'alice' }, 4001, 'token expired')).toBe(1)
    expect(await alice.client.closed()).toEqual({ code: 4001, reason: 'token expired' })
    expect(bob.client.close).toBeNull()

    expect(server.closeClient({ session: bob.welcome.session }, 1013)).toBe(1)
    expect((await bob.client.closed()).code).toBe(1013)
    expect(() => server.closeClient({} as { principal: string }, 1000)).toThrow(TestServerError)
  })

  it('expireSessions() closes connected clients with 4003 and their sessions cannot be resumed', async () => {
    const server = await start()
    const { client, welcome } = await connectReady(server.url)

    expect(server.expireSessions()).toBe(1)
    expect(await client.closed()).toEqual({ code: 4003, reason: 'session expired' })
    const again = await connectReady(server.url, { session: welcome.session })
    expect(again.welcome.resumed).toBe(false)
    expect(again.welcome.session).not.toBe(welcome.session)
  })

  it('applied() lists a publish once when its id is sent again, on the same and on a resumed connection', async () => {
    const server = await start()
    const { client, welcome } = await connectReady(server.url)
    pub(client, 'chat', 'm-1', 'a')
    pub(client, 'chat', 'm-1', 'a')
    pub(client, 'chat', 'm-2', 'b')
    await waitFor('three acks', () => client.all('ack').length === 3)
    await server.publish('chat', 'from the server')

    // A lost ack: the connection drops, the client resumes its session and resends.
    expect(server.terminateClients()).toBe(1)
    expect((await client.closed()).code).toBe(1006)
    const again = await connectReady(server.url, { session: welcome.session })
    expect(again.welcome.resumed).toBe(true)
    pub(again.client, 'chat', 'm-2', 'b')
    pub(again.client, 'chat', 'm-3', 'c')
    await waitFor('two acks', () => again.client.all('ack').length === 2)

    expect(server.applied('chat')).toEqual(['a', 'b', 'c'])
    expect(server.applied('other')).toEqual([])
    expect(server.received[0]).toMatchObject({
      channel: 'chat',
      id: 'm-1',
      data: 'a',
      principal: 'anonymous',
      session: welcome.session,
      position: { seq: 1 },
    })
    server.clearReceived()
    expect(server.applied('chat')).toEqual([])
  })

  it('keeps at most receivedLimit applied publishes and still calls a given onPublished', async () => {
    const ids: string[] = []
    const server = await start({ receivedLimit: 2, onPublished: (event) => ids.push(event.id) })
    const { client } = await connectReady(server.url)
    for (const id of ['p-1', 'p-2', 'p-3']) pub(client, 'ch', id, id)
    await waitFor('three acks', () => client.all('ack').length === 3)
    expect(server.received.map((entry) => entry.id)).toEqual(['p-2', 'p-3'])
    expect(ids).toEqual(['p-1', 'p-2', 'p-3'])
  })

  it('acks a publish even when onPublished throws, and logs the throw without the payload', async () => {
    const lines: string[] = []
    const logger = { info: () => undefined, warn: (message: string) => lines.push(message) }
    const server = await start({
      logger,
      onPublished: () => {
        throw new Error('secret payload')
      },
    })
    const { client } = await connectReady(server.url)
    pub(client, 'ch', 'x-1', 'secret payload')
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'x-1' })
    expect(server.applied('ch')).toEqual(['secret payload'])
    expect(lines).toContain('onPublished threw')
    expect(lines.join('\n')).not.toContain('secret')
  })

  it('tokens: a known token authenticates as its principal; an unknown or missing one is closed with 4001', async () => {
    const server = await start({ tokens: { 't-alice': 'alice' } })
    const alice = await connectReady(server.url, { token: 't-alice' })
    expect(alice.welcome.resumed).toBe(false)
    expect(server.server.connections()[0]?.principal?.id).toBe('alice')

    const stranger = await connect(server.url)
    stranger.send({ type: 'hello', v: 1, token: 'forged' })
    expect(await stranger.closed()).toEqual({ code: 4001, reason: 'invalid token' })
    const anonymous = await connect(server.url)
    anonymous.send({ type: 'hello', v: 1 })
    expect((await anonymous.closed()).code).toBe(4001)
    const prototypeKey = await connect(server.url)
    prototypeKey.send({ type: 'hello', v: 1, token: 'constructor' })
    expect((await prototypeKey.closed()).code).toBe(4001)
  })

  it('dropHistory(channel) starts a new epoch for that channel only', async () => {
    const server = await start()
    const a = await server.publish('a', 1)
    const b = await server.publish('b', 1)
    await server.dropHistory('a')

    const { client } = await connectReady(server.url)
    const resubscribedA = await client.subscribe('a', a)
    expect(resubscribedA.resumed).toBe(false)
    expect(resubscribedA.epoch).not.toBe(a.epoch)
    expect(await client.subscribe('b', b)).toMatchObject({ resumed: true, epoch: b.epoch, seq: 1 })
  })

  it('dropHistory() under a live subscriber announces the discontinuity before the new epoch', async () => {
    const server = await start()
    const { client } = await connectReady(server.url)
    const subscribed = await client.subscribe('live')
    await server.publish('live', 1)
    await client.next('msg')

    await server.dropHistory()
    const next = await server.publish('live', 2)
    expect(next).toMatchObject({ seq: 1 })
    expect(next.epoch).not.toBe(subscribed.epoch)
    expect(await client.next('subscribed')).toMatchObject({ resumed: false, epoch: next.epoch, seq: 0 })
    expect(await client.next('msg')).toMatchObject({ epoch: next.epoch, seq: 1, data: 2 })
  })

  it('restart() waits for a busy port and fails with TEST_SERVER_RESTART_FAILED when it stays busy', async () => {
    const server = await start()
    await server.kill()
    const blocker = await occupy(server.port)
    await expect(server.restart()).rejects.toMatchObject({ code: 'TEST_SERVER_RESTART_FAILED' })
    expect(server.listening).toBe(false)

    const restarted = server.restart()
    setTimeout(() => void release(blocker), 120)
    await restarted
    expect(server.listening).toBe(true)
    const { welcome } = await connectReady(server.url)
    expect(welcome.type).toBe('welcome')
  })

  it('rejects with EADDRINUSE on a busy port at start and leaves no server running', async () => {
    const blocker = await occupy(0)
    const { port } = blocker.address() as { port: number }
    const timers = trackTimers()
    try {
      await expect(createTestServer({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
      expect(timers.pending()).toEqual([])
    } finally {
      timers.restore()
    }
  })

  it('answers the HTTP probe at its path and 404 elsewhere, for requests and upgrades', async () => {
    const server = await start({ allowedOrigins: ['https://app.example'] })
    const base = `http://127.0.0.1:${String(server.port)}`
    expect((await fetch(`${base}/lifeline`)).status).toBe(426)
    expect((await fetch(`${base}/lifeline`, { headers: { origin: 'https://evil.example' } })).status).toBe(403)
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404)

    const lost = openClient(`ws://127.0.0.1:${String(server.port)}/elsewhere`)
    await waitFor('the upgrade to be refused', () => lost.response !== null)
    expect(lost.response?.status).toBe(404)
  })

  it('rejects bad arguments with TEST_SERVER_INVALID_ARGUMENT and bad server options with InvalidOptionsError', async () => {
    const server = await start()
    expect(() => server.closeClients(1006)).toThrow(expect.objectContaining({ code: 'TEST_SERVER_INVALID_ARGUMENT' }))
    expect(() => server.closeClients(4000, 'x'.repeat(124))).toThrow(TestServerError)
    await expect(createTestServer({ receivedLimit: -1 })).rejects.toMatchObject({
      code: 'TEST_SERVER_INVALID_ARGUMENT',
    })
    await expect(createTestServer({ tokens: { a: 'b' }, authenticate: () => null })).rejects.toThrow(TestServerError)
    await expect(createTestServer({ tokens: { a: '' } })).rejects.toThrow(TestServerError)
    await expect(createTestServer({ maxPayload: 1 })).rejects.toThrow(InvalidOptionsError)
    await expect(createTestServer({ handshakeTimeoutMs: -5 })).rejects.toThrow(InvalidOptionsError)
  })

  it('close() is idempotent, ends every client and leaves no sockets or timers behind', async () => {
    const sockets = (): number =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap' || kind === 'TCPSocketWrap').length
    // Sockets of earlier tests' teardown go within a few ticks: take the baseline once the count is steady.
    let steady = 0
    let last = -1
    await waitFor('a steady socket count', () => {
      const now = sockets()
      steady = now === last ? steady + 1 : 0
      last = now
      return steady >= 4
    })
    const baseline = sockets()
    const timers = trackTimers()
    try {
      const server = await createTestServer({ heartbeat: { intervalMs: 1000 } })
      const { client } = await connectReady(server.url)
      await client.subscribe('ch')
      await server.kill()
      // A replaced server instance must be closed too.
      await server.restart({ loseSessions: true })
      await connectReady(server.url)

      const first = server.close()
      const second = server.close()
      await Promise.all([first, second])
      expect((await client.closed()).code).toBe(1006)
      expect(server.listening).toBe(false)
      expect(server.connections).toBe(0)
      expect(await refusal(server.url)).toBe('ECONNREFUSED')
      await expect(server.publish('ch', 1)).rejects.toMatchObject({ code: 'TEST_SERVER_CLOSED' })
      await expect(server.restart()).rejects.toMatchObject({ code: 'TEST_SERVER_CLOSED' })
      await expect(server.kill()).rejects.toMatchObject({ code: 'TEST_SERVER_CLOSED' })
      await cleanup()
      expect(timers.pending()).toEqual([])
      await waitFor('sockets to be released', () => sockets() <= baseline)
    } finally {
      timers.restore()
    }
  })
})
