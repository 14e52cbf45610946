import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import type { ClientFrame } from '../../src/core'
import { waitFor, waitForStatus } from './helpers'
import { useChannelsHarness } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

/**
 * A tiny lifeline server that answers `hello`, `sub`, `ping` and `pub` correctly and lets the test write any frame:
 * the wire input a broken or hostile server could send.
 */
interface ScriptedServer {
  readonly url: string
  /** Client frames received, parsed. */
  readonly received: ClientFrame[]
  /** The connections accepted. */
  readonly sockets: ServerSocket[]
  /** Writes `data` on the latest connection as is (a text frame unless `binary`). */
  send(data: string | Buffer, binary?: boolean): void
  /** Writes a `msg` of channel `room` at `seq` of epoch `e1`, carrying the checker's payload `n`. */
  msg(seq: number, n?: number): void
  close(): Promise<void>
}

const servers: ScriptedServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})
// Registered second so that its hooks run first: clients are disposed before their server goes away.
const h = useChannelsHarness()

async function scriptedServer(options: { welcome?: string } = {}): Promise<ScriptedServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const received: ClientFrame[] = []
  const sockets: ServerSocket[] = []
  wss.on('connection', (socket) => {
    sockets.push(socket)
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ClientFrame
      received.push(frame)
      const reply = (value: unknown) => socket.send(JSON.stringify(value))
      if (frame.type === 'hello') {
        if (options.welcome !== undefined) socket.send(options.welcome)
        else {
          const welcome = {
            session: 's1',
            resumed: false,
            heartbeatMs: 1000,
            maxMessageBytes: 65536,
            resumeWindowMs: 5000,
          }
          reply({ type: 'welcome', ...welcome })
        }
      }
      if (frame.type === 'sub') reply({ type: 'subscribed', ch: frame.ch, resumed: false, epoch: 'e1', seq: 0 })
      if (frame.type === 'ping') reply({ type: 'pong' })
      if (frame.type === 'pub') reply({ type: 'ack', id: frame.id })
    })
  })
  const { port } = wss.address() as { port: number }
  const server: ScriptedServer = {
    url: `ws://127.0.0.1:${String(port)}`,
    received,
    sockets,
    send(data, binary = false) {
      sockets.at(-1)!.send(data, { binary })
    },
    msg(seq, n = seq) {
      server.send(JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e1', seq, data: { ch: 'room', n } }))
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate()
        wss.close(() => resolve())
      }),
  }
  servers.push(server)
  return server
}

const msg = (fields: Record<string, unknown>) =>
  JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e1', data: { ch: 'room', n: 99 }, ...fields })

/** Wire input from the server, and what the client must do with it: report PROTOCOL_ERROR, or ignore it. */
const inputs: Array<[string, string | Buffer, 'PROTOCOL_ERROR' | 'ignored']> = [
  ['non-JSON text', 'hello there', 'PROTOCOL_ERROR'],
  ['truncated JSON', '{"type":"msg","ch":"room","epoch":"e1","seq":2', 'PROTOCOL_ERROR'],
  ['a JSON array', '[{"type":"msg"}]', 'PROTOCOL_ERROR'],
  ['a JSON number', '42', 'PROTOCOL_ERROR'],
  ['JSON null', 'null', 'PROTOCOL_ERROR'],
  ['a JSON string', '"msg"', 'PROTOCOL_ERROR'],
  ['an object without type', '{"ch":"room","seq":2}', 'PROTOCOL_ERROR'],
  ['a type that is not a string', '{"type":7}', 'PROTOCOL_ERROR'],
  ['a __proto__ payload', '{"__proto__":{"type":"msg","polluted":true}}', 'PROTOCOL_ERROR'],
  ['a binary frame', Buffer.from('{"type":"pong"}'), 'PROTOCOL_ERROR'],
  ['msg without seq', msg({}), 'PROTOCOL_ERROR'],
  ['msg without epoch', msg({ seq: 2, epoch: undefined }), 'PROTOCOL_ERROR'],
  ['msg without ch', msg({ seq: 2, ch: undefined }), 'PROTOCOL_ERROR'],
  ['msg with seq -1', msg({ seq: -1 }), 'PROTOCOL_ERROR'],
  ['msg with seq 1.5', msg({ seq: 1.5 }), 'PROTOCOL_ERROR'],
  ['msg with seq "2" (a string)', msg({ seq: '2' }), 'PROTOCOL_ERROR'],
  ['msg with seq 2^53 + 2 (not a safe integer)', msg({ seq: 2 ** 53 + 2 }), 'PROTOCOL_ERROR'],
  ['msg with seq going backwards (1 again)', msg({ seq: 1, data: { ch: 'room', n: 1 } }), 'ignored'],
  ['msg with seq 0 (seqs start at 1)', msg({ seq: 0 }), 'ignored'],
  ['msg for an unknown channel', msg({ seq: 2, ch: 'elsewhere' }), 'ignored'],
  ['msg for a channel named __proto__', msg({ seq: 2, ch: '__proto__' }), 'ignored'],
  ['an unknown type', '{"type":"surprise","ch":"room"}', 'ignored'],
  ['an unsolicited pong', '{"type":"pong"}', 'ignored'],
  ['subscribed without epoch and seq', '{"type":"subscribed","ch":"room","resumed":false}', 'PROTOCOL_ERROR'],
  [
    'a second welcome naming another session',
    '{"type":"welcome","session":"s2","resumed":false,"heartbeatMs":1,"maxMessageBytes":1,"resumeWindowMs":1}',
    'ignored',
  ],
  [
    'subscribed for an unknown channel',
    '{"type":"subscribed","ch":"elsewhere","resumed":false,"epoch":"x","seq":9}',
    'ignored',
  ],
  ['ack for an unknown id', '{"type":"ack","id":"nobody-1"}', 'ignored'],
  ['ack without id', '{"type":"ack"}', 'PROTOCOL_ERROR'],
  ['nack for an unknown id', '{"type":"nack","id":"nobody-1","code":"FORBIDDEN","reason":"no"}', 'ignored'],
  ['error for an unknown channel', '{"type":"error","code":"FORBIDDEN","reason":"no","ch":"elsewhere"}', 'ignored'],
  ['error about no channel', '{"type":"error","code":"INVALID_FRAME","reason":"what"}', 'PROTOCOL_ERROR'],
]

describe('bad wire input from a lifeline server (integration)', () => {
  it.each(inputs.map(([name, input, outcome]) => ({ name, input, outcome })))(
    '$name → $outcome; the connection stays, nothing is lost or duplicated',
    async ({ input, outcome }) => {
      const server = await scriptedServer()
      const checker = createSequenceChecker()
      const entry = h.client({ url: server.url })
      const subscribed = new Promise<void>((resolve) => {
        entry.protocol.channel('room', {
          ...checker.listen('client', 'room'),
          status: (status) => status.state === 'subscribed' && resolve(),
        })
      })
      await subscribed
      server.msg(1, checker.next('room').n)
      server.send(input, Buffer.isBuffer(input))
      server.msg(2, checker.next('room').n)
      const acked = entry.protocol.publish('room', { after: true })
      await waitFor(
        () => checker.caughtUp() && entry.client.getSnapshot().outbox.inFlight === 0,
        1000,
        'delivery and ack',
      )

      expect(checker.report()).toMatchObject({ delivered: 2, lost: 0, duplicated: 0, gaps: {}, violations: [] })
      expect(entry.client.getSnapshot().lastError?.code ?? 'ignored').toBe(outcome)
      expect(entry.client.getSnapshot().status).toBe('open')
      expect(entry.tracker.sockets).toHaveLength(1)
      expect(
        server.received.filter((frame) => frame.type === 'pub').map((frame) => (frame as { id: string }).id),
      ).toEqual([acked])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    },
  )

  it('a seq that skips ahead → exactly one seq-skipped gap before the message, none silent; an old seq after it is dropped', async () => {
    const server = await scriptedServer()
    const checker = createSequenceChecker()
    const entry = h.client({ url: server.url })
    await new Promise<void>((resolve) => {
      entry.protocol.channel('room', {
        ...checker.listen('client', 'room'),
        status: (status) => status.state === 'subscribed' && resolve(),
      })
    })
    for (let n = 1; n <= 5; n++) checker.next('room')
    server.msg(1)
    server.msg(4)
    server.msg(2)
    server.msg(5)
    await waitFor(() => checker.caughtUp(), 1000, 'delivery')

    expect(checker.delivered('client', 'room')).toEqual([1, 4, 5])
    expect(checker.gapsOf('client', 'room')).toEqual([
      { channel: 'room', reason: 'seq-skipped', from: { epoch: 'e1', seq: 1 }, to: { epoch: 'e1', seq: 4 } },
    ])
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, skippedAfterGap: 2, violations: [] })
    expect(entry.client.getSnapshot().status).toBe('open')
  })

  it('a new epoch without notice → one epoch-changed gap, then the new stream', async () => {
    const server = await scriptedServer()
    const checker = createSequenceChecker()
    const entry = h.client({ url: server.url })
    await new Promise<void>((resolve) => {
      entry.protocol.channel('room', {
        ...checker.listen('client', 'room'),
        status: (status) => status.state === 'subscribed' && resolve(),
      })
    })
    server.msg(1, checker.next('room').n)
    server.send(JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e2', seq: 1, data: checker.next('room') }))
    server.send(JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e2', seq: 2, data: checker.next('room') }))
    await waitFor(() => checker.caughtUp(), 1000, 'delivery')

    expect(checker.delivered('client', 'room')).toEqual([1, 2, 3])
    expect(checker.gapsOf('client', 'room').map((gap) => gap.reason)).toEqual(['epoch-changed'])
    expect(checker.report()).toMatchObject({ lost: 0, duplicated: 0, violations: [] })
  })

  it('a welcome without a session → failed with PROTOCOL_ERROR, one socket, no retry loop', async () => {
    const server = await scriptedServer({ welcome: '{"type":"welcome","resumed":false}' })
    const entry = h.client({ url: server.url })
    await waitForStatus(entry.client, 'failed', 1000)
    expect(entry.client.getSnapshot().lastError?.code).toBe('PROTOCOL_ERROR')
    expect(entry.tracker.sockets).toHaveLength(1)
  })
})
