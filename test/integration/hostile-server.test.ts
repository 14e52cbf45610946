import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { ClientFrame, LifelineError, OutboxItem } from '../../src/core'
import { longPollFallback } from '../../src/core/fallback'
import { getConnectionStore } from '../../src/store'
import { waitFor, waitForStatus } from './helpers'
import { useChannelsHarness, type ChannelsClient } from './channels-harness'

/**
 * A lifeline server that answers `hello`, `sub`, `ping` and `pub` and lets the test write any frame, over a real `ws`
 * WebSocket server or a minimal long-poll endpoint (docs/protocol.md §8): the wire input of a broken or hostile server.
 */
interface HostileServer {
  readonly url: string
  /** Client frames received, parsed, every connection. */
  readonly received: ClientFrame[]
  /** Writes `text` to the newest connection as one frame. */
  send(text: string): void
  close(): Promise<void>
}

interface Script {
  /** The `welcome.session` of the n-th connection (0-based). */
  session?: (connection: number) => string
  /** The answer to a `pub` (default: ack). */
  pub?: (frame: Extract<ClientFrame, { type: 'pub' }>) => string
}

/** One text frame whose `code` has a `toString` that is not a function: `String(code)` throws a TypeError. */
const BAD_CODE = '{"toString":1}'

function answer(frame: ClientFrame, connection: number, script: Script): string[] {
  if (frame.type === 'hello') {
    const session = script.session?.(connection) ?? `s-${String(connection)}`
    return [
      JSON.stringify({
        type: 'welcome',
        session,
        resumed: false,
        heartbeatMs: 1000,
        maxMessageBytes: 65536,
        resumeWindowMs: 5000,
      }),
    ]
  }
  if (frame.type === 'sub')
    return [JSON.stringify({ type: 'subscribed', ch: frame.ch, resumed: false, epoch: 'e1', seq: 0 })]
  if (frame.type === 'ping') return ['{"type":"pong"}']
  if (frame.type === 'pub') return [script.pub?.(frame) ?? JSON.stringify({ type: 'ack', id: frame.id })]
  return []
}

async function webSocketServer(script: Script): Promise<HostileServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const received: ClientFrame[] = []
  const sockets: import('ws').WebSocket[] = []
  wss.on('connection', (socket) => {
    const connection = sockets.push(socket) - 1
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ClientFrame
      received.push(frame)
      for (const text of answer(frame, connection, script)) socket.send(text)
    })
  })
  const { port } = wss.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${String(port)}/lifeline`,
    received,
    send: (text) => sockets.at(-1)!.send(text),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate()
        wss.close(() => resolve())
      }),
  }
}

/** The long-poll carrier: open, send batches, poll with a cursor, close (docs/protocol.md §8.1–§8.4). */
async function longPollServer(script: Script): Promise<HostileServer> {
  const received: ClientFrame[] = []
  const connections: { frames: string[]; waiting: (() => void) | null }[] = []
  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    response.end(JSON.stringify(body))
  }
  const push = (index: number, text: string) => {
    const connection = connections[index]!
    connection.frames.push(text)
    connection.waiting?.()
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const id = request.headers['lifeline-connection']
      const index = typeof id === 'string' ? Number(id.slice(1)) : -1
      if (request.method === 'POST' && index < 0) {
        const created = `c${String(connections.push({ frames: [], waiting: null }) - 1)}`
        return json(response, 200, { connection: created }, { 'Lifeline-Connection': created })
      }
      const connection = connections[index]
      if (!connection) return json(response, 410, { error: 'gone' })
      if (request.method === 'DELETE') {
        response.writeHead(204).end()
        return connection.waiting?.()
      }
      if (request.method === 'POST') {
        const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[]
        json(response, 200, {})
        for (const element of batch) {
          const frame = (typeof element === 'string' ? JSON.parse(element) : element) as ClientFrame
          received.push(frame)
          for (const text of answer(frame, index, script)) push(index, text)
        }
        return
      }
      const cursor = Number(request.headers['lifeline-cursor'] ?? 0)
      const reply = () => {
        connection.waiting = null
        clearTimeout(timer)
        const frames = connection.frames.slice(cursor)
        json(response, 200, { cursor: cursor + frames.length, frames })
      }
      const timer = setTimeout(reply, 400)
      if (connection.frames.length > cursor) reply()
      else connection.waiting = reply
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${String(port)}/lifeline`,
    received,
    send: (text) => push(connections.length - 1, text),
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.waiting?.()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const servers: HostileServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})
// Registered second so that its hooks run first: clients are disposed before their server goes away.
const h = useChannelsHarness()

/** Uncaught exceptions (a throw out of a `ws` event handler) and unhandled rejections (out of the long-poll loop). */
const uncaught: unknown[] = []
const onUncaught = (error: unknown) => uncaught.push(error)
beforeEach(() => {
  uncaught.length = 0
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
})
afterEach(() => {
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUncaught)
})

/** A storage that already remembers long-poll: the client starts on it at once. */
const onLongPoll = () => ({ getItem: () => 'longpoll', setItem: () => undefined, removeItem: () => undefined })

const carriers = [
  { carrier: 'WebSocket', make: webSocketServer, options: {} },
  {
    carrier: 'long-poll',
    make: longPollServer,
    options: {
      fallback: longPollFallback({
        storage: onLongPoll(),
        upgradeProbeMs: 600_000,
        longPoll: { pollTimeoutMs: 1000, requestTimeoutMs: 1500 },
      }),
    },
  },
] as const

/** A subscribed client of `server`, and what its `room` listener received. */
async function subscribed(server: HostileServer, options: object): Promise<ChannelsClient & { delivered: unknown[] }> {
  const entry = h.client({ url: server.url, ...options })
  const delivered: unknown[] = []
  await new Promise<void>((resolve) => {
    entry.protocol.channel('room', {
      message: (message) => delivered.push(message.data),
      status: (status) => status.state === 'subscribed' && resolve(),
    })
  })
  return { ...entry, delivered }
}

const msg = (seq: number) => JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e1', seq, data: seq })

describe.each(carriers)('a hostile lifeline server over $carrier (integration)', ({ make, options }) => {
  it('nack and error with code {"toString":1}: nothing thrown, the item fails, the connection keeps working', async () => {
    const server = await make({
      pub: (frame) =>
        (frame.data as { bad?: boolean }).bad
          ? `{"type":"nack","id":${JSON.stringify(frame.id)},"code":${BAD_CODE},"reason":"no"}`
          : JSON.stringify({ type: 'ack', id: frame.id }),
    })
    servers.push(server)
    const entry = await subscribed(server, options)
    const failed: { item: OutboxItem; error: LifelineError }[] = []
    entry.client.on('messageFailed', (event) => failed.push(event))

    const refused = entry.protocol.publish('room', { bad: true })
    await waitFor(() => failed.length === 1, 2000, 'the refused item failed')
    server.send(`{"type":"error","code":${BAD_CODE},"reason":"no"}`)
    server.send(msg(1))
    server.send(msg(2))
    const after = entry.protocol.publish('room', { after: true })
    await waitFor(
      () => entry.delivered.length === 2 && entry.client.getSnapshot().outbox.inFlight === 0,
      2000,
      'delivery and ack',
    )

    expect(uncaught).toEqual([])
    expect(failed.map(({ item, error }) => [item.id, error.code, error.message])).toEqual([
      [refused, 'MESSAGE_REFUSED', 'malformed nack'],
    ])
    expect(entry.client.outbox.items().map((item) => [item.id, item.state])).toEqual([[refused, 'failed']])
    expect(
      server.received.filter((frame) => frame.type === 'pub').map((frame) => (frame as { id: string }).id),
    ).toEqual([refused, after])
    expect(entry.delivered).toEqual([1, 2])
    expect(entry.client.getSnapshot()).toMatchObject({ status: 'open', lastError: { code: 'PROTOCOL_ERROR' } })
    expect(server.received.filter((frame) => frame.type === 'hello')).toHaveLength(1)
  })

  it('a 2 MiB welcome.session: PROTOCOL_ERROR, not kept, and not sent back in the next hello', async () => {
    const server = await make({ session: (connection) => (connection === 0 ? 'a'.repeat(2 * 1024 * 1024) : 's-ok') })
    servers.push(server)
    const entry = h.client({ url: server.url, ...options })
    await waitForStatus(entry.client, 'failed', 3000)
    expect(entry.client.getSnapshot()).toMatchObject({ lastError: { code: 'PROTOCOL_ERROR' }, session: { id: null } })
    entry.client.retry()
    await waitForStatus(entry.client, 'open', 3000)
    const hellos = server.received.filter((frame) => frame.type === 'hello')
    expect(hellos).toHaveLength(2)
    expect(hellos.map((hello) => hello.session)).toEqual([undefined, undefined])
    expect(entry.client.getSnapshot().session.id).toBe('s-ok')
    expect(uncaught).toEqual([])
  })

  it('a flood of 500 malformed frames: one store notification, not 500; the next good frame arrives', async () => {
    const server = await make({})
    servers.push(server)
    const entry = await subscribed(server, options)
    const store = getConnectionStore(entry.client)
    let notifications = 0
    store.subscribe(() => notifications++)
    for (let index = 0; index < 500; index++) server.send(index % 2 ? 'garbage' : `{"type":"ack","id":${BAD_CODE}}`)
    server.send(msg(1))
    await waitFor(() => entry.delivered.length === 1, 2000, 'the good frame after the flood')
    // Within the report window (1 s), all 500 problems are one notification (a latency sample may add one more).
    expect(notifications).toBeLessThanOrEqual(2)
    expect(store.getState()).toMatchObject({ status: 'open', lastError: { code: 'PROTOCOL_ERROR' } })
    expect(uncaught).toEqual([])
  })
})
