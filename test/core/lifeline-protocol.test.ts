import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createLifeline,
  InvalidMessageError,
  lifelineProtocol,
  PROTOCOL_VERSION,
  type ChannelGap,
  type ChannelMessage,
  type ChannelStatus,
  type InboundData,
  type LifelineProtocol,
  type LifelineProtocolOptions,
  type OutboundData,
  type OutboxItem,
  type ProtocolHost,
} from '../../src/core'
import { recordingLink as fakeLink, type RecordingLink as FakeLink } from '../support/fake-link'

interface FakeHost extends ProtocolHost {
  enqueued: { data: OutboundData; channel: string | undefined }[]
  expireSession(): void
}

function fakeHost(): FakeHost {
  const expired = new Set<() => void>()
  const host: FakeHost = {
    enqueued: [],
    enqueue(data, channel) {
      host.enqueued.push({ data, channel })
      return `id-${host.enqueued.length}`
    },
    later(callback, ms) {
      const handle = setTimeout(callback, ms)
      return () => clearTimeout(handle)
    },
    now: () => Date.now(),
    onSessionExpired(listener) {
      expired.add(listener)
      return () => expired.delete(listener)
    },
    expireSession: () => expired.forEach((listener) => listener()),
  }
  return host
}

interface Events {
  messages: ChannelMessage[]
  gaps: ChannelGap[]
  statuses: ChannelStatus[]
}

function setup(options: LifelineProtocolOptions = {}): { protocol: LifelineProtocol; host: FakeHost } {
  const protocol = lifelineProtocol(options)
  const host = fakeHost()
  protocol.attach!(host)
  return { protocol, host }
}

function listen(protocol: LifelineProtocol, name: string): Events & { leave: () => void } {
  const events: Events = { messages: [], gaps: [], statuses: [] }
  const leave = protocol.channel(name, {
    message: (message) => events.messages.push(message),
    gap: (gap) => events.gaps.push(gap),
    status: (status) => events.statuses.push(status),
  })
  return { ...events, leave }
}

const receive = (protocol: LifelineProtocol, link: FakeLink, frame: unknown) =>
  protocol.received(typeof frame === 'string' ? frame : JSON.stringify(frame), link)

const welcome = {
  type: 'welcome',
  session: 's-1',
  resumed: false,
  heartbeatMs: 25_000,
  maxMessageBytes: 65_536,
  resumeWindowMs: 120_000,
}

const item = (fields: Partial<OutboxItem>): OutboxItem => ({
  id: 'm1',
  data: '{}',
  bytes: 2,
  state: 'queued',
  attempts: 0,
  createdAt: 0,
  expiresAt: null,
  error: null,
  ...fields,
})

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('lifelineProtocol: hello and subscriptions', () => {
  it('says hello with the version, token and session to resume', () => {
    const { protocol } = setup()
    const link = fakeLink({ token: 'tok', session: 's-0' })
    protocol.opened(link)
    expect(link.frames).toEqual([{ type: 'hello', v: PROTOCOL_VERSION, token: 'tok', session: 's-0' }])
    expect(PROTOCOL_VERSION).toBe(1)
  })

  it('leaves token and session out when there are none', () => {
    const { protocol } = setup()
    const link = fakeLink()
    protocol.opened(link)
    expect(link.frames).toEqual([{ type: 'hello', v: 1 }])
  })

  it('does not ask to resume the session with resume: false', () => {
    const { protocol } = setup({ resume: false })
    const link = fakeLink({ token: 'tok', session: 's-0' })
    protocol.opened(link)
    expect(link.frames).toEqual([{ type: 'hello', v: 1, token: 'tok' }])
  })

  it('pipelines a sub per channel right after hello, with since once a position is known', () => {
    const { protocol } = setup()
    listen(protocol, 'a')
    listen(protocol, 'b')
    const link = fakeLink()
    protocol.opened(link)
    expect(link.frames).toEqual([
      { type: 'hello', v: 1 },
      { type: 'sub', ch: 'a' },
      { type: 'sub', ch: 'b' },
    ])
    receive(protocol, link, { type: 'subscribed', ch: 'a', resumed: false, epoch: 'e1', seq: 0 })
    receive(protocol, link, { type: 'msg', ch: 'a', epoch: 'e1', seq: 1, data: 'x' })
    protocol.closed!()
    const next = fakeLink({ session: 's-1' })
    protocol.opened(next)
    expect(next.frames).toEqual([
      { type: 'hello', v: 1, session: 's-1' },
      { type: 'sub', ch: 'a', since: { epoch: 'e1', seq: 1 } },
      { type: 'sub', ch: 'b' },
    ])
  })

  it('writes sub at once while open, unsub after the linger, and nothing while closed', () => {
    const { protocol } = setup({ lingerMs: 200 })
    const link = fakeLink()
    protocol.opened(link)
    const { leave } = listen(protocol, 'room')
    expect(link.frames.at(-1)).toEqual({ type: 'sub', ch: 'room' })
    leave()
    vi.advanceTimersByTime(199)
    expect(link.frames).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(link.frames.at(-1)).toEqual({ type: 'unsub', ch: 'room' })
    protocol.closed!()
    listen(protocol, 'later')
    expect(link.frames).toHaveLength(3)
  })

  it('reports session-expired gaps after the client says the session expired', () => {
    const { protocol, host } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    protocol.opened(link)
    receive(protocol, link, { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 })
    receive(protocol, link, { type: 'msg', ch: 'room', epoch: 'e1', seq: 1, data: 1 })
    protocol.closed!()
    host.expireSession()
    const next = fakeLink()
    protocol.opened(next)
    expect(next.frames).toContainEqual({ type: 'sub', ch: 'room' })
    receive(protocol, next, { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 5 })
    expect(events.gaps.map((gap) => gap.reason)).toEqual(['session-expired'])
  })

  it('exposes the channel registry once attached', () => {
    const protocol = lifelineProtocol()
    expect(protocol.channels).toBeNull()
    protocol.attach!(fakeHost())
    listen(protocol, 'room')
    expect(protocol.channels?.names()).toEqual(['room'])
  })
})

describe('lifelineProtocol: server frames', () => {
  it('welcome: ready with the session, and the data limit after the envelope', () => {
    const { protocol } = setup()
    const link = fakeLink()
    receive(protocol, link, { ...welcome, resumed: true })
    expect(link.ready).toHaveBeenCalledWith({ id: 's-1', resumed: true })
    expect(link.limits).toEqual([65_536 - 1024])
  })

  it.each([
    ['missing', undefined],
    ['a string', '65536'],
    ['fractional', 1.5],
    ['at most the envelope', 1024],
  ])('welcome: no limit when maxMessageBytes is %s', (_, maxMessageBytes) => {
    const { protocol } = setup()
    const link = fakeLink()
    receive(protocol, link, { ...welcome, maxMessageBytes })
    expect(link.limits).toEqual([])
    expect(link.ready).toHaveBeenCalledWith({ id: 's-1', resumed: false })
  })

  it('welcome without a session fails the connection with PROTOCOL_ERROR', () => {
    const { protocol } = setup()
    const link = fakeLink()
    receive(protocol, link, { ...welcome, session: 42 })
    expect(link.failures.map((error) => error.code)).toEqual(['PROTOCOL_ERROR'])
    expect(link.ready).not.toHaveBeenCalled()
  })

  it('msg and subscribed reach the channel listeners', () => {
    const { protocol } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    receive(protocol, link, { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 })
    receive(protocol, link, { type: 'msg', ch: 'room', epoch: 'e1', seq: 1, data: { text: 'hi' } })
    expect(events.statuses.at(-1)).toEqual({ state: 'subscribed', resumed: null, error: null })
    expect(events.messages).toEqual([
      { channel: 'room', epoch: 'e1', seq: 1, data: { text: 'hi' }, receivedAt: Date.now() },
    ])
    // Channel messages are not raw messages.
    expect(link.deliver).not.toHaveBeenCalled()
  })

  it('ack confirms, nack rejects with MESSAGE_REFUSED and the code', () => {
    const { protocol } = setup()
    const link = fakeLink()
    receive(protocol, link, { type: 'ack', id: 'm1' })
    receive(protocol, link, { type: 'nack', id: 'm2', code: 'FORBIDDEN', reason: 'no' })
    expect(link.confirmed).toEqual(['m1'])
    expect(link.rejected).toHaveLength(1)
    expect(link.rejected[0]!.id).toBe('m2')
    expect(link.rejected[0]!.error.code).toBe('MESSAGE_REFUSED')
    expect(link.rejected[0]!.error.message).toContain('FORBIDDEN')
  })

  it('counts only resumed: true as resumed (a truthy non-boolean is not)', () => {
    const { protocol } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    receive(protocol, link, { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 })
    receive(protocol, link, { type: 'msg', ch: 'room', epoch: 'e1', seq: 1, data: 1 })
    protocol.opened(link)
    receive(protocol, link, { type: 'subscribed', ch: 'room', resumed: 'true', epoch: 'e1', seq: 9 })
    expect(events.gaps.map((gap) => gap.reason)).toEqual(['not-resumed'])
    receive(protocol, link, { ...welcome, resumed: 1 })
    expect(link.ready).toHaveBeenCalledWith({ id: 's-1', resumed: false })
  })

  it('pong reaches the heartbeat', () => {
    const { protocol } = setup()
    const link = fakeLink()
    receive(protocol, link, { type: 'pong' })
    expect(link.pong).toHaveBeenCalledTimes(1)
  })

  it('error with a channel refuses that subscription; without one it is reported', () => {
    const { protocol } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    receive(protocol, link, { type: 'error', code: 'FORBIDDEN', reason: 'no', ch: 'room' })
    expect(events.statuses.at(-1)).toEqual({ state: 'error', resumed: null, error: 'FORBIDDEN' })
    expect(link.reports).toEqual([])
    receive(protocol, link, { type: 'error', code: 'INVALID_FRAME', reason: 'bad' })
    expect(link.reports.map((error) => [error.code, error.message])).toEqual([['PROTOCOL_ERROR', 'INVALID_FRAME']])
  })

  it('unsubscribed and unknown types are ignored', () => {
    const { protocol } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    receive(protocol, link, { type: 'unsubscribed', ch: 'room' })
    receive(protocol, link, { type: 'presence', ch: 'room', who: ['a'] })
    expect(link.reports).toEqual([])
    expect(events.statuses).toHaveLength(1)
  })
})

describe('lifelineProtocol: bad input', () => {
  const huge = '1' + '0'.repeat(400)
  const cases: [string, InboundData, 'report' | 'ignore'][] = [
    ['non-JSON text', 'hello', 'report'],
    ['truncated JSON', '{"type":"msg","ch":"room","epoch":"e1","seq":1,"da', 'report'],
    ['an empty frame', '', 'report'],
    ['null', 'null', 'report'],
    ['a number', '42', 'report'],
    ['a string', '"msg"', 'report'],
    ['an array', '[{"type":"msg"}]', 'report'],
    ['an object without type', '{"ch":"room"}', 'report'],
    ['a numeric type', '{"type":1}', 'report'],
    ['NaN (not JSON)', '{"type":"msg","ch":"room","epoch":"e1","seq":NaN,"data":1}', 'report'],
    ['an unknown type', '{"type":"future","x":1}', 'ignore'],
    ['a type named like an Object method', '{"type":"toString"}', 'ignore'],
    ['msg without seq', '{"type":"msg","ch":"room","epoch":"e1","data":1}', 'report'],
    ['msg with a string seq', '{"type":"msg","ch":"room","epoch":"e1","seq":"1","data":1}', 'report'],
    ['msg with a negative seq', '{"type":"msg","ch":"room","epoch":"e1","seq":-1,"data":1}', 'report'],
    ['msg with a fractional seq', '{"type":"msg","ch":"room","epoch":"e1","seq":1.5,"data":1}', 'report'],
    ['msg with a huge seq', `{"type":"msg","ch":"room","epoch":"e1","seq":${huge},"data":1}`, 'report'],
    ['msg with an unsafe seq', '{"type":"msg","ch":"room","epoch":"e1","seq":9007199254740993,"data":1}', 'report'],
    ['msg with a numeric epoch', '{"type":"msg","ch":"room","epoch":1,"seq":1,"data":1}', 'report'],
    ['msg without ch', '{"type":"msg","epoch":"e1","seq":1,"data":1}', 'report'],
    ['msg for an unknown channel', '{"type":"msg","ch":"other","epoch":"e1","seq":1,"data":1}', 'ignore'],
    ['msg for __proto__ (not joined)', '{"type":"msg","ch":"__proto__","epoch":"e1","seq":1,"data":1}', 'ignore'],
    ['subscribed without epoch', '{"type":"subscribed","ch":"room","resumed":false,"seq":0}', 'report'],
    [
      'subscribed with a huge seq',
      `{"type":"subscribed","ch":"room","resumed":false,"epoch":"e","seq":${huge}}`,
      'report',
    ],
    [
      'subscribed for an unknown channel',
      '{"type":"subscribed","ch":"x","resumed":false,"epoch":"e","seq":0}',
      'ignore',
    ],
    ['ack without id', '{"type":"ack"}', 'report'],
    ['ack with a numeric id', '{"type":"ack","id":1}', 'report'],
    ['nack without id', '{"type":"nack","code":"FORBIDDEN"}', 'report'],
    ['error for an unknown channel', '{"type":"error","code":"FORBIDDEN","ch":"x"}', 'ignore'],
    ['a binary frame', new Uint8Array([123, 125]).buffer, 'report'],
  ]

  it.each(cases)('%s: never throws, %s', (_, data, outcome) => {
    const { protocol } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    expect(() => protocol.received(data, link)).not.toThrow()
    expect(link.reports.map((error) => error.code)).toEqual(outcome === 'report' ? ['PROTOCOL_ERROR'] : [])
    expect(events.messages).toEqual([])
    expect(events.gaps).toEqual([])
    expect(events.statuses).toHaveLength(1)
    expect(link.failures).toEqual([])
    expect(link.confirmed).toEqual([])
    expect(link.rejected).toEqual([])
    expect(link.deliver).not.toHaveBeenCalled()
    expect(link.ready).not.toHaveBeenCalled()
  })

  it('ignores an unsolicited pong (the heartbeat has no ping to match)', () => {
    const sockets: { sent: unknown[]; onmessage: ((event: { data: unknown }) => void) | null }[] = []
    class Socket {
      readyState = 0
      bufferedAmount = 0
      binaryType = 'blob'
      sent: unknown[] = []
      onopen: ((event: unknown) => void) | null = null
      onmessage: ((event: { data: unknown }) => void) | null = null
      onclose: ((event: unknown) => void) | null = null
      onerror: ((event: unknown) => void) | null = null
      constructor() {
        sockets.push(this)
      }
      send(data: unknown) {
        this.sent.push(data)
      }
      close() {
        this.readyState = 3
      }
    }
    const client = createLifeline({
      url: 'wss://example.com/live',
      protocol: lifelineProtocol(),
      environment: { WebSocket: Socket, location: undefined },
    })
    const socket = sockets[0]! as Socket
    socket.readyState = 1
    socket.onopen?.({})
    socket.onmessage?.({ data: JSON.stringify(welcome) })
    socket.onmessage?.({ data: '{"type":"pong"}' })
    expect(client.getSnapshot()).toMatchObject({ status: 'open', latencyMs: null, lastError: null })
    // A malformed frame is recorded but does not end the connection.
    socket.onmessage?.({ data: 'garbage' })
    expect(client.getSnapshot().status).toBe('open')
    expect(client.getSnapshot().lastError?.code).toBe('PROTOCOL_ERROR')
    client.dispose()
  })

  it('does not let a frame pollute Object.prototype', () => {
    const { protocol } = setup()
    const events = listen(protocol, 'room')
    const link = fakeLink()
    receive(protocol, link, { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 })
    receive(protocol, link, '{"type":"msg","ch":"room","epoch":"e1","seq":1,"data":{"__proto__":{"polluted":1}}}')
    receive(protocol, link, '{"type":"msg","__proto__":{"ch":"room"},"epoch":"e1","seq":2,"data":1}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).ch).toBeUndefined()
    expect(events.messages.map((message) => message.seq)).toEqual([1])
  })
})

describe('lifelineProtocol: publish', () => {
  it('queues the JSON text with its channel and returns the outbox id', () => {
    const { protocol, host } = setup()
    expect(protocol.publish('room', { text: 'hi', n: [1, 2] })).toBe('id-1')
    expect(host.enqueued).toEqual([{ data: '{"text":"hi","n":[1,2]}', channel: 'room' }])
  })

  it.each([
    ['empty', ''],
    ['over 200 characters', 'x'.repeat(201)],
    ['a newline', 'a\nb'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
  ])('refuses a channel name that is %s with INVALID_CHANNEL', (_, name) => {
    const { protocol, host } = setup()
    expect(() => protocol.publish(name as string, 1)).toThrow(expect.objectContaining({ code: 'INVALID_CHANNEL' }))
    expect(() => protocol.channel(name as string, {})).toThrow(expect.objectContaining({ code: 'INVALID_CHANNEL' }))
    expect(host.enqueued).toEqual([])
    expect(protocol.channels?.names()).toEqual([])
  })

  it('accepts names of 1 and 200 characters, with spaces and non-ASCII', () => {
    const { protocol } = setup()
    for (const name of ['a', 'x'.repeat(200), 'room 42', 'salon:été 🎉']) {
      expect(() => protocol.publish(name, 1)).not.toThrow()
    }
  })

  it.each([
    ['a BigInt', 1n],
    [
      'a circular object',
      (() => {
        const value: Record<string, unknown> = {}
        value.self = value
        return value
      })(),
    ],
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
  ])('refuses %s with InvalidMessageError', (_, data) => {
    const { protocol, host } = setup()
    expect(() => protocol.publish('room', data)).toThrow(InvalidMessageError)
    expect(host.enqueued).toEqual([])
  })

  it('throws WRONG_PROTOCOL before it is attached to a client', () => {
    const protocol = lifelineProtocol()
    expect(() => protocol.publish('room', 1)).toThrow(expect.objectContaining({ code: 'WRONG_PROTOCOL' }))
    expect(() => protocol.channel('room', {})).toThrow(expect.objectContaining({ code: 'WRONG_PROTOCOL' }))
  })

  it('throws WRONG_PROTOCOL when one instance is given to a second client, and the first keeps working', () => {
    const protocol = lifelineProtocol()
    const first = createLifeline({ url: 'wss://example.com/a', protocol, autoConnect: false })
    expect(() => createLifeline({ url: 'wss://example.com/b', protocol, autoConnect: false })).toThrow(
      expect.objectContaining({ code: 'WRONG_PROTOCOL' }),
    )
    const id = protocol.publish('room', 1)
    expect(first.outbox.items().map((queued) => [queued.id, queued.channel])).toEqual([[id, 'room']])
    first.dispose()
  })
})

describe('lifelineProtocol: encode', () => {
  it('embeds the JSON data in a valid pub frame', () => {
    const { protocol } = setup()
    const data = { text: 'quote " backslash \\ line\u2028 emoji 🎉', list: [1, null, true] }
    const frame = protocol.encode(item({ id: 'a"b', channel: 'ro"om\\', data: JSON.stringify(data) })) as string
    expect(JSON.parse(frame)).toEqual({ type: 'pub', ch: 'ro"om\\', id: 'a"b', data })
  })

  it('encodes the ping', () => {
    const { protocol } = setup()
    expect(JSON.parse(protocol.ping() as string)).toEqual({ type: 'ping' })
    expect(protocol).toMatchObject({ name: 'lifeline', confirmBy: 'ack', heartbeatByDefault: true })
  })
})
