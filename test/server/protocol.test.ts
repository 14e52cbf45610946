import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createMemoryBroker } from '../../src/server'
import type { Broker, BrokerListener } from '../../src/server'
import { cleanup, connect, connectReady, logLines, sessionIds, startServer, waitFor } from './helpers'

const brokers: Broker[] = []

afterEach(async () => {
  await cleanup()
  await Promise.all(brokers.splice(0).map((broker) => broker.close()))
})

/**
 * A memory broker that behaves like one across a network: subscribing, reading history and each delivery complete a
 * little later, so live messages arrive while a subscription is still reading its history.
 */
function laggyBroker(): Broker {
  const inner = createMemoryBroker()
  const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms))
  return {
    ...inner,
    publish: (channel, payload) => inner.publish(channel, payload),
    subscribe: async (channel, listener) =>
      later(1, await inner.subscribe(channel, (message) => setImmediate(() => listener(message)))),
    history: async (channel, since) => later(3, await inner.history(channel, since)),
  }
}

afterAll(() => {
  // Payload markers used below and session ids must never reach a log line.
  const logs = logLines.join('\n')
  expect(logs).not.toContain('secret-payload')
  expect(sessionIds.size).toBeGreaterThan(10)
  for (const session of sessionIds) expect(logs).not.toContain(session)
})

describe('lifeline server: handshake', () => {
  it('answers hello with welcome carrying a fresh session and the limits', async () => {
    const server = await startServer({ heartbeat: { intervalMs: 1000 }, resume: { windowMs: 5000 } })
    const { welcome } = await connectReady(server.url)
    expect(welcome).toEqual({
      type: 'welcome',
      session: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as string,
      resumed: false,
      heartbeatMs: 1000,
      maxMessageBytes: 65536,
      resumeWindowMs: 5000,
    })
  })

  it('answers ping with pong, before and after hello', async () => {
    const server = await startServer()
    const client = await connect(server.url)
    client.send({ type: 'ping' })
    await client.next('pong')
    await client.hello()
    client.send({ type: 'ping' })
    await client.next('pong')
  })

  it('closes with 1008 when the first frame is not hello, and for an unsupported version', async () => {
    const server = await startServer()
    const early = await connect(server.url)
    early.send({ type: 'sub', ch: 'a' })
    expect((await early.closed()).code).toBe(1008)
    const future = await connect(server.url)
    future.send({ type: 'hello', v: 2 })
    expect(await future.closed()).toEqual({ code: 1008, reason: expect.stringContaining('version') as string })
  })

  it('processes frames pipelined right behind hello in order', async () => {
    const server = await startServer({ authenticate: async () => ({ id: 'u1' }) })
    const client = await connect(server.url)
    client.send({ type: 'hello', v: 1, token: 't' })
    client.send({ type: 'sub', ch: 'pipe' })
    client.send({ type: 'pub', ch: 'pipe', id: 'm1', data: 1 })
    await client.next('ack', (frame) => frame.id === 'm1')
    expect(client.frames.map((frame) => frame.type)).toEqual(['welcome', 'subscribed', 'msg', 'ack'])
  })

  it('answers a second hello with ALREADY_GREETED and keeps the connection', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.send({ type: 'hello', v: 1 })
    expect(await client.next('error')).toMatchObject({ code: 'ALREADY_GREETED' })
    client.send({ type: 'ping' })
    await client.next('pong')
  })
})

describe('lifeline server: channels', () => {
  it('delivers publications with seq +1 per message and one epoch, acking the publisher', async () => {
    const server = await startServer()
    const { client: reader } = await connectReady(server.url)
    const { client: writer } = await connectReady(server.url)
    const subscribed = await reader.subscribe('room')
    expect(subscribed).toMatchObject({ ch: 'room', resumed: false, seq: 0 })
    for (let index = 1; index <= 5; index += 1)
      writer.send({ type: 'pub', ch: 'room', id: `m${index}`, data: { index } })
    await writer.next('ack', (frame) => frame.id === 'm5')
    await waitFor('5 messages', () => reader.all('msg').length === 5)
    expect(reader.all('msg')).toEqual(
      [1, 2, 3, 4, 5].map((seq) => ({ type: 'msg', ch: 'room', epoch: subscribed.epoch, seq, data: { index: seq } })),
    )
    expect(writer.all('ack').map((frame) => frame.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5'])
  })

  it('delivers server.publish() to subscribers and resolves with the position', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    const { epoch } = await client.subscribe('news')
    await expect(server.publish('news', { title: 'secret-payload' })).resolves.toEqual({ epoch, seq: 1 })
    expect(await client.next('msg')).toEqual({
      type: 'msg',
      ch: 'news',
      epoch,
      seq: 1,
      data: { title: 'secret-payload' },
    })
  })

  it('rejects server.publish() with a bad channel or non-JSON data', async () => {
    const server = await startServer()
    await expect(server.publish('', 1)).rejects.toMatchObject({ code: 'INVALID_CHANNEL' })
    await expect(server.publish('a', undefined)).rejects.toMatchObject({ code: 'INVALID_DATA' })
    await expect(server.publish('a', 10n)).rejects.toMatchObject({ code: 'INVALID_DATA' })
  })

  it('stops delivery after unsub and answers unsubscribed', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    await client.subscribe('a')
    client.send({ type: 'unsub', ch: 'a' })
    await client.next('unsubscribed')
    await server.publish('a', 1)
    client.send({ type: 'ping' })
    await client.next('pong')
    expect(client.all('msg')).toEqual([])
    expect(server.connections()[0]?.channels).toEqual([])
  })

  it('treats names like __proto__ as ordinary channels', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    await client.subscribe('__proto__')
    await server.publish('__proto__', { polluted: true })
    expect(await client.next('msg')).toMatchObject({ ch: '__proto__', seq: 1 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('lifeline server: resume', () => {
  it('replays everything after `since` inside the window, then subscribed{resumed:true}, then live', async () => {
    const server = await startServer()
    const { client: first } = await connectReady(server.url)
    const { epoch } = await first.subscribe('feed')
    for (let index = 1; index <= 10; index += 1) await server.publish('feed', index)
    await waitFor('3 messages', () => first.all('msg').length >= 3)
    first.socket.terminate()
    const { client: again } = await connectReady(server.url)
    const subscribed = await again.subscribe('feed', { epoch, seq: 3 })
    expect(subscribed).toEqual({ type: 'subscribed', ch: 'feed', resumed: true, epoch, seq: 10 })
    expect(again.all('msg').map((frame) => frame.seq)).toEqual([4, 5, 6, 7, 8, 9, 10])
    // The replay precedes `subscribed`.
    expect(again.frames.findIndex((frame) => frame.type === 'subscribed')).toBe(again.frames.length - 1)
    await server.publish('feed', 11)
    expect(await again.next('msg')).toMatchObject({ seq: 11, data: 11 })
  })

  it('answers resumed:true with no replay for a client already at the head', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    await server.publish('up', 1)
    const head = await client.subscribe('up')
    const { client: again } = await connectReady(server.url)
    expect(await again.subscribe('up', { epoch: head.epoch, seq: head.seq })).toMatchObject({ resumed: true, seq: 1 })
    expect(again.all('msg')).toEqual([])
  })

  it('answers resumed:false without any replay for an unknown epoch or a seq ahead of the head', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    await server.publish('x', 1)
    const unknown = await client.subscribe('x', { epoch: 'not-an-epoch', seq: 0 })
    expect(unknown).toMatchObject({ resumed: false, seq: 1 })
    const ahead = await client.subscribe('x', { epoch: unknown.epoch, seq: 99 })
    expect(ahead).toMatchObject({ resumed: false, epoch: unknown.epoch, seq: 1 })
    expect(client.all('msg')).toEqual([])
  })

  it('answers resumed:false when `since` is older than the replay cap (never a partial replay)', async () => {
    const server = await startServer({ resume: { maxMessages: 5 } })
    const { client } = await connectReady(server.url)
    const { epoch } = await client.subscribe('capped')
    for (let index = 1; index <= 8; index += 1) await server.publish('capped', index)
    const { client: again } = await connectReady(server.url)
    // seq 3 → would need 4…8 (5 messages): inside the cap.
    expect(await again.subscribe('capped', { epoch, seq: 3 })).toMatchObject({ resumed: true, seq: 8 })
    expect(again.all('msg').map((frame) => frame.seq)).toEqual([4, 5, 6, 7, 8])
    const { client: late } = await connectReady(server.url)
    // seq 2 → would need 3…8 (6 messages), but 3 was dropped.
    expect(await late.subscribe('capped', { epoch, seq: 2 })).toMatchObject({ resumed: false, epoch, seq: 8 })
    expect(late.all('msg')).toEqual([])
  })

  it('answers resumed:false when `since` is older than the byte cap', async () => {
    const server = await startServer({ resume: { maxBytes: 100 } })
    const { client } = await connectReady(server.url)
    const { epoch } = await client.subscribe('bytes')
    for (let index = 1; index <= 4; index += 1) await server.publish('bytes', 'x'.repeat(40))
    const { client: again } = await connectReady(server.url)
    expect(await again.subscribe('bytes', { epoch, seq: 2 })).toMatchObject({ resumed: true, seq: 4 })
    expect(await again.subscribe('bytes', { epoch, seq: 1 })).toMatchObject({ resumed: false, seq: 4 })
  })

  it('answers resumed:false once the messages after `since` left the time window', async () => {
    let now = 0
    const broker = createMemoryBroker({ windowMs: 1000, now: () => now })
    const server = await startServer({ broker })
    const { client } = await connectReady(server.url)
    const { epoch } = await client.subscribe('timed')
    await server.publish('timed', 1)
    now = 500
    await server.publish('timed', 2)
    now = 1400
    const { client: again } = await connectReady(server.url)
    // Message 1 expired (1400 ms old), message 2 did not: since 1 still resumes, since 0 no longer does.
    expect(await again.subscribe('timed', { epoch, seq: 1 })).toMatchObject({ resumed: true, seq: 2 })
    expect(await again.subscribe('timed', { epoch, seq: 0 })).toMatchObject({ resumed: false, seq: 2 })
    await broker.close()
  })

  it('announces a lost history to live subscribers with subscribed{resumed:false} before the new epoch', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    const first = await client.subscribe('reset')
    await server.publish('reset', 'old')
    await client.next('msg')
    await server.broker.reset('reset')
    await server.publish('reset', 'new')
    const announced = await client.next('subscribed')
    expect(announced).toMatchObject({ ch: 'reset', resumed: false, seq: 0 })
    expect(announced.epoch).not.toBe(first.epoch)
    expect(await client.next('msg')).toMatchObject({ epoch: announced.epoch, seq: 1, data: 'new' })
  })

  it('repairs a seq gap in live delivery from history instead of passing it on', async () => {
    const inner = createMemoryBroker()
    let dropNext = false
    const lossy: Broker = {
      ...inner,
      subscribe: (channel, listener: BrokerListener) =>
        inner.subscribe(channel, (message) => {
          if (dropNext) dropNext = false
          else listener(message)
        }),
    }
    const server = await startServer({ broker: lossy })
    const { client } = await connectReady(server.url)
    await client.subscribe('lossy')
    await server.publish('lossy', 1)
    dropNext = true
    await server.publish('lossy', 2)
    await server.publish('lossy', 3)
    await waitFor('3 messages', () => client.all('msg').length === 3)
    expect(client.all('msg').map((frame) => frame.seq)).toEqual([1, 2, 3])
    expect(client.all('subscribed')).toHaveLength(1)
    await inner.close()
  })

  it.each([
    ['the memory broker', (): Broker => createMemoryBroker()],
    ['a broker with network-like latency', laggyBroker],
  ])(
    'never interleaves replay and live wrongly while clients resubscribe under load (R17, %s)',
    async (_name, make) => {
      const broker = make()
      brokers.push(broker)
      const server = await startServer({ rateLimit: false, broker })
      const channel = 'race'
      let published = 0
      let publishing = true
      const publisher = (async () => {
        while (publishing) {
          await server.publish(channel, published + 1)
          published += 1
          if (published % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
        }
      })()
      const results = await Promise.all(
        Array.from({ length: 4 }, async (_unused, clientIndex) => {
          const seen: number[] = []
          let position: { epoch: string; seq: number } | undefined
          for (let round = 0; round < 6; round += 1) {
            const { client } = await connectReady(server.url, { label: `racer ${String(clientIndex)}` })
            const subscribed = await client.subscribe(channel, position)
            if (position) expect(subscribed.resumed).toBe(true)
            await waitFor('some live messages', () => client.all('msg').length > 0)
            client.socket.terminate()
            const messages = client.all('msg')
            const last = messages[messages.length - 1]
            seen.push(...messages.map((frame) => frame.seq))
            position = { epoch: subscribed.epoch, seq: last ? last.seq : subscribed.seq }
          }
          return seen
        }),
      )
      publishing = false
      await publisher
      for (const seen of results) {
        const first = seen[0] ?? 0
        expect(seen).toEqual(Array.from({ length: seen.length }, (_unused, index) => first + index))
      }
    },
  )
})

describe('lifeline server: publish acknowledgements', () => {
  it('acks a duplicate pub id again without publishing it twice', async () => {
    const server = await startServer()
    const { client: reader } = await connectReady(server.url)
    await reader.subscribe('dedupe')
    const { client: writer, welcome } = await connectReady(server.url)
    writer.send({ type: 'pub', ch: 'dedupe', id: 'same', data: 'secret-payload' })
    await writer.next('ack', (frame) => frame.id === 'same')
    writer.send({ type: 'pub', ch: 'dedupe', id: 'same', data: 'secret-payload' })
    await writer.next('ack', (frame) => frame.id === 'same')
    // Also after a reconnect that resumes the session (a lost ack, R20).
    writer.socket.terminate()
    const { client: resumed, welcome: again } = await connectReady(server.url, { session: welcome.session })
    expect(again).toMatchObject({ session: welcome.session, resumed: true })
    resumed.send({ type: 'pub', ch: 'dedupe', id: 'same', data: 'secret-payload' })
    await resumed.next('ack', (frame) => frame.id === 'same')
    resumed.send({ type: 'pub', ch: 'dedupe', id: 'other', data: 2 })
    await resumed.next('ack', (frame) => frame.id === 'other')
    await waitFor('2 messages', () => reader.all('msg').length === 2)
    expect(reader.all('msg').map((frame) => frame.data)).toEqual(['secret-payload', 2])
  })

  it('nacks a pub the authorisation hook refuses and never publishes it', async () => {
    const server = await startServer({
      authenticate: ({ token }) => (token ? { id: token } : null),
      authorize: ({ principal, action, channel }) => action === 'subscribe' || channel === `own:${principal.id}`,
    })
    const { client: reader } = await connectReady(server.url, { token: 'reader' })
    await reader.subscribe('own:alice')
    const { client: mallory } = await connectReady(server.url, { token: 'mallory' })
    mallory.send({ type: 'pub', ch: 'own:alice', id: 'p1', data: 'forged' })
    expect(await mallory.next('nack')).toEqual({
      type: 'nack',
      id: 'p1',
      code: 'FORBIDDEN',
      reason: expect.any(String) as string,
    })
    const { client: alice } = await connectReady(server.url, { token: 'alice' })
    alice.send({ type: 'pub', ch: 'own:alice', id: 'p2', data: 'real' })
    await alice.next('ack')
    expect(await reader.next('msg')).toMatchObject({ seq: 1, data: 'real' })
  })

  it('refuses a subscription the hook refuses with error FORBIDDEN for that channel', async () => {
    const server = await startServer({ authorize: ({ channel }) => channel !== 'private' })
    const { client } = await connectReady(server.url)
    client.send({ type: 'sub', ch: 'private' })
    expect(await client.next('error')).toMatchObject({ code: 'FORBIDDEN', ch: 'private' })
    await server.publish('private', 'secret-payload')
    await client.subscribe('public')
    expect(client.all('msg')).toEqual([])
  })

  it('answers SERVER_ERROR when the authorisation hook throws', async () => {
    const server = await startServer({
      authorize: () => {
        throw new Error('database down')
      },
    })
    const { client } = await connectReady(server.url)
    client.send({ type: 'pub', ch: 'a', id: 'x', data: 1 })
    expect(await client.next('nack')).toMatchObject({ id: 'x', code: 'SERVER_ERROR' })
    client.send({ type: 'sub', ch: 'a' })
    expect(await client.next('error')).toMatchObject({ code: 'SERVER_ERROR', ch: 'a' })
  })
})

describe('lifeline server: bad input', () => {
  it.each([
    ['non-JSON', 'not json{', 'INVALID_FRAME'],
    ['truncated JSON', '{"type":"sub","ch":"a"', 'INVALID_FRAME'],
    ['a JSON array', '[1,2]', 'INVALID_FRAME'],
    ['a JSON string', '"hello"', 'INVALID_FRAME'],
    ['null', 'null', 'INVALID_FRAME'],
    ['an unknown type', '{"type":"teleport"}', 'UNKNOWN_TYPE'],
    ['a numeric type', '{"type":7}', 'INVALID_FRAME'],
    ['sub without ch', '{"type":"sub"}', 'INVALID_FRAME'],
    ['sub with a numeric ch', '{"type":"sub","ch":5}', 'INVALID_FRAME'],
    ['sub with a bad since', '{"type":"sub","ch":"a","since":{"epoch":"e","seq":-1}}', 'INVALID_FRAME'],
    ['sub with a fractional seq', '{"type":"sub","ch":"a","since":{"epoch":"e","seq":1.5}}', 'INVALID_FRAME'],
    ['pub without id', '{"type":"pub","ch":"a","data":1}', 'INVALID_FRAME'],
    ['a __proto__ payload', '{"type":"sub","__proto__":{"ch":"x"}}', 'INVALID_FRAME'],
  ])('answers %s with an error frame and stays open', async (_name, text, code) => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.socket.send(text)
    expect(await client.next('error')).toMatchObject({ code })
    client.send({ type: 'ping' })
    await client.next('pong')
    expect(client.close).toBeNull()
  })

  it('nacks a pub with an id but no data, or to an invalid channel', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.send({ type: 'pub', ch: 'a', id: 'no-data' })
    expect(await client.next('nack')).toMatchObject({ id: 'no-data', code: 'INVALID_FRAME' })
    client.send({ type: 'pub', ch: 'bad\u0000name', id: 'bad-ch', data: 1 })
    expect(await client.next('nack')).toMatchObject({ id: 'bad-ch', code: 'INVALID_CHANNEL' })
  })

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(201)],
    ['a control character', 'a\nb'],
    ['a lone surrogate', 'a\ud800b'],
  ])('refuses a channel name that is %s', async (_name, ch) => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.send({ type: 'sub', ch })
    expect(await client.next('error')).toMatchObject({ code: 'INVALID_CHANNEL', ch })
    expect(server.connections()[0]?.channels).toEqual([])
  })

  it('answers a binary frame with BINARY_NOT_SUPPORTED', async () => {
    const server = await startServer()
    const { client } = await connectReady(server.url)
    client.socket.send(Buffer.from('{"type":"ping"}'), { binary: true })
    expect(await client.next('error')).toMatchObject({ code: 'BINARY_NOT_SUPPORTED' })
  })
})
