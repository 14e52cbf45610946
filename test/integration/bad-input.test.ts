import { describe, expect, it } from 'vitest'
import type { WebSocket as ServerSocket } from 'ws'
import {
  InsecureTransportError,
  InvalidMessageError,
  InvalidOptionsError,
  InvalidUrlError,
  MessageTooLargeError,
  QueueFullError,
  type InboundData,
  type LifelineOptions,
} from '../../src/core'
import { receivedTexts, sleep, useHarness, waitFor, waitForStatus } from './helpers'

const h = useHarness()

/** Catches what `run` throws (it must throw). */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/** Writes raw bytes on the server side of the first connection (frames `ws` itself would refuse to build). */
function writeRaw(socket: ServerSocket, bytes: number[] | Buffer): void {
  ;(socket as unknown as { _socket: { write(data: Buffer): void } })._socket.write(Buffer.from(bytes))
}

/** An unmasked server-to-client close frame with a 16-bit extended length (illegal for a control frame > 125). */
function closeFrame(code: number, reason: string): Buffer {
  const payload = Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)])
  const head = payload.length <= 125 ? [0x88, payload.length] : [0x88, 126, payload.length >> 8, payload.length & 255]
  return Buffer.concat([Buffer.from(head), payload])
}

describe('bad input (integration)', () => {
  describe('API misuse: a typed error, no socket, nothing lost', () => {
    it.each(['not a url', '', 'ftp://127.0.0.1/x', 'ws://user:secret@127.0.0.1/', 'ws://127.0.0.1/#frag'])(
      'invalid URL %j → InvalidUrlError, no socket',
      async (url) => {
        const server = await h.start()
        const error = thrown(() => h.client({ url }))
        expect(error).toBeInstanceOf(InvalidUrlError)
        expect((error as InvalidUrlError).code).toBe('INVALID_URL')
        expect(String((error as Error).message)).not.toContain('secret')
        await sleep(20)
        expect(server.totalConnections).toBe(0)
      },
    )

    it('ws:// from an https page → InsecureTransportError; a path on that page resolves to wss://', () => {
      const location = { href: 'https://app.test/chat/', protocol: 'https:' }
      const error = thrown(() => h.client({ url: 'ws://127.0.0.1:1/', environment: { location } }))
      expect(error).toBeInstanceOf(InsecureTransportError)
      expect((error as InsecureTransportError).code).toBe('INSECURE_TRANSPORT')
      const { client, tracker } = h.client({ url: '/socket', autoConnect: false, environment: { location } })
      expect(client.url).toBe('wss://app.test/socket')
      expect(tracker.attempts).toHaveLength(0)
    })

    it('invalid options with several bad fields → one InvalidOptionsError listing every field', async () => {
      const server = await h.start()
      const options = {
        url: server.url,
        minDelayMs: -1,
        maxDelayMs: 'soon',
        connectTimeoutMs: 0,
        maxAttempts: Number.NaN,
        heartbeat: { intervalMs: 0 },
        backoff: 'linear',
        binaryType: 'text',
        getToken: 'abc',
        outbox: { maxMessages: 0, overflow: 'explode' },
        closeCodes: { 999: { name: 'x', action: 'reconnect' } },
        bogus: true,
      } as unknown as LifelineOptions
      const error = thrown(() => h.client(options))
      expect(error).toBeInstanceOf(InvalidOptionsError)
      const fields = (error as InvalidOptionsError).issues.map((issue) => issue.field)
      expect(fields).toEqual(
        expect.arrayContaining([
          'minDelayMs',
          'maxDelayMs',
          'connectTimeoutMs',
          'maxAttempts',
          'heartbeat.intervalMs',
          'backoff',
          'binaryType',
          'getToken',
          'outbox.maxMessages',
          'outbox.overflow',
          'closeCodes.999',
          'bogus',
        ]),
      )
      await sleep(20)
      expect(server.totalConnections).toBe(0)
    })

    it('sendJson of BigInt, a circular object, undefined or a function, and send of a lone surrogate, null or a number → InvalidMessageError; the connection carries on', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url })
      await waitForStatus(client, 'open', 1000)
      const circular: Record<string, unknown> = {}
      circular.self = circular
      const inputs: [string, () => unknown][] = [
        ['BigInt', () => client.sendJson({ n: 10n })],
        ['circular', () => client.sendJson(circular)],
        ['undefined', () => client.sendJson(undefined)],
        ['a function', () => client.sendJson(() => 1)],
        ['lone high surrogate', () => client.send('abc\uD800')],
        ['lone low surrogate', () => client.send('x\uDC00y')],
        ['null', () => client.send(null as unknown as string)],
        ['a number', () => client.send(42 as unknown as string)],
      ]
      for (const [name, run] of inputs) {
        const error = thrown(run)
        expect(error, name).toBeInstanceOf(InvalidMessageError)
        expect((error as InvalidMessageError).code, name).toBe('INVALID_MESSAGE')
      }
      expect(client.getSnapshot().outbox).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
      client.sendJson({ ok: 'ünïcode 🎉' })
      // JSON.stringify escapes a lone surrogate, so through sendJson it is valid and arrives as the escape.
      client.sendJson({ text: 'x\uDC00y' })
      await waitFor(() => receivedTexts(server).length === 2, 1000, 'the valid messages')
      expect(receivedTexts(server)).toEqual(['{"ok":"ünïcode 🎉"}', '{"text":"x\\udc00y"}'])
      expect(client.getSnapshot().status).toBe('open')
    })

    it('an oversized send (counted in UTF-8 bytes) → MessageTooLargeError; one at the limit is sent', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url, maxMessageBytes: 100 })
      await waitForStatus(client, 'open', 1000)
      for (const data of ['x'.repeat(101), 'é'.repeat(51), new Uint8Array(101)]) {
        const error = thrown(() => client.send(data))
        expect(error).toBeInstanceOf(MessageTooLargeError)
        expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', limit: 100 })
      }
      client.send('é'.repeat(50))
      await waitFor(() => receivedTexts(server).length === 1, 1000, 'the message at the limit')
      expect(receivedTexts(server)).toEqual(['é'.repeat(50)])
    })

    it('a full outbox → QueueFullError; the messages already queued are delivered in order after connect', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url, autoConnect: false, outbox: { maxMessages: 3 } })
      for (const text of ['q-1', 'q-2', 'q-3']) client.send(text)
      const error = thrown(() => client.send('q-4'))
      expect(error).toBeInstanceOf(QueueFullError)
      expect((error as QueueFullError).code).toBe('QUEUE_FULL')
      expect(client.getSnapshot().outbox.queued).toBe(3)
      client.connect()
      await waitFor(() => receivedTexts(server).length === 3, 1000, 'queued messages')
      expect(receivedTexts(server)).toEqual(['q-1', 'q-2', 'q-3'])
    })

    it('close(999), close(2999), close(1001), close(1000, 200-char reason), close(1000, control chars) → InvalidOptionsError, still open', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url })
      await waitForStatus(client, 'open', 1000)
      const calls: [number, string?][] = [
        [999],
        [2999],
        [1001],
        [5000],
        [3000.5],
        [1000, 'r'.repeat(200)],
        [1000, 'é'.repeat(62)],
        [1000, 'bad\u0000'],
      ]
      for (const [code, reason] of calls) {
        const error = thrown(() => client.close(code, reason))
        expect(error, `close(${code})`).toBeInstanceOf(InvalidOptionsError)
        expect((error as InvalidOptionsError).issues[0]?.field).toBe(reason === undefined ? 'code' : 'reason')
      }
      expect(client.getSnapshot().status).toBe('open')
      client.send('still here')
      await waitFor(() => receivedTexts(server).length === 1, 1000, 'a message after the bad closes')
    })

    it('send after dispose → a typed error, no socket', async () => {
      const server = await h.start()
      const { client, tracker } = h.client({ url: server.url, autoConnect: false })
      client.dispose()
      expect(thrown(() => client.send('late'))).toMatchObject({ code: 'INVALID_MESSAGE' })
      client.connect()
      client.retry()
      await sleep(20)
      expect(tracker.attempts).toHaveLength(0)
    })
  })

  describe('wire input from the server', () => {
    it('a close reason with control characters is stripped of them in lastClose.reason (rendered as text only)', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url })
      await waitForStatus(client, 'open', 1000)
      server.closeAll(4000, 'bad\u0000\u0007 reason\u001b[31m\u007f\u0085 <b>ok</b> ✓')
      await waitForStatus(client, (snapshot) => snapshot.lastClose !== null, 500)
      expect(client.getSnapshot().lastClose?.reason).toBe('bad reason[31m <b>ok</b> ✓')
      await waitForStatus(client, 'open', 1000)
    })

    it('a close frame with a reason over 123 bytes (an illegal control frame) → protocol error, reason ≤ 123 bytes, reconnects', async () => {
      const server = await h.start()
      let serverSocket: ServerSocket | null = null
      server.onConnection(({ socket }) => (serverSocket ??= socket))
      const { client } = h.client({ url: server.url })
      await waitForStatus(client, 'open', 1000)
      writeRaw(serverSocket!, closeFrame(4000, 'x\u0001'.repeat(100)))
      await waitForStatus(client, (snapshot) => snapshot.lastClose !== null, 1000)
      const { lastClose } = client.getSnapshot()
      expect(Buffer.byteLength(lastClose!.reason)).toBeLessThanOrEqual(123)
      expect(lastClose!.reason.includes('\u0001')).toBe(false)
      await waitForStatus(client, 'open', 1000)
      expect(server.totalConnections).toBe(2)
    })

    it('invalid UTF-8 in a text frame → the link is replaced, nothing delivered, no crash', async () => {
      const server = await h.start()
      let serverSocket: ServerSocket | null = null
      server.onConnection(({ socket }) => (serverSocket ??= socket))
      const { client } = h.client({ url: server.url })
      const inbound: InboundData[] = []
      client.on('message', ({ data }) => inbound.push(data))
      await waitForStatus(client, 'open', 1000)
      writeRaw(serverSocket!, [0x81, 0x02, 0xc3, 0x28])
      await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 1000)
      await waitForStatus(client, 'open', 1000)
      expect(inbound).toEqual([])
      expect(server.totalConnections).toBe(2)
    })

    it('an unsolicited pong is swallowed (not delivered), latency stays unknown', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url })
      const inbound: InboundData[] = []
      client.on('message', ({ data }) => inbound.push(data))
      await waitForStatus(client, 'open', 1000)
      server.send('pong')
      server.send('after')
      await waitFor(() => inbound.length === 1, 1000, 'the message after the pong')
      expect(inbound).toEqual(['after'])
      expect(client.getSnapshot().latencyMs).toBeNull()
    })

    it('non-JSON, truncated JSON and __proto__ JSON in raw mode are delivered as text, untouched', async () => {
      const server = await h.start()
      const { client } = h.client({ url: server.url })
      const inbound: InboundData[] = []
      client.on('message', ({ data }) => inbound.push(data))
      await waitForStatus(client, 'open', 1000)
      const frames = ['<html>captive portal</html>', '{"a":', '{"__proto__":{"polluted":true}}']
      for (const frame of frames) server.send(frame)
      await waitFor(() => inbound.length === 3, 1000, 'three frames')
      expect(inbound).toEqual(frames)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })
  })
})
