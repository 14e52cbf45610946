import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, WireErrorCodes } from '../../src/core'
import type { ServerFrame } from '../../src/core'
import { parseClientFrame } from '../../src/server/frames'
import { jsonValue, RISKY_KEYS } from '../support/json-arbitrary'
import { cleanup, connect, connectReady, startServer, waitFor } from './helpers'
import type { TestClient } from './helpers'

/** One generated client frame: its text, whether to send it as a binary frame, and whether it must be accepted. */
interface FuzzFrame {
  readonly text: string
  readonly binary: boolean
  /** Every field present and well typed, nothing too deep: the parser must accept it. */
  readonly wellFormed: boolean
}

/** A field's value as JSON text; `fits` is false for a value the field does not accept. */
interface FieldValue {
  readonly text: string
  readonly fits: boolean
}

/** A {@link FuzzFrame}, shown shortened in counterexamples (some are tens of kilobytes of brackets). */
function fuzzFrameOf(text: string, binary: boolean, wellFormed: boolean): FuzzFrame {
  const shown = JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text)
  return Object.assign(
    { text, binary, wellFormed },
    { [fc.toStringMethod]: () => `${binary ? 'binary ' : ''}${shown}` },
  )
}

const GOOD_CHANNEL = 'well-behaved ✓ channel'
const json = (value: unknown): string => JSON.stringify(value)
const deepArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const deepObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

/** Values of every JSON type, and ones that are too long, too deep, or spell prototype keys. */
const mistyped: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'null',
    'true',
    'false',
    '0',
    '-0',
    '-1',
    '1.5',
    '1e308',
    '9007199254740993',
    '""',
    '"x"',
    json('x'.repeat(129)),
    '"\\ud800"',
    '"\\u0000"',
    '[]',
    '{}',
    '[1,"a",null]',
    '{"epoch":1,"seq":"x"}',
    '{"epoch":"e","seq":-1}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
  ),
  fc.integer({ min: MAX_JSON_DEPTH, max: 20_000 }).map(deepArrays),
  fc.integer({ min: MAX_JSON_DEPTH, max: 10_000 }).map(deepObjects),
  jsonValue(3).map(json),
)

const channel = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).map((name) => `h-${name}`),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'x'.repeat(201), '\u0000bad'),
)
const shortId = fc.string({ minLength: 1, maxLength: 128 })

/** Valid field values per frame type; `?` marks an optional field. */
const FIELDS: Record<string, Record<string, fc.Arbitrary<string>>> = {
  hello: { v: fc.constant('1'), 'token?': fc.string().map(json), 'session?': shortId.map(json) },
  sub: { ch: channel.map(json), 'since?': fc.record({ epoch: shortId, seq: fc.nat() }).map(json) },
  unsub: { ch: channel.map(json) },
  pub: { ch: channel.map(json), id: shortId.map(json), data: jsonValue(4).map(json) },
  ping: {},
}

/** A field: its valid value (most often), a mistyped one, or missing. */
function field(name: string, valid: fc.Arbitrary<string>): fc.Arbitrary<[string, FieldValue | null]> {
  const optional = name.endsWith('?')
  const key = optional ? name.slice(0, -1) : name
  return fc
    .oneof(
      { weight: 4, arbitrary: valid.map((text): FieldValue | null => ({ text, fits: true })) },
      { weight: 2, arbitrary: mistyped.map((text): FieldValue | null => ({ text, fits: false })) },
      { weight: 1, arbitrary: fc.constant<FieldValue | null>(null) },
    )
    .map((value): [string, FieldValue | null] => [key, value ?? (optional ? null : { text: '', fits: false })])
}

/** A frame of `type` (or of an unknown type) with every field possibly mistyped or missing, plus stray fields. */
const objectFrame: fc.Arbitrary<FuzzFrame> = fc
  .constantFrom(...Object.keys(FIELDS), 'unknown')
  .chain((type) =>
    fc.record({
      type: fc.oneof(
        {
          weight: 6,
          arbitrary: fc.constant<FieldValue>({
            text: json(type === 'unknown' ? 'nope' : type),
            fits: type !== 'unknown',
          }),
        },
        { weight: 1, arbitrary: mistyped.map((text): FieldValue => ({ text, fits: false })) },
      ),
      fields: fc.tuple(...Object.entries(FIELDS[type] ?? {}).map(([name, valid]) => field(name, valid))),
      extras: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...RISKY_KEYS, 'extra'), fc.string({ maxLength: 8 })), mistyped),
        { maxLength: 2 },
      ),
    }),
  )
  .map(({ type, fields, extras }) => {
    const known = new Set(['type', ...fields.map(([key]) => key)])
    const entries: [string, string][] = [['type', type.text]]
    let wellFormed = type.fits
    for (const [key, value] of fields) {
      if (value === null) continue
      // An empty text stands for a required field left out.
      if (value.text === '') wellFormed = false
      else entries.push([key, value.text])
      if (!value.fits) wellFormed = false
    }
    for (const [key, text] of extras) {
      entries.push([key, text])
      // A stray field is ignored unless it repeats a known one (the last wins) or is too deep for the frame.
      if (known.has(key) || text.startsWith('['.repeat(MAX_JSON_DEPTH)) || text.startsWith('{"a":'.repeat(8))) {
        wellFormed = false
      }
    }
    return fuzzFrameOf(`{${entries.map(([key, text]) => `${json(key)}:${text}`).join(',')}}`, false, wellFormed)
  })

/** Text that is not a frame: truncated frames, non-JSON, JSON that is not an object, deep nesting, binary frames. */
const rawFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  fc
    .tuple(objectFrame, fc.nat())
    .map(([frame, cut]) => fuzzFrameOf(frame.text.slice(0, cut % frame.text.length), false, false)),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => fuzzFrameOf(text, false, false)),
  jsonValue(3)
    .filter((value) => value === null || typeof value !== 'object' || Array.isArray(value))
    .map((value) => fuzzFrameOf(json(value), false, false)),
  fc.integer({ min: MAX_JSON_DEPTH, max: 30_000 }).map((depth) => fuzzFrameOf(deepArrays(depth), false, false)),
  objectFrame.map((frame) => fuzzFrameOf(frame.text, true, false)),
)

const fuzzFrame: fc.Arbitrary<FuzzFrame> = fc
  .oneof({ weight: 5, arbitrary: objectFrame }, { weight: 1, arbitrary: rawFrame })
  .filter((frame) => !frame.text.includes(GOOD_CHANNEL))

const codes = new Set<string>(Object.values(WireErrorCodes))
const isId = (value: unknown): boolean => typeof value === 'string' && value.length > 0 && value.length <= 128

describe('parseClientFrame fuzz (pure)', () => {
  it('never throws; accepts every well-formed frame; every answer is typed; 20 000 frames', () => {
    fc.assert(
      fc.property(fuzzFrame, ({ text, wellFormed }) => {
        const parsed = parseClientFrame(text)
        if (wellFormed) expect(parsed, text.slice(0, 200)).toMatchObject({ ok: true })
        if (!parsed.ok) {
          expect(codes.has(parsed.code)).toBe(true)
          expect(parsed.reason).toEqual(expect.any(String))
          expect(parsed.id === undefined || isId(parsed.id)).toBe(true)
          expect(parsed.ch === undefined || typeof parsed.ch === 'string').toBe(true)
          return
        }
        const { frame } = parsed
        expect(Object.getPrototypeOf(frame)).toBe(Object.prototype)
        switch (frame.type) {
          case 'hello':
            expect(Number.isSafeInteger(frame.v)).toBe(true)
            expect(frame.token === undefined || typeof frame.token === 'string').toBe(true)
            expect(frame.session === undefined || isId(frame.session)).toBe(true)
            return
          case 'sub':
            expect(typeof frame.ch).toBe('string')
            if (frame.since) expect(isId(frame.since.epoch) && Number.isSafeInteger(frame.since.seq)).toBe(true)
            return
          case 'unsub':
            expect(typeof frame.ch).toBe('string')
            return
          case 'pub':
            expect(typeof frame.ch === 'string' && isId(frame.id)).toBe(true)
            // The server re-serialises `data`: it must be shallow enough for JSON.stringify's recursion.
            expect(JSON.stringify(frame.data).startsWith('['.repeat(MAX_JSON_DEPTH))).toBe(false)
            return
          case 'ping':
            return
          default:
            frame satisfies never
        }
      }),
      { numRuns: 20_000, seed: 1_337 },
    )
  })
})

describe('lifeline server under a hostile client (fuzz over a real WebSocket)', () => {
  const problems: unknown[] = []
  const onProblem = (error: unknown) => problems.push(error)
  beforeEach(() => {
    problems.length = 0
    process.on('uncaughtException', onProblem)
    process.on('unhandledRejection', onProblem)
  })
  afterEach(async () => {
    process.off('uncaughtException', onProblem)
    process.off('unhandledRejection', onProblem)
    await cleanup()
  })

  it('survives 1 000 mistyped frames of every type: no throw escapes, a neighbour keeps its messages in order, stats return to baseline', async () => {
    // Frames of up to a few hundred KB (deep nesting is bulky): none closes the connection with 1009.
    const server = await startServer({ resume: { windowMs: 200 }, maxPayload: 1024 * 1024 })
    const { client: good } = await connectReady(server.url, { label: 'good' })
    await good.subscribe(GOOD_CHANNEL)
    const stable = () => {
      const { connections, longPolls, sessions, subscriptions, handshakes, principals } = server.stats()
      return { connections, longPolls, sessions, subscriptions, handshakes, principals }
    }
    const baseline = stable()

    // The application publishes numbered messages to the good client's channel throughout the attack.
    const MESSAGES = 200
    let published = 0
    const publishing = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        server.publish(GOOD_CHANNEL, { n: published++ }).catch(reject)
        if (published === MESSAGES) {
          clearInterval(timer)
          resolve()
        }
      }, 2)
    })

    const frames = fc.sample(fuzzFrame, { numRuns: 1000, seed: 20_250_101 })
    const hostiles: TestClient[] = []
    const open = async (): Promise<TestClient> => {
      const hostile = await connect(server.url, { label: `hostile-${String(hostiles.length)}` })
      hostiles.push(hostile)
      // Most connections greet first so that later frames reach the handlers; some start with a fuzzed frame.
      if (hostiles.length % 4 !== 0) hostile.send({ type: 'hello', v: 1 })
      return hostile
    }
    let hostile = await open()
    for (const [index, frame] of frames.entries()) {
      if (hostile.close !== null || hostile.socket.readyState !== hostile.socket.OPEN || index % 100 === 99) {
        hostile.socket.terminate()
        hostile = await open()
      }
      hostile.socket.send(frame.text, { binary: frame.binary })
      if (index % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    // Everything sent so far is answered before the pong (frames are handled in order; a closed one answers nothing).
    hostile.send({ type: 'ping' })
    await waitFor(
      'the last hostile connection to answer or close',
      () => hostile.close !== null || hostile.all('pong').length > 0,
    )
    await publishing

    // The neighbour got every message, in order, and was never disturbed.
    await waitFor('every good message', () => good.all('msg').length === MESSAGES, 5000)
    expect(good.all('msg').map((message) => [message.seq, (message.data as { n: number }).n])).toEqual(
      Array.from({ length: MESSAGES }, (_, index) => [index + 1, index]),
    )
    expect(good.all('error')).toEqual([])
    expect(good.close).toBeNull()

    // Hostile connections were answered with typed frames and never closed for an internal error.
    const answers = hostiles.flatMap((client) => client.frames)
    for (const answer of answers.filter(
      (frame): frame is Extract<ServerFrame, { type: 'error' | 'nack' }> =>
        frame.type === 'error' || frame.type === 'nack',
    )) {
      expect(codes.has(answer.code), answer.code).toBe(true)
    }
    const closes = hostiles.flatMap((client) => (client.close ? [client.close.code] : []))
    expect(closes).not.toContain(1011)
    expect(answers.length).toBeGreaterThan(500)

    // The server still accepts and serves connections.
    const { client: late } = await connectReady(server.url, { label: 'late' })
    late.send({ type: 'ping' })
    await late.next('pong')
    late.socket.terminate()

    // Once the hostile client is gone (and its sessions expired), nothing it made is left behind.
    for (const client of hostiles) client.socket.terminate()
    await waitFor('server stats back to baseline', () => json(stable()) === json(baseline), 3000)
    expect(problems).toEqual([])
  })
})
