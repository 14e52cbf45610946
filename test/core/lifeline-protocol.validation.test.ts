import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { lifelineProtocol } from '../../src/core'
import { attachedProtocol, recordingHost, recordingLink, WELCOME, type RecordingLink } from '../support/fake-link'

/**
 * Every field of every server frame the client reads, each given values of the wrong type, length or range
 * (docs/protocol.md §2–§6). Nothing may throw out of `received`; a malformed frame is reported as PROTOCOL_ERROR and
 * not applied, except where the table says what is done instead.
 */

/** `String()` of this throws a TypeError: its `toString` is not callable and `valueOf` returns an object. */
const badToString = { toString: 1 }
const long = (length: number) => 'a'.repeat(length)

/** Mistyped values every field gets, besides the field's own bad values. */
const mistyped: [string, unknown][] = [
  ['missing', undefined],
  ['null', null],
  ['an object with a bad toString', badToString],
  ['an array', ['x']],
  ['a boolean', true],
]

function setup() {
  const { protocol, events } = attachedProtocol(['room'])
  const link = recordingLink()
  protocol.opened(link)
  const room = events.get('room')!
  return { protocol, link, room }
}

const send = (protocol: ReturnType<typeof lifelineProtocol>, link: RecordingLink, frame: Record<string, unknown>) =>
  protocol.received(JSON.stringify(frame), link)

/** `frame` with `field` set to `value` (removed when `value` is undefined). */
function withField(frame: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...frame }
  if (value === undefined) delete copy[field]
  else copy[field] = value
  return copy
}

const codes = (link: RecordingLink) => link.reports.map((error) => error.code)

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('lifelineProtocol: hostile server frames, field by field', () => {
  const subscribed = { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }
  const msg = { type: 'msg', ch: 'room', epoch: 'e1', seq: 1, data: { n: 1 } }

  describe('welcome', () => {
    const badSessions: [string, unknown][] = [
      ...mistyped,
      ['a number', 42],
      ['empty', ''],
      ['129 characters', long(129)],
      ['2 MiB', long(2 * 1024 * 1024)],
      ['with a space', 'abc def'],
      ['with a control character', 'abc\u0000'],
      ['with non-ASCII', 'séance'],
    ]
    it.each(badSessions)('session %s: fails with PROTOCOL_ERROR, never ready, nothing kept', (_, session) => {
      const { protocol, link } = setup()
      expect(() => send(protocol, link, withField(WELCOME, 'session', session))).not.toThrow()
      expect(link.failures.map((error) => error.code)).toEqual(['PROTOCOL_ERROR'])
      expect(link.failures[0]!.message.length).toBeLessThan(200)
      expect(link.readies).toEqual([])
    })

    it.each([
      ['128 characters', long(128)],
      ['base64 with + / =', 'ab+/cd=='],
      ['a UUID', '1b4e28ba-2fa1-11d2-883f-0016d3cca427'],
      ['one character', 'x'],
    ])('session %s: accepted', (_, session) => {
      const { protocol, link } = setup()
      send(protocol, link, withField(WELCOME, 'session', session))
      expect(link.readies).toEqual([{ id: session, resumed: false }])
      expect(link.failures).toEqual([])
      expect(link.reports).toEqual([])
    })

    const numeric: [string, unknown][] = [
      ...mistyped.filter(([name]) => name !== 'missing'),
      ['a numeric string', '25000'],
      ['fractional', 1.5],
      ['negative', -1],
      ['2^31', 2 ** 31],
      ['unsafe', 2 ** 53 + 2],
    ]
    for (const field of ['heartbeatMs', 'maxMessageBytes', 'resumeWindowMs']) {
      it.each(numeric)(`${field} %s: ready without it, PROTOCOL_ERROR reported after ready`, (_, value) => {
        const { protocol, link } = setup()
        expect(() => send(protocol, link, withField(WELCOME, field, value))).not.toThrow()
        expect(link.readies).toEqual([{ id: WELCOME.session, resumed: false }])
        expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
        expect(link.reports[0]!.message).toContain(field)
        if (field === 'maxMessageBytes') expect(link.limits).toEqual([])
        else expect(link.limits).toEqual([WELCOME.maxMessageBytes - 1024])
      })
    }

    it('heartbeatMs and maxMessageBytes of 0 are out of range; resumeWindowMs of 0 is fine', () => {
      for (const field of ['heartbeatMs', 'maxMessageBytes']) {
        const { protocol, link } = setup()
        send(protocol, link, withField(WELCOME, field, 0))
        expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
      }
      const { protocol, link } = setup()
      send(protocol, link, withField(WELCOME, 'resumeWindowMs', 0))
      expect(link.reports).toEqual([])
    })

    it('the numeric fields may be absent', () => {
      const { protocol, link } = setup()
      send(protocol, link, { type: 'welcome', session: 's', resumed: true })
      expect(link.readies).toEqual([{ id: 's', resumed: true }])
      expect(link.reports).toEqual([])
    })

    it.each([
      ['a string', 'true'],
      ['a number', 1],
      ['an object with a bad toString', badToString],
    ])('resumed %s: read as false and reported', (_, resumed) => {
      const { protocol, link } = setup()
      send(protocol, link, withField(WELCOME, 'resumed', resumed))
      expect(link.readies).toEqual([{ id: WELCOME.session, resumed: false }])
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
    })

    it('a second welcome on one connection is ignored: one ready, the first session kept', () => {
      const { protocol, link } = setup()
      send(protocol, link, WELCOME)
      send(protocol, link, { ...WELCOME, session: 'other', resumed: true, maxMessageBytes: 2048 })
      expect(link.readies).toEqual([{ id: WELCOME.session, resumed: false }])
      expect(link.limits).toEqual([WELCOME.maxMessageBytes - 1024])
      // The next connection is greeted again.
      const next = recordingLink({ session: WELCOME.session })
      protocol.opened(next)
      send(protocol, next, { ...WELCOME, resumed: true })
      expect(next.readies).toEqual([{ id: WELCOME.session, resumed: true }])
    })
  })

  describe('msg', () => {
    const bad: [string, string, unknown][] = [
      ...mistyped.map(([name, value]): [string, string, unknown] => ['ch', name, value]),
      ['ch', 'a number', 7],
      ['ch', 'empty', ''],
      ['ch', '201 characters', long(201)],
      ['ch', 'with a control character', 'room\u0007'],
      ...mistyped.map(([name, value]): [string, string, unknown] => ['epoch', name, value]),
      ['epoch', 'a number', 1],
      ['epoch', 'empty', ''],
      ['epoch', '129 characters', long(129)],
      ...mistyped.map(([name, value]): [string, string, unknown] => ['seq', name, value]),
      ['seq', 'a numeric string', '1'],
      ['seq', 'negative', -1],
      ['seq', 'fractional', 1.5],
      ['seq', 'unsafe', 2 ** 53 + 2],
      ['data', 'missing', undefined],
    ]
    it.each(bad)('%s %s: reported, not delivered; the next good msg is', (field, _, value) => {
      const { protocol, link, room } = setup()
      send(protocol, link, subscribed)
      expect(() => send(protocol, link, withField(msg, field, value))).not.toThrow()
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
      expect(room.messages).toEqual([])
      send(protocol, link, msg)
      expect(room.messages.map((message) => message.seq)).toEqual([1])
      expect(room.gaps).toEqual([])
    })

    it('data may be any JSON value, null included', () => {
      const { protocol, link, room } = setup()
      send(protocol, link, subscribed)
      send(protocol, link, { ...msg, data: null })
      send(protocol, link, { ...msg, seq: 2, data: badToString })
      expect(room.messages.map((message) => message.data)).toEqual([null, badToString])
      expect(link.reports).toEqual([])
    })
  })

  describe('subscribed', () => {
    const bad: [string, string, unknown][] = [
      ...mistyped.map(([name, value]): [string, string, unknown] => ['ch', name, value]),
      ['ch', '201 characters', long(201)],
      ...mistyped.map(([name, value]): [string, string, unknown] => ['epoch', name, value]),
      ['epoch', '129 characters', long(129)],
      ...mistyped.map(([name, value]): [string, string, unknown] => ['seq', name, value]),
      ['seq', 'negative', -1],
      ['seq', 'unsafe', 2 ** 53 + 2],
    ]
    it.each(bad)('%s %s: reported, the subscription stays pending', (field, _, value) => {
      const { protocol, link, room } = setup()
      expect(() => send(protocol, link, withField(subscribed, field, value))).not.toThrow()
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
      expect(room.statuses.at(-1)?.state).toBe('pending')
    })

    it.each([
      ['a string', 'true'],
      ['an object with a bad toString', badToString],
    ])('resumed %s: read as false (a gap when a replay was asked for) and reported', (_, resumed) => {
      const { protocol, link, room } = setup()
      send(protocol, link, subscribed)
      send(protocol, link, msg)
      protocol.opened(link)
      send(protocol, link, { ...subscribed, resumed, seq: 5 })
      expect(room.gaps.map((gap) => gap.reason)).toEqual(['not-resumed'])
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
    })
  })

  describe('ack and nack', () => {
    const badIds: [string, unknown][] = [...mistyped, ['a number', 1], ['empty', ''], ['129 characters', long(129)]]
    it.each(badIds)('ack id %s: reported, nothing confirmed', (_, id) => {
      const { protocol, link } = setup()
      expect(() => send(protocol, link, withField({ type: 'ack', id: 'm1' }, 'id', id))).not.toThrow()
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
      expect(link.confirmed).toEqual([])
    })

    it.each(badIds)('nack id %s: reported, nothing rejected', (_, id) => {
      const { protocol, link } = setup()
      send(protocol, link, withField({ type: 'nack', id: 'm1', code: 'FORBIDDEN', reason: 'no' }, 'id', id))
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
      expect(link.rejected).toEqual([])
    })

    const badCodes: [string, unknown][] = [
      ...mistyped,
      ['a number', 403],
      ['empty', ''],
      ['65 characters', long(65)],
      ['with a space', 'NOT ALLOWED'],
      ['with a newline', 'FORBIDDEN\nforged log line'],
    ]
    it.each(badCodes)('nack code %s: the item still fails (MESSAGE_REFUSED), and the frame is reported', (_, code) => {
      const { protocol, link } = setup()
      expect(() =>
        send(protocol, link, withField({ type: 'nack', id: 'm1', code: 'X', reason: 'no' }, 'code', code)),
      ).not.toThrow()
      expect(link.rejected.map(({ id, error }) => [id, error.code, error.message])).toEqual([
        ['m1', 'MESSAGE_REFUSED', 'malformed nack'],
      ])
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
    })
  })

  describe('error', () => {
    const badCodes: [string, unknown][] = [...mistyped, ['a number', 500], ['empty', ''], ['65 characters', long(65)]]
    it.each(badCodes)('code %s without ch: PROTOCOL_ERROR with a safe message', (_, code) => {
      const { protocol, link } = setup()
      expect(() =>
        send(protocol, link, withField({ type: 'error', code: 'X', reason: 'r' }, 'code', code)),
      ).not.toThrow()
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
      expect(link.reports[0]!.message).toBe('malformed error frame')
    })

    it.each(badCodes)('code %s with a channel: the channel is refused all the same, and it is reported', (_, code) => {
      const { protocol, link, room } = setup()
      send(protocol, link, withField({ type: 'error', code: 'X', reason: 'r', ch: 'room' }, 'code', code))
      expect(room.statuses.at(-1)).toEqual({ state: 'error', resumed: null, error: 'PROTOCOL_ERROR' })
      expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
    })

    it.each([...mistyped.filter(([name]) => name !== 'missing'), ['a number', 1], ['201 characters', long(201)]])(
      'ch %s: reported, no channel touched',
      (_, ch) => {
        const { protocol, link, room } = setup()
        send(protocol, link, { type: 'error', code: 'FORBIDDEN', reason: 'r', ch })
        expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
        expect(room.statuses.at(-1)?.state).toBe('pending')
      },
    )
  })

  describe('frames the client reads nothing from', () => {
    it('pong with extra fields is a pong; unsubscribed with any ch is ignored', () => {
      const { protocol, link } = setup()
      send(protocol, link, { type: 'pong', extra: badToString })
      send(protocol, link, { type: 'unsubscribed', ch: badToString })
      expect(link.pongs).toBe(1)
      expect(link.reports).toEqual([])
    })
  })
})

describe('lifelineProtocol: nothing escapes received()', () => {
  it('a throwing channel listener does not stop the others, the stream, or the protocol; its error is rethrown later', () => {
    const rethrown: (() => void)[] = []
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => void rethrown.push(callback))
    const protocol = lifelineProtocol()
    protocol.attach!(recordingHost())
    const seen: number[] = []
    const boom = new Error('listener bug')
    protocol.channel('room', {
      message: () => {
        throw boom
      },
      status: () => {
        throw boom
      },
    })
    protocol.channel('room', { message: (message) => seen.push(message.seq) })
    const link = recordingLink()
    expect(() => protocol.opened(link)).not.toThrow()
    expect(() => {
      protocol.received(JSON.stringify({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e', seq: 0 }), link)
      protocol.received(JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e', seq: 1, data: 1 }), link)
      protocol.received(JSON.stringify({ type: 'msg', ch: 'room', epoch: 'e', seq: 2, data: 2 }), link)
    }).not.toThrow()
    expect(seen).toEqual([1, 2])
    expect(link.reports).toEqual([])
    // The listener's own error is not swallowed: it surfaces outside the protocol, like an event listener's.
    expect(rethrown.length).toBeGreaterThan(0)
    expect(rethrown[0]).toThrow(boom)
  })

  it('an unexpected throw inside (a broken link) becomes a PROTOCOL_ERROR report', () => {
    const { protocol } = attachedProtocol([])
    const link = recordingLink()
    link.confirm = () => {
      throw new TypeError('link bug')
    }
    expect(() => protocol.received(JSON.stringify({ type: 'ack', id: 'm1' }), link)).not.toThrow()
    expect(codes(link)).toEqual(['PROTOCOL_ERROR'])
    expect((link.reports[0]!.cause as Error).message).toBe('link bug')
  })
})
