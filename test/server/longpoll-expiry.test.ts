import { afterEach, describe, expect, it } from 'vitest'
import type { LifelineServer } from '../../src/server'
import { cleanup, startServer, waitFor } from './helpers'

afterEach(cleanup)

interface Reply {
  status: number
  headers: Headers
  body: { connection?: string; cursor?: number; frames?: string[]; close?: { code: number; reason: string } }
}

const pollUrl = (server: LifelineServer): string => `${server.url.replace(/^ws/, 'http')}/poll`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function call(url: string, init: RequestInit): Promise<Reply> {
  const response = await fetch(url, init)
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Reply['body']) : {} }
}

/** `POST <path>/poll` with no connection id and no `hello`: a new long-poll connection that never greets. */
async function openSilent(server: LifelineServer): Promise<string> {
  const reply = await call(pollUrl(server), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '[]',
  })
  expect(reply.status).toBe(200)
  expect(typeof reply.body.connection).toBe('string')
  return reply.body.connection as string
}

const poll = (server: LifelineServer, id: string, cursor = 0): Promise<Reply> =>
  call(pollUrl(server), { headers: { 'Lifeline-Connection': id, 'Lifeline-Cursor': String(cursor) } })

const post = (server: LifelineServer, id: string, frames: unknown[]): Promise<Reply> =>
  call(pollUrl(server), {
    method: 'POST',
    headers: { 'Lifeline-Connection': id, 'Content-Type': 'application/json' },
    body: JSON.stringify(frames),
  })

describe('long-poll server: closed connections expire (hardening finding 3)', () => {
  it('forgets a closed connection polled faster than idleTimeoutMs (410), counting it in stats() meanwhile', async () => {
    const idleTimeoutMs = 400
    const server = await startServer({ helloTimeoutMs: 100, longPoll: { pollTimeoutMs: 200, idleTimeoutMs } })
    const id = await openSilent(server)
    // The waiting poll gets the hello timeout.
    const first = await poll(server, id)
    expect(first.status).toBe(200)
    expect(first.body.close).toEqual({ code: 4001, reason: 'hello timeout' })
    const closedAt = performance.now()
    expect(server.stats()).toMatchObject({ longPolls: 0, closingLongPolls: 1 })

    const statuses: number[] = []
    // Bounded: 100 polls, 50 ms apart (well under idleTimeoutMs), or until the server forgot the connection.
    for (let round = 0; round < 100; round++) {
      const held = server.stats().closingLongPolls
      const reply = await poll(server, id)
      statuses.push(reply.status)
      if (reply.status === 410) {
        expect(held).toBe(0)
        break
      }
      // Counted for as long as it answers.
      expect(held).toBe(1)
      expect(reply.body.close).toEqual({ code: 4001, reason: 'hello timeout' })
      await sleep(50)
    }
    expect(statuses.at(-1)).toBe(410)
    expect(performance.now() - closedAt).toBeLessThan(idleTimeoutMs + 500)
    // The close went out once, and again at most twice (lost responses); then the id is gone for good.
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(2)
    expect((await poll(server, id)).status).toBe(410)
    expect(server.stats()).toMatchObject({ connections: 0, longPolls: 0, closingLongPolls: 0 })
  })

  it('forgets a closed connection within idleTimeoutMs of its close even while POSTs keep it busy', async () => {
    const idleTimeoutMs = 400
    const server = await startServer({ helloTimeoutMs: 100, longPoll: { pollTimeoutMs: 200, idleTimeoutMs } })
    const id = await openSilent(server)
    expect((await poll(server, id)).body.close?.code).toBe(4001)
    const closedAt = performance.now()
    let status = 200
    for (let round = 0; round < 100 && status !== 410; round++) {
      status = (await post(server, id, [])).status
      await sleep(50)
    }
    expect(status).toBe(410)
    const lifetime = performance.now() - closedAt
    expect(lifetime).toBeGreaterThanOrEqual(idleTimeoutMs - 100)
    expect(lifetime).toBeLessThan(idleTimeoutMs + 500)
    expect(server.stats().closingLongPolls).toBe(0)
  })

  it('forgets a closed connection nobody polls within idleTimeoutMs of its close', async () => {
    const server = await startServer({ helloTimeoutMs: 50, longPoll: { pollTimeoutMs: 100, idleTimeoutMs: 200 } })
    const id = await openSilent(server)
    await waitFor('the hello timeout', () => server.stats().closingLongPolls === 1, 2000)
    await waitFor('the close to be forgotten', () => server.stats().closingLongPolls === 0, 2000)
    expect((await poll(server, id)).status).toBe(410)
  })

  it('keeps an open connection that keeps polling alive for many idle timeouts', async () => {
    const server = await startServer({ longPoll: { pollTimeoutMs: 50, idleTimeoutMs: 100 } })
    const opened = await call(pollUrl(server), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ type: 'hello', v: 1 }]),
    })
    const id = opened.body.connection as string
    let cursor = 0
    const started = performance.now()
    // 1 s of polling: ten idle timeouts, a hundred times over the close's lifetime bound if it applied.
    while (performance.now() - started < 1000) {
      const reply = await poll(server, id, cursor)
      expect(reply.status).toBe(200)
      expect(reply.body.close).toBeUndefined()
      cursor = reply.body.cursor as number
    }
    expect(cursor).toBeGreaterThanOrEqual(1)
    expect(server.stats()).toMatchObject({ connections: 1, longPolls: 1, closingLongPolls: 0 })
  })

  it('counts closed long-poll connections against maxConnectionsPerAddress until they are forgotten', async () => {
    const server = await startServer({
      helloTimeoutMs: 50,
      maxConnectionsPerAddress: 2,
      longPoll: { pollTimeoutMs: 100, idleTimeoutMs: 5000 },
    })
    const first = await openSilent(server)
    await openSilent(server)
    // Past the close grace the protocol side is gone; only the held closes remain, and they still count.
    await waitFor('both connections released', () => server.stats().connections === 0, 3000)
    expect(server.stats().closingLongPolls).toBe(2)
    const refused = await call(pollUrl(server), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '[]',
    })
    expect(refused.status).toBe(429)
    expect(refused.body).toMatchObject({ error: 'too many connections' })
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // Fetching its close (three times: once, then twice more as if the responses were lost) frees the slot at once.
    for (let round = 0; round < 3; round++) expect((await poll(server, first)).body.close?.code).toBe(4001)
    expect((await poll(server, first)).status).toBe(410)
    expect(server.stats().closingLongPolls).toBe(1)
    await openSilent(server)
  })
})
