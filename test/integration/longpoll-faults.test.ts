import { createServer, request as httpRequest } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { longPollFallback } from '../../src/core/fallback'
import type { TestServer } from '../../src/testing'
import { sleep, waitFor } from './helpers'
import { caughtUp, publishNumbered, serverLoad, subscribeAll, useChannelsHarness } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

const h = useChannelsHarness()

/** What the HTTP proxy does to the next request of a method. */
type Fault =
  | { kind: 'hang' }
  | { kind: 'lose' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }

/**
 * A real HTTP proxy in front of the reference server's long-poll endpoint (it has no upgrade handler, so WebSocket
 * never works through it) that applies one queued fault per request: hang it, lose its response after the server
 * handled it, or answer it in the server's place. `maxBody` answers 413 to larger POST bodies, as a stricter proxy.
 */
async function httpProxy(server: TestServer) {
  const target = new URL(server.url)
  const faults: Record<'GET' | 'POST', Fault[]> = { GET: [], POST: [] }
  const hung: ServerResponse[] = []
  const seen: string[] = []
  let maxBody = Infinity
  const proxy = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      const method = incoming.method === 'GET' || incoming.method === 'POST' ? incoming.method : null
      const fault = method ? faults[method].shift() : undefined
      seen.push(`${incoming.method ?? ''}${fault ? ` ${fault.kind}` : ''}`)
      if (fault?.kind === 'hang') return void hung.push(outgoing)
      if (fault?.kind === 'status') {
        outgoing.writeHead(fault.status, fault.headers)
        return void outgoing.end(fault.body ?? '')
      }
      if (method === 'POST' && body.byteLength > maxBody) {
        outgoing.writeHead(413, { 'Content-Type': 'application/json' })
        return void outgoing.end('{"error":"too large"}')
      }
      const forwarded = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          if (fault?.kind === 'lose') {
            // The server handled it (and sent its frames): the answer never reaches the client.
            answer.resume()
            return void outgoing.destroy()
          }
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
        },
      )
      forwarded.on('error', () => outgoing.destroy())
      forwarded.end(body)
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const response of hung) response.destroy()
        proxy.closeAllConnections()
        proxy.close(() => resolve())
      }),
  )
  const port = (proxy.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${String(port)}${target.pathname}`,
    next(method: 'GET' | 'POST', fault: Fault) {
      faults[method].push(fault)
    },
    limitBody(bytes: number) {
      maxBody = bytes
    },
    seen,
  }
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/** A storage that already remembers long-poll: the client starts on it at once (as after a reload). */
const onLongPoll = () => {
  const memory = new Map<string, string>()
  return {
    getItem: () => 'longpoll',
    setItem: (key: string, value: string) => void memory.set(key, value),
    removeItem: (key: string) => void memory.delete(key),
  }
}

async function setup() {
  const server = await h.server()
  const proxy = await httpProxy(server)
  const checker = createSequenceChecker()
  const entry = h.client({
    url: proxy.url,
    // A heartbeat much slower than the hung-poll timeout, so the transport's own recovery is what is tested (3 s was
    // too close: on a loaded machine a ping answered through the re-sent poll came late and the link was replaced).
    heartbeat: { intervalMs: 1000, timeoutMs: 6000 },
    // A shorter poll than the default 25 s, so a hung one is noticed in a test's time.
    fallback: longPollFallback({
      storage: onLongPoll(),
      upgradeProbeMs: 600_000,
      longPoll: { pollTimeoutMs: 1000, requestTimeoutMs: 1500 },
    }),
  })
  // This file's cleanups run before the harness's: release the client (its DELETE) while the proxy still forwards.
  cleanups.unshift(async () => {
    entry.client.dispose()
    await waitFor(() => server.connections === 0, 2000, 'the long-poll connection released')
  })
  await subscribeAll(entry, checker, 'subscriber', ['feed', 'uplink'])
  expect(entry.client.getSnapshot().transport).toBe('longpoll')
  return { server, proxy, checker, entry }
}

async function settle(checker: ReturnType<typeof createSequenceChecker>, server: TestServer) {
  await caughtUp(checker, 8000)
  const report = checker.report()
  expect(report).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 0, violations: [] })
  const uplink = checker.published('uplink')
  expect(server.applied('uplink')).toEqual(
    Array.from({ length: uplink }, (_, index) => ({ ch: 'uplink', n: index + 1 })),
  )
}

describe('long-poll faults through the whole client (R23)', () => {
  it('R23 a hung poll is abandoned after pollTimeoutMs and sent again with the same cursor: nothing lost or doubled', async () => {
    const { server, proxy, checker, entry } = await setup()
    proxy.next('GET', { kind: 'hang' })
    const load = serverLoad({ server, checker, channels: ['feed'], everyMs: 10, maxTicks: 200 })
    await sleep(2500)
    await load.stop()
    await settle(checker, server)
    expect(proxy.seen).toContain('GET hang')
    // Recovered inside the same long-poll connection: never reconnected.
    expect(entry.statuses).toEqual(['connecting', 'open'])
  })

  it('R23 a lost poll response (the server sent its frames, the client never got them) is fetched again: 0 dup via the cursor', async () => {
    const { server, proxy, checker, entry } = await setup()
    const load = serverLoad({ server, checker, channels: ['feed'], everyMs: 5, maxTicks: 300 })
    for (let index = 0; index < 3; index++) {
      await sleep(300)
      proxy.next('GET', { kind: 'lose' })
    }
    await sleep(500)
    await load.stop()
    await settle(checker, server)
    expect(proxy.seen.filter((line) => line === 'GET lose')).toHaveLength(3)
    expect(entry.statuses).toEqual(['connecting', 'open'])
  })

  it('R23 a 410 (the server forgot the connection) starts a new one that resumes the session: no gap', async () => {
    const { server, proxy, checker, entry } = await setup()
    const load = serverLoad({ server, checker, channels: ['feed'], everyMs: 10, maxTicks: 150 })
    await sleep(300)
    proxy.next('GET', { kind: 'status', status: 410 })
    await sleep(1200)
    await load.stop()
    await settle(checker, server)
    expect(entry.client.getSnapshot().session.resumed).toBe(true)
  })

  it('R23 a 413 from a stricter proxy splits the batch; a message too big alone fails with 1009, the rest arrive', async () => {
    const { server, proxy, checker, entry } = await setup()
    proxy.limitBody(2000)
    const failed: string[] = []
    entry.client.on('messageFailed', ({ error }) => failed.push(error.code))
    // 30 publishes in one tick: one batch of ~3 kB, refused, split, resent in order.
    for (let index = 0; index < 30; index++) publishNumbered(entry.protocol, checker, 'uplink')
    await waitFor(() => server.applied('uplink').length === 30, 5000, '30 publishes applied')
    expect(proxy.seen.filter((line) => line === 'POST').length).toBeGreaterThan(1)
    entry.protocol.publish('uplink', { big: 'x'.repeat(4000) })
    await waitFor(() => failed.length === 1, 5000, 'the oversized publish failed')
    expect(failed).toEqual(['MESSAGE_TOO_LARGE'])
    publishNumbered(entry.protocol, checker, 'uplink')
    await settle(checker, server)
  })

  it('R23 a 429 with Retry-After is honoured (clamped) before the next attempt; then it resumes with nothing lost', async () => {
    const { server, proxy, checker, entry } = await setup()
    const load = serverLoad({ server, checker, channels: ['feed'], everyMs: 10, maxTicks: 300 })
    await sleep(200)
    proxy.next('GET', { kind: 'status', status: 429, headers: { 'Retry-After': '2' } })
    await waitFor(() => entry.client.getSnapshot().status === 'reconnecting', 3000, 'reconnecting after 429')
    const { nextRetryAt, lastClose } = entry.client.getSnapshot()
    expect(lastClose?.code).toBe(4002)
    expect(nextRetryAt! - Date.now()).toBeGreaterThan(1500)
    await waitFor(() => entry.client.getSnapshot().status === 'open', 4000, 'open again')
    await load.stop()
    await settle(checker, server)
  })

  it('R23 an HTML 200 from a captive portal is a transport error, never a parse exception; the client recovers', async () => {
    const { server, proxy, checker, entry } = await setup()
    const errors: string[] = []
    entry.client.on('error', (error) => errors.push(error.code))
    const load = serverLoad({ server, checker, channels: ['feed'], everyMs: 10, maxTicks: 150 })
    await sleep(200)
    proxy.next('GET', {
      kind: 'status',
      status: 200,
      headers: { 'Content-Type': 'text/html' },
      body: '<!doctype html><title>Sign in to the hotel Wi-Fi</title>{"frames":[]}',
    })
    await sleep(1200)
    await load.stop()
    await settle(checker, server)
    expect(errors).toContain('TRANSPORT_ERROR')
    expect(h.problems).toEqual([])
  })
})
