import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLifeline, lifelineProtocol, type LifelineProtocol } from '../../src/core'
import { attachedProtocol, recordingLink, WELCOME } from '../support/fake-link'
import { createFakeWebSocket } from '../../src/testing/fakes'

/** The sockets the client opens, driven by hand. */
const fake = createFakeWebSocket()
const sockets = fake.sockets

/**
 * Property test of the client protocol handler: frames of every server type, each field kept, dropped, or replaced by
 * a value of the wrong type, length or range. Seeded and bounded (2 000 runs each), so a failure replays exactly.
 */

const SEED = 20240611
const RUNS = 2000

/** A value of any JSON type, or of the right type with a hostile length or range, or one whose `String()` throws. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(-1, 0, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, -0),
  fc.string({ maxLength: 8 }),
  fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }),
  fc.constantFrom('', 'a'.repeat(129), 'a'.repeat(201), 'a'.repeat(70_000), 'sp ace', 'ctl\u0007', '__proto__'),
  fc.constant({ toString: 1 }),
  fc.constant({ toString: 1, valueOf: 1 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
)

/** The frames the server may send, well formed (docs/protocol.md), with `room` as the channel. */
const templates: Record<string, Record<string, unknown>> = {
  welcome: { ...WELCOME },
  msg: { type: 'msg', ch: 'room', epoch: 'e1', seq: 3, data: { n: 1 } },
  subscribed: { type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 2 },
  unsubscribed: { type: 'unsubscribed', ch: 'room' },
  ack: { type: 'ack', id: 'm1' },
  nack: { type: 'nack', id: 'm1', code: 'FORBIDDEN', reason: 'no' },
  pong: { type: 'pong' },
  error: { type: 'error', code: 'FORBIDDEN', reason: 'no', ch: 'room' },
}

/** One field's fate: kept, removed, or replaced by a hostile value. */
const fieldFate = fc.oneof(
  { weight: 2, arbitrary: fc.constant<{ kind: 'keep' }>({ kind: 'keep' }) },
  { weight: 1, arbitrary: fc.constant<{ kind: 'drop' }>({ kind: 'drop' }) },
  { weight: 3, arbitrary: hostileValue.map((value) => ({ kind: 'set' as const, value })) },
)

/** A frame of one of the types above with every field (type included) kept, dropped or mistyped, as text. */
const hostileFrame: fc.Arbitrary<string> = fc.constantFrom(...Object.keys(templates)).chain((type) => {
  const template = templates[type]!
  const fields = [...Object.keys(template), 'extra']
  return fc.tuple(...fields.map(() => fieldFate)).map((fates) => {
    const frame: Record<string, unknown> = { ...template }
    fields.forEach((field, index) => {
      const fate = fates[index]!
      if (fate.kind === 'drop') delete frame[field]
      // `type` itself is mistyped only now and then, so that most frames reach their type's handler.
      else if (fate.kind === 'set' && (field !== 'type' || index % 7 === 0)) frame[field] = fate.value
    })
    return JSON.stringify(frame)
  })
})

/** Now and then not even JSON: cut short, or raw text. */
const hostileText = fc.oneof(
  { weight: 8, arbitrary: hostileFrame },
  { weight: 1, arbitrary: hostileFrame.map((text) => text.slice(0, Math.max(0, text.length - 3))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
)

/** A well-formed msg in an epoch no generated frame can name, so it is always new (a gap, then delivery). */
const good = (run: number) =>
  JSON.stringify({ type: 'msg', ch: 'room', epoch: `\u2603${String(run)}`, seq: 1, data: run })

beforeEach(() => {
  vi.useFakeTimers()
  fake.reset()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('lifelineProtocol.received (fuzz)', () => {
  it('never throws, keeps delivering, and holds no more state after 2 000 hostile frames', () => {
    const { protocol, events } = attachedProtocol(['room'])
    const room = events.get('room')!
    const link = recordingLink()
    protocol.opened(link)
    protocol.received(JSON.stringify(WELCOME), link)
    let run = 0
    fc.assert(
      fc.property(fc.array(hostileText, { minLength: 1, maxLength: 4 }), (frames) => {
        run += 1
        for (const text of frames) expect(() => protocol.received(text, link)).not.toThrow()
        protocol.received(good(run), link)
        expect(room.messages.at(-1)?.data).toBe(run)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    expect(run).toBe(RUNS)
    const registry = (protocol as LifelineProtocol).channels!
    expect(registry.names()).toEqual(['room'])
    expect(registry.size()).toBe(1)
    expect(link.readies).toHaveLength(1)
    // Every report's message is short: no server text of unbounded length is echoed into lastError.
    expect(Math.max(...link.reports.map((error) => error.message.length))).toBeLessThan(100)
  })
})

describe('client over hostile frames (fuzz)', () => {
  it('the socket handler never throws; outbox, lastError, timers and store notifications stay bounded', () => {
    const protocol = lifelineProtocol()
    const client = createLifeline({
      url: 'wss://example.com/live',
      protocol,
      environment: { WebSocket: fake.WebSocket, location: undefined },
    })
    const delivered: unknown[] = []
    protocol.channel('room', { message: (message) => delivered.push(message.data) })
    const socket = sockets[0]!
    socket.serverWelcome({ session: WELCOME.session })
    socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e0', seq: 0 })
    const queued = protocol.publish('room', { mine: true })
    let notifications = 0
    client.subscribe(() => notifications++)
    let run = 0
    fc.assert(
      fc.property(fc.array(hostileText, { minLength: 1, maxLength: 4 }), (frames) => {
        run += 1
        for (const text of frames) expect(() => socket.serverMessage(text)).not.toThrow()
        socket.serverMessage(good(run))
        expect(delivered.at(-1)).toBe(run)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    // No time passed: a flood may record one problem now and one summary later, never one per frame.
    expect(notifications).toBeLessThanOrEqual(2)
    expect(client.outbox.items().map((item) => item.id)).toEqual([queued])
    expect(client.getSnapshot().status).toBe('open')
    expect(client.getSnapshot().session.id).toBe(WELCOME.session)
    expect(client.getSnapshot().lastError?.message.length ?? 0).toBeLessThan(100)
    expect(client.resources().timers).toBeLessThanOrEqual(4)
    expect(protocol.channels!.names()).toEqual(['room'])
    client.dispose()
    expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
  })
})
