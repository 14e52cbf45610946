import { randomBytes } from 'node:crypto'
import { connect as connectTcp } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { AuthorizeRequest, LifelineServer, PublishedEvent } from '../../src/server'
import { cleanup, connect, connectReady, openPoll, PollClient, startServer, waitFor } from './helpers'

afterEach(cleanup)

/** A long-poll connection opened with `frames`, which the server must accept. */
async function openLink(server: LifelineServer, frames: unknown[]): Promise<PollClient> {
  const { reply, client } = await openPoll(server, frames)
  expect(reply.status).toBe(200)
  return client!
}

/** A WebSocket client written by hand over `net`, so that a burst leaves in one `write` (one TCP read on loopback). */
class RawSocket {
  readonly texts: string[] = []
  close: { code: number; reason: string } | null = null
  private pending = Buffer.alloc(0)
  private upgraded = false

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.data(chunk))
    socket.on('error', () => undefined)
  }

  static async open(server: LifelineServer): Promise<RawSocket> {
    const { hostname, port, pathname } = new URL(server.url)
    const socket = connectTcp(Number(port), hostname)
    sockets.push(socket)
    const raw = new RawSocket(socket)
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    await waitFor('the 101', () => raw.upgraded)
    return raw
  }

  /** Masked text frames, all in one write. */
  write(texts: readonly string[]): void {
    this.socket.write(Buffer.concat(texts.map(maskedTextFrame)))
  }

  frames(type: string): Array<Record<string, unknown>> {
    return this.texts.map((text) => JSON.parse(text) as Record<string, unknown>).filter((frame) => frame.type === type)
  }

  private data(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk])
    if (!this.upgraded) {
      const end = this.pending.indexOf('\r\n\r\n')
      if (end < 0) return
      expect(this.pending.subarray(0, 12).toString()).toBe('HTTP/1.1 101')
      this.upgraded = true
      this.pending = this.pending.subarray(end + 4)
    }
    for (;;) {
      if (this.pending.length < 2) return
      const opcode = this.pending[0]! & 0x0f
      let length = this.pending[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.pending.length < 4) return
        length = this.pending.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.pending.length < 10) return
        length = Number(this.pending.readBigUInt64BE(2))
        offset = 10
      }
      if (this.pending.length < offset + length) return
      const payload = this.pending.subarray(offset, offset + length)
      this.pending = this.pending.subarray(offset + length)
      if (opcode === 1) this.texts.push(payload.toString('utf8'))
      if (opcode === 8) {
        this.close = { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') }
        this.socket.end()
      }
    }
  }
}

function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const header =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff])
  const mask = randomBytes(4)
  const masked = Buffer.alloc(payload.length)
  for (let index = 0; index < payload.length; index++) masked[index] = payload[index]! ^ mask[index % 4]!
  return Buffer.concat([header, mask, masked])
}

const sockets: Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy()
})

/** `count` minimal pub frames on channel `c` with ids `1`, `2`, … (about 40 bytes each). */
const smallPubs = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `{"type":"pub","ch":"c","id":"${String(index + 1)}","data":0}`)

/** An `authorize` hook held at a gate: every call waits until `open()` (a stalled auth backend). */
function gatedAuthorize(): { authorize: (request: AuthorizeRequest) => Promise<boolean>; open(): void } {
  let release: () => void = () => undefined
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  return { authorize: () => gate.then(() => true), open: () => release() }
}

/** The same frames as objects (a long-poll batch of them stays under 64 KiB up to about 1,500). */
const smallPubObjects = (count: number): unknown[] => smallPubs(count).map((text) => JSON.parse(text) as unknown)

const idsOf = (published: readonly PublishedEvent[]): string[] => published.map((event) => event.id)
const oneTo = (count: number): string[] => Array.from({ length: count }, (_, index) => String(index + 1))

describe('lifeline server flow control: bursts within the documented numbers', () => {
  it('applies 1,200 small pub frames written in one go (more than 1,024 arriving in one TCP read): all applied in order, no close', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => published.push(event) })
    const raw = await RawSocket.open(server)
    raw.write(['{"type":"hello","v":1}'])
    await waitFor('welcome', () => raw.frames('welcome').length === 1)
    // One write of about 56 KB: on loopback the server gets it in one read, so every frame is parsed at once.
    raw.write(smallPubs(1200))
    await waitFor('1,200 acks', () => raw.frames('ack').length === 1200 || raw.close !== null, 8000)

    expect(raw.close).toBeNull()
    expect(idsOf(published)).toEqual(oneTo(1200))
    expect(raw.frames('ack').map((frame) => frame.id)).toEqual(oneTo(1200))
  })

  it('paces 20,000 frames behind a stalled authorize hook with TCP backpressure (rate limit off): all applied once, no close', async () => {
    const published: PublishedEvent[] = []
    const gate = gatedAuthorize()
    const server = await startServer({
      rateLimit: false,
      authorize: gate.authorize,
      onPublished: (event) => published.push(event),
    })
    const { client } = await connectReady(server.url)
    for (const text of smallPubs(20_000)) client.socket.send(text)
    // Long enough for the server to read whatever it is willing to take while nothing is applied.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(client.close).toBeNull()
    gate.open()
    await waitFor('20,000 acks', () => client.all('ack').length === 20_000 || client.close !== null, 10_000)

    expect(client.close).toBeNull()
    expect(published).toHaveLength(20_000)
    expect(idsOf(published)).toEqual(oneTo(20_000))
  }, 15_000)

  it('applies a long-poll POST batch of 1,100 small frames completely, in order', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => published.push(event) })
    const link = await openLink(server, [{ type: 'hello', v: 1 }])
    await link.pollUntil('welcome', () => link.count('welcome') === 1)
    const reply = await link.send(smallPubObjects(1100))
    expect(reply).toEqual({ status: 200, headers: expect.any(Headers), body: {} })
    await link.pollUntil('1,100 acks', () => link.count('ack') === 1100)

    expect(link.close).toBeNull()
    expect(idsOf(published)).toEqual(oneTo(1100))
  })

  it('answers a long-poll batch only once its frames are (nearly) handled, so a client with one POST in flight is paced', async () => {
    const published: PublishedEvent[] = []
    const gate = gatedAuthorize()
    const server = await startServer({ authorize: gate.authorize, onPublished: (event) => published.push(event) })
    const link = await openLink(server, [{ type: 'hello', v: 1 }])
    await link.pollUntil('welcome', () => link.count('welcome') === 1)
    let answered = false
    const reply = link.send(smallPubObjects(1100)).then((result) => {
      answered = true
      return result
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(answered).toBe(false)
    gate.open()
    expect(await reply).toEqual({ status: 200, headers: expect.any(Headers), body: {} })
    expect(published.length).toBeGreaterThan(1000)
    await link.pollUntil('1,100 acks', () => link.count('ack') === 1100)
    expect(idsOf(published)).toEqual(oneTo(1100))
  })
})

describe('lifeline server flow control: over the limits', () => {
  it('closes a WebSocket burst past the rate limit (3,000 frames at once, defaults) with 4002 and retryAfterMs, not 1013', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ onPublished: (event) => published.push(event) })
    const { client } = await connectReady(server.url)
    for (const text of smallPubs(3000)) client.socket.send(text)
    const closed = await client.closed(8000)

    expect(closed.code).toBe(4002)
    const { retryAfterMs } = JSON.parse(closed.reason) as { retryAfterMs: unknown }
    expect(retryAfterMs).toEqual(expect.any(Number))
    expect(retryAfterMs as number).toBeGreaterThan(0)
    expect(published.length).toBeLessThan(3000)
  })

  it('closes a long-poll connection whose parallel batches pile past the queue cap with 4002 and retryAfterMs, not 1013', async () => {
    const gate = gatedAuthorize()
    // Rate limit off: the queue cap, not the bucket, is what this client runs into.
    const server = await startServer({ rateLimit: false, authorize: gate.authorize })
    const link = await openLink(server, [{ type: 'hello', v: 1 }])
    await link.pollUntil('welcome', () => link.count('welcome') === 1)
    // A misbehaving client: three POSTs at once (the protocol says one in flight) of 2,000 frames each, all waiting
    // behind a pub held at the authorisation gate.
    const batch = [smallPubObjects(1)[0], ...Array.from({ length: 1999 }, () => ({ type: 'unsub', ch: 'x' }))]
    const replies = await Promise.all([1, 2, 3].map(() => link.send(batch)))
    gate.open()

    const refused = replies.filter((reply) => reply.status === 429)
    expect(refused.length).toBeGreaterThan(0)
    const body = refused[0]!.body as { retryAfterMs: number; close: { code: number; reason: string } }
    expect(body.close.code).toBe(4002)
    expect(body.retryAfterMs).toBeGreaterThan(0)
    expect(JSON.parse(body.close.reason)).toEqual({ retryAfterMs: body.retryAfterMs })
    expect(replies.every((reply) => (reply.body.close as { code?: number } | undefined)?.code !== 1013)).toBe(true)
  })
})

describe('lifeline server: a first frame that is not a valid hello', () => {
  it.each([
    ['non-JSON', 'not json{'],
    ['a JSON array', '[1,2]'],
    ['a hello with a bad version field', '{"type":"hello","v":"one"}'],
    ['an unknown type', '{"type":"teleport"}'],
    ['a sub', '{"type":"sub","ch":"a"}'],
  ])(
    'closes a WebSocket with 1008 at once for %s (not INVALID_FRAME, then 4001 at the hello timeout)',
    async (_name, text) => {
      const server = await startServer({ helloTimeoutMs: 3000 })
      const client = await connect(server.url)
      client.socket.send(text)
      expect(await client.closed(2000)).toEqual({ code: 1008, reason: 'hello expected first' })
    },
  )

  it('closes a WebSocket with 1008 for a binary first frame', async () => {
    const server = await startServer({ helloTimeoutMs: 3000 })
    const client = await connect(server.url)
    client.socket.send(Buffer.from('{"type":"hello","v":1}'), { binary: true })
    expect(await client.closed(2000)).toEqual({ code: 1008, reason: 'hello expected first' })
  })

  it('closes a long-poll connection with 1008 when its opening batch starts with a non-JSON frame', async () => {
    const server = await startServer({ helloTimeoutMs: 3000 })
    const link = await openLink(server, ['not json{'])
    await link.pollUntil('the close', () => false, 2000)
    expect(link.close).toEqual({ code: 1008, reason: 'hello expected first' })
  })

  it('still answers a ping before hello, and errors after hello do not close', async () => {
    const server = await startServer()
    const client = await connect(server.url)
    client.send({ type: 'ping' })
    await client.next('pong')
    await client.hello()
    client.socket.send('not json{')
    expect(await client.next('error')).toMatchObject({ code: 'INVALID_FRAME' })
    expect(client.close).toBeNull()
  })
})
