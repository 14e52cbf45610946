import { connect as tcpConnect } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../src/core'
import { createLifelineServer } from '../../src/server'
import type { AuthRequest, LifelineServerOptions } from '../../src/server'
import { cleanup, connect, connectReady, logLines, openClient, sessionIds, startServer, waitFor } from './helpers'

/** Secrets handed to the server during this file: none may appear in a log line. */
const secrets = new Set<string>()

afterEach(cleanup)

afterAll(() => {
  const logs = logLines.join('\n')
  expect(logLines.length).toBeGreaterThan(20)
  for (const secret of [...secrets, ...sessionIds]) expect(logs).not.toContain(secret)
})

/** Tokens are `tok-<principal>-secret`; anything else is refused. */
const tokenAuth: Pick<LifelineServerOptions, 'authenticate'> = {
  authenticate: ({ token }: AuthRequest) => {
    const match = /^tok-(\w+)-secret$/.exec(token ?? '')
    return match?.[1] ? { id: match[1] } : null
  },
}

function token(principal: string): string {
  const value = `tok-${principal}-secret`
  secrets.add(value)
  return value
}

async function ready(url: string, principal: string, session?: string) {
  const result = await connectReady(url, { token: token(principal), ...(session ? { session } : {}) })
  secrets.add(result.welcome.session)
  return result
}

describe('lifeline server: origin allowlist', () => {
  const allowed = 'https://app.test'

  it.each([
    ['a different origin', 'https://evil.test'],
    ['the allowed origin as a prefix', 'https://app.test.evil.com'],
    ['the allowed origin as a suffix', 'https://evilapp.test'],
    ['another scheme', 'http://app.test'],
    ['another port', 'https://app.test:8443'],
    ['a trailing slash', 'https://app.test/'],
    ['another case', 'https://APP.test'],
    ['two origins in one header', 'https://app.test, https://evil.test'],
    ['the null origin', 'null'],
  ])('refuses %s with 403 before the 101', async (_name, origin) => {
    const server = await startServer({ allowedOrigins: [allowed] })
    const client = openClient(server.url, { origin })
    await waitFor('the refusal', () => client.response !== null)
    expect(client.response).toEqual({ status: 403, body: '{"error":"origin not allowed"}' })
    expect(client.opened).toBe(false)
    expect(server.stats().connections).toBe(0)
  })

  it('accepts the exact allowed origin', async () => {
    const server = await startServer({ allowedOrigins: [allowed] })
    const client = await connect(server.url, { origin: allowed })
    expect(client.opened).toBe(true)
  })

  it('accepts a request without Origin by default and refuses it with allowNoOrigin: false', async () => {
    const open = await startServer({ allowedOrigins: [allowed] })
    await connect(open.url)
    const strict = await startServer({ allowedOrigins: [allowed], allowNoOrigin: false })
    const client = openClient(strict.url)
    await waitFor('the refusal', () => client.response !== null)
    expect(client.response?.status).toBe(403)
  })

  it('refuses every browser origin when no allowlist is given', async () => {
    const server = await startServer()
    const client = openClient(server.url, { origin: 'http://localhost:3000' })
    await waitFor('the refusal', () => client.response !== null)
    expect(client.response?.status).toBe(403)
  })

  it.each([['*'], ['https://*.app.test'], ['null'], ['https://app.test/'], ['app.test']])(
    'refuses %s as an allowlist entry',
    async (origin) => {
      await expect(createLifelineServer({ port: 0, allowedOrigins: [origin] })).rejects.toBeInstanceOf(
        InvalidOptionsError,
      )
    },
  )

  it('answers a plain HTTP probe of the path like the upgrade (403, 401, 426) and 404 elsewhere', async () => {
    const server = await startServer({ allowedOrigins: [allowed], authenticateUpgrade: () => null })
    const base = server.url.replace('ws:', 'http:')
    expect((await fetch(base, { headers: { origin: 'https://evil.test' } })).status).toBe(403)
    expect((await fetch(base)).status).toBe(401)
    const open = await startServer({ allowedOrigins: [allowed] })
    const probe = await fetch(open.url.replace('ws:', 'http:'), { headers: { origin: allowed } })
    expect(probe.status).toBe(426)
    expect(probe.headers.get('access-control-allow-origin')).toBe(allowed)
    expect((await fetch(open.url.replace('ws:', 'http:').replace('/lifeline', '/other'))).status).toBe(404)
  })
})

describe('lifeline server: authentication', () => {
  it('refuses the upgrade with 401 when authenticateUpgrade returns null, 500 when it throws', async () => {
    const server = await startServer({
      authenticateUpgrade: ({ headers }) => (headers.cookie === 'sid=ok' ? { id: 'u' } : null),
    })
    const refused = openClient(server.url, { headers: { cookie: 'sid=bad' } })
    await waitFor('the refusal', () => refused.response !== null)
    expect(refused.response).toEqual({ status: 401, body: '{"error":"unauthorized"}' })
    const accepted = await connect(server.url, { headers: { cookie: 'sid=ok' } })
    await accepted.hello()
    expect(server.connections()[0]?.principal).toEqual({ id: 'u' })
    const failing = await startServer({
      authenticateUpgrade: () => {
        throw new Error('db down')
      },
    })
    const failed = openClient(failing.url)
    await waitFor('the refusal', () => failed.response !== null)
    expect(failed.response?.status).toBe(500)
  })

  it('closes with 4001 "invalid token" when hello carries a bad token', async () => {
    const server = await startServer(tokenAuth)
    secrets.add('tok-forged')
    const client = await connect(server.url)
    client.send({ type: 'hello', v: 1, token: 'tok-forged' })
    expect(await client.closed()).toEqual({ code: 4001, reason: 'invalid token' })
    expect(client.all('welcome')).toEqual([])
  })

  it('closes with 1011 when authenticate throws, without logging the error message', async () => {
    const server = await startServer({
      authenticate: ({ token: value }) => {
        throw new Error(`cannot verify ${String(value)}`)
      },
    })
    const client = await connect(server.url)
    client.send({ type: 'hello', v: 1, token: token('thrower') })
    expect((await client.closed()).code).toBe(1011)
  })

  it('closes with 4001 when no hello arrives within helloTimeoutMs, and when authenticate hangs', async () => {
    const server = await startServer({ helloTimeoutMs: 150 })
    const silent = await connect(server.url)
    expect(await silent.closed()).toEqual({ code: 4001, reason: 'hello timeout' })
    const hanging = await startServer({ helloTimeoutMs: 150, authenticate: () => new Promise<null>(() => undefined) })
    const waiting = await connect(hanging.url)
    waiting.send({ type: 'hello', v: 1, token: token('hang') })
    expect((await waiting.closed()).code).toBe(4001)
  })

  it('hands authenticate the hello token and the upgrade headers', async () => {
    const seen: AuthRequest[] = []
    const server = await startServer({
      authenticate: (request) => {
        seen.push(request)
        return { id: 'x' }
      },
    })
    await ready(server.url, 'x')
    expect(seen[0]).toMatchObject({ token: 'tok-x-secret', url: '/lifeline', remoteAddress: '127.0.0.1' })
    expect(seen[0]?.headers.host).toBeDefined()
  })
})

describe('lifeline server: limits', () => {
  it('closes a connection sending a frame over maxPayload with 1009', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.send({ type: 'pub', ch: 'a', id: 'big', data: 'x'.repeat(70 * 1024) })
    expect((await client.closed()).code).toBe(1009)
  })

  it('closes a connection sending invalid UTF-8 with 1007', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    expect((await client.closed()).code).toBe(1007)
  })

  it('closes a flooding connection with 4002 and a JSON retryAfterMs', async () => {
    const server = await startServer({ rateLimit: { messages: 20, perMs: 1000 } })
    const { client } = await connectReady(server.url)
    for (let index = 0; index < 60; index += 1) client.send({ type: 'ping' })
    const closed = await client.closed()
    expect(closed.code).toBe(4002)
    const reason = JSON.parse(closed.reason) as { retryAfterMs: number }
    expect(reason.retryAfterMs).toBeGreaterThan(0)
    expect(reason.retryAfterMs).toBeLessThanOrEqual(1000)
    // Cut near the bucket size (hello took one token), not after all 60.
    expect(client.all('pong').length).toBeLessThan(25)
  })

  it('refuses subscriptions past maxChannelsPerConnection with TOO_MANY_CHANNELS', async () => {
    const server = await startServer({ maxChannelsPerConnection: 3 })
    const { client } = await connectReady(server.url)
    for (const ch of ['a', 'b', 'c']) await client.subscribe(ch)
    client.send({ type: 'sub', ch: 'd' })
    expect(await client.next('error')).toMatchObject({ code: 'TOO_MANY_CHANNELS', ch: 'd' })
    // Re-subscribing a channel it holds is not a new one.
    await client.subscribe('a')
    client.send({ type: 'unsub', ch: 'b' })
    await client.next('unsubscribed')
    await client.subscribe('d')
    expect([...(server.connections()[0]?.channels ?? [])].sort()).toEqual(['a', 'c', 'd'])
  })

  it('closes connections of one principal past maxConnectionsPerPrincipal with 1013', async () => {
    const server = await startServer({ ...tokenAuth, maxConnectionsPerPrincipal: 2 })
    const first = await ready(server.url, 'alice')
    await ready(server.url, 'alice')
    const third = await connect(server.url)
    third.send({ type: 'hello', v: 1, token: token('alice') })
    expect(await third.closed()).toEqual({ code: 1013, reason: 'too many connections' })
    await ready(server.url, 'bob')
    first.client.socket.close()
    await waitFor('the first to leave', () => server.stats().connections === 2)
    await ready(server.url, 'alice')
  })

  it('lets a client resume its own session while the old connection lingers, ending the old one', async () => {
    const server = await startServer({ ...tokenAuth, maxConnectionsPerPrincipal: 1 })
    const old = await ready(server.url, 'carol')
    const resumed = await ready(server.url, 'carol', old.welcome.session)
    expect(resumed.welcome).toMatchObject({ session: old.welcome.session, resumed: true })
    expect((await old.client.closed()).code).toBe(1008)
  })

  it('times out an upgrade whose headers never complete (slowloris)', async () => {
    const server = await startServer({ handshakeTimeoutMs: 200 })
    const socket = tcpConnect(server.port, '127.0.0.1')
    let closedAt = 0
    let answer = ''
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString()
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      closedAt = performance.now()
    })
    const start = performance.now()
    socket.write('GET /lifeline HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n')
    await waitFor('the server to drop the socket', () => closedAt > 0, 3000)
    expect(closedAt - start).toBeGreaterThanOrEqual(150)
    expect(answer).toMatch(/^HTTP\/1.1 408/)
  })

  it('destroys an upgrade whose authenticateUpgrade never settles after handshakeTimeoutMs', async () => {
    const server = await startServer({
      handshakeTimeoutMs: 200,
      authenticateUpgrade: () => new Promise(() => undefined),
    })
    const client = openClient(server.url)
    await waitFor('the socket to be destroyed', () => client.close !== null || client.error !== null)
    expect(client.opened).toBe(false)
    expect(server.stats().handshakes).toBe(0)
  })
})

describe('lifeline server: sessions', () => {
  it('never resumes another principal’s session: a fresh session, none of the other’s data or state', async () => {
    const server = await startServer({
      ...tokenAuth,
      authorize: ({ principal, channel }) => channel === `private:${principal.id}`,
    })
    const alice = await ready(server.url, 'alice')
    await alice.client.subscribe('private:alice')
    alice.client.send({ type: 'pub', ch: 'private:alice', id: 'a1', data: 'secret-payload' })
    await alice.client.next('ack')
    const mallory = await ready(server.url, 'mallory', alice.welcome.session)
    expect(mallory.welcome.resumed).toBe(false)
    expect(mallory.welcome.session).not.toBe(alice.welcome.session)
    // Alice keeps her connection; mallory cannot read her channel even with her position.
    expect(alice.client.close).toBeNull()
    mallory.client.send({ type: 'sub', ch: 'private:alice', since: { epoch: 'x', seq: 0 } })
    expect(await mallory.client.next('error')).toMatchObject({ code: 'FORBIDDEN' })
    await server.publish('private:alice', 'secret-payload')
    await alice.client.next('msg', (frame) => frame.seq === 2)
    expect(mallory.client.all('msg')).toEqual([])
    // Alice's session is intact and still hers after she drops.
    alice.client.socket.terminate()
    await waitFor('alice to leave', () => server.stats().connections === 1)
    const again = await ready(server.url, 'mallory', alice.welcome.session)
    expect(again.welcome.resumed).toBe(false)
    const back = await ready(server.url, 'alice', alice.welcome.session)
    expect(back.welcome).toMatchObject({ session: alice.welcome.session, resumed: true })
  })

  it('drops a session resumeWindowMs after its connection left', async () => {
    const server = await startServer({ resume: { windowMs: 150 } })
    const { client, welcome } = await connectReady(server.url)
    secrets.add(welcome.session)
    client.socket.terminate()
    await waitFor('the session to expire', () => server.stats().sessions === 0, 2000)
    const { welcome: later } = await connectReady(server.url, { session: welcome.session })
    secrets.add(later.session)
    expect(later.resumed).toBe(false)
  })

  it('closes a session’s connection on command, and expires it with 4003', async () => {
    const server = await startServer()
    const first = await connectReady(server.url)
    secrets.add(first.welcome.session)
    expect(server.closeSession(first.welcome.session, 4001, 'token expired')).toBe(true)
    expect(await first.client.closed()).toEqual({ code: 4001, reason: 'token expired' })
    const second = await connectReady(server.url, { session: first.welcome.session })
    expect(second.welcome.resumed).toBe(true)
    expect(server.expireSession(first.welcome.session)).toBe(true)
    expect((await second.client.closed()).code).toBe(4003)
    const third = await connectReady(server.url, { session: first.welcome.session })
    secrets.add(third.welcome.session)
    expect(third.welcome.resumed).toBe(false)
    expect(server.closeSession('no-such-session', 1000)).toBe(false)
    expect(() => server.closeSession(third.welcome.session, 1006)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})
