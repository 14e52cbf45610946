import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createLifelineServer } from '../../src/server'
import { startServer, waitFor } from './helpers'
import { closeStreams, eventsUrl, openStream, tokenAuth, useSseHooks } from './sse-helpers'

const TOKEN = 'tok-bob-secret'

useSseHooks(TOKEN)

const bearer = { Authorization: `Bearer ${TOKEN}` }

describe('SSE endpoint: refusals before the stream', () => {
  it.each([
    ['no ch', ''],
    ['two ch', '?ch=a&ch=b'],
    ['an empty ch', '?ch='],
    ['a ch with a control character', '?ch=a%00b'],
  ])('answers %s with 400', async (_label, query) => {
    const server = await startServer()
    const stream = await openStream(eventsUrl(server), { query })
    expect(stream.status).toBe(400)
    expect(typeof stream.json().error).toBe('string')
    expect(server.stats().connections).toBe(0)
  })

  it('answers another method with 405', async () => {
    const server = await startServer()
    const response = await fetch(`${eventsUrl(server)}?ch=news`, { method: 'POST', body: '' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, OPTIONS')
    expect(await response.json()).toEqual({ error: 'method not allowed' })
  })

  it('answers a refused origin with 403', async () => {
    const server = await startServer({ allowedOrigins: ['https://app.example.com'] })
    const stream = await openStream(eventsUrl(server), { headers: { Origin: 'https://evil.example' } })
    expect(stream.status).toBe(403)
    expect(stream.json()).toEqual({ error: 'origin not allowed' })
  })

  it('answers 401 when authenticate refuses the bearer token (close 4001 before the stream)', async () => {
    const server = await startServer(tokenAuth)
    const stream = await openStream(eventsUrl(server), { headers: { Authorization: 'Bearer tok-nope' } })
    expect(stream.status).toBe(401)
    expect(stream.json()).toEqual({ error: 'invalid token' })
    await waitFor('released', () => server.stats().connections === 0 && server.stats().eventStreams === 0)
  })

  it('answers 401 when authenticateUpgrade refuses the request, and 500 when it throws', async () => {
    const headers: Array<string | undefined> = []
    const server = await startServer({
      authenticateUpgrade: (request) => {
        headers.push(request.headers.authorization)
        if (request.headers.authorization === 'Bearer throw') throw new Error('hook failed')
        return request.headers.authorization === `Bearer ${TOKEN}` ? { id: 'bob' } : null
      },
    })
    expect((await openStream(eventsUrl(server))).status).toBe(401)
    expect((await openStream(eventsUrl(server), { headers: { Authorization: 'Bearer throw' } })).status).toBe(500)
    expect((await openStream(eventsUrl(server), { headers: bearer })).status).toBe(200)
    expect(headers).toEqual([undefined, 'Bearer throw', `Bearer ${TOKEN}`])
  })

  it('answers 403 FORBIDDEN when authorize refuses the channel', async () => {
    const server = await startServer({ ...tokenAuth, authorize: ({ channel }) => channel !== 'secret' })
    const stream = await openStream(eventsUrl(server), { ch: 'secret', headers: bearer })
    expect(stream.status).toBe(403)
    expect(stream.json()).toEqual({ error: 'FORBIDDEN' })
    await waitFor('released', () => server.stats().connections === 0)
    expect((await openStream(eventsUrl(server), { ch: 'open', headers: bearer })).status).toBe(200)
  })

  it('answers 500 when authorize throws', async () => {
    const server = await startServer({
      authorize: () => {
        throw new Error('hook failed')
      },
    })
    const stream = await openStream(eventsUrl(server))
    expect(stream.status).toBe(500)
    expect(stream.json()).toEqual({ error: 'SERVER_ERROR' })
  })

  it('answers 429 with Retry-After when the address is at maxConnectionsPerAddress', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 1 })
    expect((await openStream(eventsUrl(server))).status).toBe(200)
    const crowded = await openStream(eventsUrl(server))
    expect(crowded.status).toBe(429)
    expect(crowded.headers['retry-after']).toBe('5')
    expect(crowded.json()).toEqual({ error: 'too many connections' })
  })

  it('answers 503 with Retry-After 5 when the principal is at its connection cap (close 1013)', async () => {
    const server = await startServer({ ...tokenAuth, maxConnectionsPerPrincipal: 1 })
    expect((await openStream(eventsUrl(server), { headers: bearer })).status).toBe(200)
    const second = await openStream(eventsUrl(server), { headers: bearer })
    expect(second.status).toBe(503)
    expect(second.headers['retry-after']).toBe('5')
    expect(second.json()).toEqual({ error: 'too many connections' })
  })

  it('answers 503 with Retry-After once the server is closing', async () => {
    const http = createServer((request, response) => {
      if (!lifeline.handleRequest(request, response)) response.writeHead(404).end()
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const lifeline = await createLifelineServer({ server: http })
    const url = `http://127.0.0.1:${String((http.address() as AddressInfo).port)}/lifeline/events`
    try {
      expect((await openStream(url)).status).toBe(200)
      closeStreams()
      await lifeline.close()
      const refused = await openStream(url)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('1')
      expect(refused.json()).toEqual({ error: 'server shutting down' })
    } finally {
      await lifeline.close()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })

  it('answers 404 at the events path when sse is false', async () => {
    const server = await startServer({ sse: false })
    const stream = await openStream(eventsUrl(server))
    expect(stream.status).toBe(404)
    expect(server.stats().eventStreams).toBe(0)
  })

  it('validates sse.keepAliveMs', async () => {
    await expect(startServer({ sse: { keepAliveMs: 0 } })).rejects.toThrow(/sse\.keepAliveMs/)
  })
})
