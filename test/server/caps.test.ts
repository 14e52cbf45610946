import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { InvalidOptionsError } from '../../src/core'
import { createLifelineServer } from '../../src/server'
import type { AuthRequest, LifelineServer, LifelineServerOptions } from '../../src/server'
import { addressKey } from '../../src/server/caps'
import { cleanup, connect, connectReady, openClient, startServer, TestClient, waitFor } from './helpers'

const extraClients: TestClient[] = []

afterEach(async () => {
  for (const client of extraClients.splice(0)) client.socket.terminate()
  await cleanup()
})

/** Tokens are `tok-<principal>-secret`; anything else is refused. */
const tokenAuth: Pick<LifelineServerOptions, 'authenticate'> = {
  authenticate: ({ token }: AuthRequest) => {
    const match = /^tok-(\w+)-secret$/.exec(token ?? '')
    return match?.[1] ? { id: match[1] } : null
  },
}

const httpBase = (server: LifelineServer): string => server.url.replace(/^ws/, 'http')

/** A raw client bound to a local address of the loopback range (all of 127.0.0.0/8 is loopback on Linux). */
async function connectFrom(url: string, localAddress: string): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, { localAddress }), localAddress)
  extraClients.push(client)
  await waitFor('open', () => client.opened || client.response !== null || client.close !== null)
  return client
}

async function openLongPoll(server: LifelineServer, frames: unknown[] = []): Promise<Response> {
  return fetch(`${httpBase(server)}/poll`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(frames),
  })
}

describe('lifeline server: the anonymous principal cap', () => {
  it('closes anonymous connections past maxAnonymousConnections with 1013, as the per-principal cap does', async () => {
    const server = await startServer({ maxAnonymousConnections: 2 })
    const first = await connectReady(server.url)
    await connectReady(server.url)
    const third = await connect(server.url)
    third.send({ type: 'hello', v: 1 })
    expect(await third.closed()).toEqual({ code: 1013, reason: 'too many connections' })
    first.client.socket.close()
    await waitFor('the first to leave', () => server.stats().connections === 1)
    await connectReady(server.url)
  })

  it('counts anonymous long-poll connections in the same cap', async () => {
    const server = await startServer({ maxAnonymousConnections: 1 })
    await connectReady(server.url)
    const reply = await openLongPoll(server, [{ type: 'hello', v: 1 }])
    expect(reply.status).toBe(200)
    const { connection } = (await reply.json()) as { connection: string }
    const polled = await fetch(`${httpBase(server)}/poll`, {
      headers: { 'Lifeline-Connection': connection, 'Lifeline-Cursor': '0' },
    })
    expect(((await polled.json()) as { close?: unknown }).close).toEqual({ code: 1013, reason: 'too many connections' })
  })

  it('keeps the per-principal cap for authenticated principals apart from the anonymous cap', async () => {
    const server = await startServer({ ...tokenAuth, maxConnectionsPerPrincipal: 1, maxAnonymousConnections: 1 })
    await connectReady(server.url, { token: 'tok-alice-secret' })
    await connectReady(server.url, { token: 'tok-bob-secret' })
    const second = await connect(server.url)
    second.send({ type: 'hello', v: 1, token: 'tok-alice-secret' })
    expect((await second.closed()).code).toBe(1013)
  })
})

describe('lifeline server: closed long-poll connections and the per-principal cap', () => {
  const pollFrom = async (server: LifelineServer, id: string, cursor: number) => {
    const reply = await fetch(`${httpBase(server)}/poll`, {
      headers: { 'Lifeline-Connection': id, 'Lifeline-Cursor': String(cursor) },
    })
    return { status: reply.status, body: (await reply.json()) as { cursor: number; frames: string[]; close?: unknown } }
  }

  it('counts a closed long-poll connection holding its close against its principal until it is forgotten', async () => {
    const server = await startServer({
      ...tokenAuth,
      maxConnectionsPerPrincipal: 1,
      longPoll: { pollTimeoutMs: 100, idleTimeoutMs: 5000 },
    })
    const opened = await openLongPoll(server, [{ type: 'hello', v: 1, token: 'tok-alice-secret' }])
    const { connection } = (await opened.json()) as { connection: string }
    const first = await pollFrom(server, connection, 0)
    const welcome = JSON.parse(first.body.frames[0] ?? '{}') as { type: string; session: string }
    expect(welcome.type).toBe('welcome')
    expect(server.closeSession(welcome.session, 4000, 'bye')).toBe(true)
    await waitFor('the protocol side to be released', () => server.stats().connections === 0, 3000)
    expect(server.stats().closingLongPolls).toBe(1)
    const refused = await connect(server.url)
    refused.send({ type: 'hello', v: 1, token: 'tok-alice-secret' })
    expect(await refused.closed()).toEqual({ code: 1013, reason: 'too many connections' })
    for (let round = 0; round < 3; round++) {
      expect((await pollFrom(server, connection, first.body.cursor)).body.close).toEqual({ code: 4000, reason: 'bye' })
    }
    expect(server.stats().closingLongPolls).toBe(0)
    await connectReady(server.url, { token: 'tok-alice-secret' })
  })
})

describe('lifeline server: the per-address cap', () => {
  it('refuses an upgrade past maxConnectionsPerAddress with 429 before the 101, counting connections without hello', async () => {
    const server = await startServer({ ...tokenAuth, maxConnectionsPerAddress: 2 })
    const silent = await connect(server.url)
    await connectReady(server.url, { token: 'tok-alice-secret' })
    const refused = openClient(server.url)
    await waitFor('the refusal', () => refused.response !== null)
    expect(refused.response).toEqual({ status: 429, body: '{"error":"too many connections"}' })
    expect(refused.opened).toBe(false)
    // The probe a browser client makes after a failed upgrade says the same, with the wait.
    const probe = await fetch(httpBase(server))
    expect(probe.status).toBe(429)
    expect(Number(probe.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // So does a long-poll open, before any connection is created.
    const longPoll = await openLongPoll(server)
    expect(longPoll.status).toBe(429)
    expect(longPoll.headers.get('retry-after')).not.toBeNull()
    expect(await longPoll.json()).toEqual({ error: 'too many connections' })
    expect(server.stats()).toMatchObject({ connections: 2, longPolls: 0 })
    // Other addresses are not affected; a slot frees when a connection from the address closes.
    const other = await connectFrom(server.url, '127.0.0.2')
    expect(other.opened).toBe(true)
    silent.socket.close()
    await waitFor('the silent one to leave', () => server.stats().connections === 2)
    await connectReady(server.url, { token: 'tok-bob-secret' })
  })

  it('counts long-poll connections and WebSockets from one address together', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 2 })
    expect((await openLongPoll(server)).status).toBe(200)
    expect((await openLongPoll(server)).status).toBe(200)
    const refused = openClient(server.url)
    await waitFor('the refusal', () => refused.response !== null)
    expect(refused.response?.status).toBe(429)
  })
})

describe('lifeline server: cap options', () => {
  it.each([
    ['maxConnectionsPerAddress', { maxConnectionsPerAddress: 0 }],
    ['maxAnonymousConnections', { maxAnonymousConnections: 1.5 }],
    ['maxDetachedSessions', { maxDetachedSessions: -1 }],
    ['maxDedupeIdsTotal', { maxDedupeIdsTotal: Number.NaN }],
  ])('refuses an invalid %s', async (field, options) => {
    const attempt = createLifelineServer({ port: 0, ...options })
    await expect(attempt).rejects.toThrow(InvalidOptionsError)
    await expect(attempt).rejects.toMatchObject({ issues: [expect.objectContaining({ field })] })
  })
})

describe('addressKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:aa:bb:1:2:3:4', '2001:db8:aa:bb::/64'],
    ['2001:db8:aa:bb::99', '2001:db8:aa:bb::/64'],
    ['2001:0db8:00aa:00bb:ffff::1', '2001:db8:aa:bb::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('groups %s as %s', (address, key) => {
    expect(addressKey(address)).toBe(key)
  })

  it('keeps an unknown address apart', () => {
    expect(addressKey(undefined)).toBe('unknown')
  })
})
