import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  createLifeline,
  InvalidMessageError,
  InvalidOptionsError,
  lifelineProtocol,
  MAX_JSON_DEPTH,
  WireErrorCodes,
} from '../../src/core'
import type { LifelineClient, WebSocketConstructor } from '../../src/core'
import { cleanup, connectReady, startServer } from '../server/helpers'

const clients: LifelineClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose()
  await cleanup()
})

/** JSON text of `depth` nested arrays, built as text: `JSON.stringify` itself overflows the stack on deep values. */
const deepText = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

/** A value of `depth` nested arrays, built without recursion. */
function deepValue(depth: number): unknown {
  let value: unknown[] = []
  for (let level = 1; level < depth; level++) value = [value]
  return value
}

const pubText = (id: string, data: string, ch = 'room'): string =>
  `{"type":"pub","ch":${JSON.stringify(ch)},"id":${JSON.stringify(id)},"data":${data}}`

/** A client that never connects: publishes stay in its outbox, where the test can count them. */
function offlineClient() {
  const protocol = lifelineProtocol()
  const client = createLifeline({
    url: 'ws://127.0.0.1:9/lifeline',
    protocol,
    autoConnect: false,
    environment: { WebSocket: WebSocket as unknown as WebSocketConstructor },
  })
  clients.push(client)
  return { client, protocol }
}

describe('JSON nesting limit: server', () => {
  it('nacks a pub of 100 000-deep data with TOO_DEEP, keeps the connection open, and acks the next good pub', async () => {
    const server = await startServer({ maxPayload: 1024 * 1024 })
    const { client } = await connectReady(server.url)
    const { client: subscriber } = await connectReady(server.url)
    await subscriber.subscribe('room')

    client.socket.send(pubText('deep-1', deepText(100_000)))
    const nack = await client.next('nack')
    expect(nack).toEqual({ type: 'nack', id: 'deep-1', code: 'TOO_DEEP', reason: expect.stringContaining('64') })
    expect(WireErrorCodes.tooDeep).toBe('TOO_DEEP')

    client.send({ type: 'pub', ch: 'room', id: 'good-1', data: { ok: true } })
    await client.next('ack', (frame) => frame.id === 'good-1')
    const message = await subscriber.next('msg')
    expect(message).toMatchObject({ seq: 1, data: { ok: true } })
    expect(client.close).toBeNull()
    expect(server.stats().connections).toBe(2)
  })

  it(`acks data nested ${MAX_JSON_DEPTH - 1} levels (a frame of ${MAX_JSON_DEPTH}) and nacks one level more`, async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    const { client: subscriber } = await connectReady(server.url)
    await subscriber.subscribe('room')

    client.socket.send(pubText('fits', deepText(MAX_JSON_DEPTH - 1)))
    await client.next('ack', (frame) => frame.id === 'fits')
    expect((await subscriber.next('msg')).data).toEqual(deepValue(MAX_JSON_DEPTH - 1))

    client.socket.send(pubText('too-deep', deepText(MAX_JSON_DEPTH)))
    expect(await client.next('nack')).toMatchObject({ id: 'too-deep', code: 'TOO_DEEP' })
  })

  it('answers a too-deep frame of another type, or a too-deep pub without a readable id, with error INVALID_FRAME', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.socket.send(`{"type":"sub","ch":"room","extra":${deepText(1000)}}`)
    expect(await client.next('error')).toMatchObject({ code: 'INVALID_FRAME', ch: 'room' })
    client.socket.send(`{"type":"pub","ch":"room","id":7,"data":${deepText(1000)}}`)
    expect(await client.next('error')).toMatchObject({ code: 'INVALID_FRAME' })
    client.socket.send(`{"type":"pub","ch":"room","id":"x","data":${'['.repeat(1000)}`)
    expect(await client.next('error')).toMatchObject({ code: 'INVALID_FRAME', reason: 'frame is not JSON' })
    client.send({ type: 'ping' })
    await client.next('pong')
    expect(client.all('nack')).toEqual([])
  })

  it('honours a lower maxJsonDepth, and refuses one outside 1–64', async () => {
    const server = await startServer({ maxJsonDepth: 4 })
    const { client } = await connectReady(server.url)
    client.socket.send(pubText('three', deepText(3)))
    await client.next('ack', (frame) => frame.id === 'three')
    client.socket.send(pubText('four', deepText(4)))
    expect(await client.next('nack')).toMatchObject({
      id: 'four',
      code: 'TOO_DEEP',
      reason: expect.stringContaining('4'),
    })

    for (const maxJsonDepth of [0, 65, 1.5]) {
      await expect(startServer({ maxJsonDepth })).rejects.toBeInstanceOf(InvalidOptionsError)
    }
  })

  it(`refuses an application publish whose data a client could not parse (deeper than ${MAX_JSON_DEPTH - 1})`, async () => {
    const server = await startServer()
    await expect(server.publish('room', deepValue(MAX_JSON_DEPTH))).rejects.toMatchObject({ code: 'INVALID_DATA' })
    await expect(server.publish('room', deepValue(100_000))).rejects.toMatchObject({ code: 'INVALID_DATA' })
    await expect(server.publish('room', deepValue(MAX_JSON_DEPTH - 1))).resolves.toMatchObject({ seq: 1 })
  })

  it('accepts a long-poll batch carrying a frame at the limit, and refuses one past it with 400', async () => {
    const server = await startServer()
    const url = `${server.url.replace(/^ws/, 'http')}/poll`
    const post = (body: string, id?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(id ? { 'Lifeline-Connection': id } : {}) },
        body,
      })
    const opened = await post('[{"type":"hello","v":1}]')
    expect(opened.status).toBe(200)
    const { connection } = (await opened.json()) as { connection: string }
    expect((await post(`[${pubText('lp-fits', deepText(MAX_JSON_DEPTH - 1))}]`, connection)).status).toBe(200)
    expect(await pollFor(url, connection, 'lp-fits')).toMatchObject({ type: 'ack', id: 'lp-fits' })
    expect((await post(`[${pubText('lp-deep', deepText(10_000))}]`, connection)).status).toBe(400)
  })
})

/** Polls a long-poll connection until the ack or nack of `id` arrives (at most 20 polls). */
async function pollFor(url: string, connection: string, id: string): Promise<Record<string, unknown>> {
  let cursor = 0
  for (let poll = 0; poll < 20; poll++) {
    const response = await fetch(url, {
      headers: { 'Lifeline-Connection': connection, 'Lifeline-Cursor': String(cursor) },
    })
    const body = (await response.json()) as { cursor: number; frames: string[] }
    cursor = body.cursor
    for (const text of body.frames) {
      const frame = JSON.parse(text) as Record<string, unknown>
      if ((frame.type === 'ack' || frame.type === 'nack') && frame.id === id) return frame
    }
  }
  throw new Error(`no answer to ${id}`)
}

describe('JSON nesting limit: client', () => {
  it(`publish() of data nested deeper than ${MAX_JSON_DEPTH - 1} levels throws InvalidMessageError; nothing is queued`, () => {
    const { client, protocol } = offlineClient()
    for (const depth of [MAX_JSON_DEPTH, 1000, 100_000]) {
      let thrown: unknown
      try {
        protocol.publish('room', deepValue(depth))
      } catch (error) {
        thrown = error
      }
      expect(thrown, `depth ${depth}`).toBeInstanceOf(InvalidMessageError)
      expect((thrown as InvalidMessageError).code).toBe('INVALID_MESSAGE')
    }
    expect(client.outbox.items()).toEqual([])
    protocol.publish('room', deepValue(MAX_JSON_DEPTH - 1))
    expect(client.outbox.items()).toHaveLength(1)
  })

  it(`sendJson() of a value nested deeper than ${MAX_JSON_DEPTH} levels throws InvalidMessageError; nothing is queued`, () => {
    const client = createLifeline({
      url: 'ws://127.0.0.1:9/raw',
      autoConnect: false,
      environment: { WebSocket: WebSocket as unknown as WebSocketConstructor },
    })
    clients.push(client)
    expect(() => client.sendJson(deepValue(MAX_JSON_DEPTH + 1))).toThrow(InvalidMessageError)
    expect(() => client.sendJson(deepValue(100_000))).toThrow(InvalidMessageError)
    expect(client.outbox.items()).toEqual([])
    client.sendJson(deepValue(MAX_JSON_DEPTH))
    expect(client.outbox.items()).toHaveLength(1)
  })
})
