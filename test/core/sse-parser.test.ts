import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSseParser, type SseEvent } from '../../src/core'

/** What the parser reported, in order: an event, a `retry:` value, or the overflow. */
type Outcome = { event: SseEvent } | { retry: number } | 'overflow'

interface Run {
  outcomes: Outcome[]
  lastEventId: string
}

const BIG = 1_000_000

function run(chunks: readonly string[], maxEventChars = BIG, initialId?: string): Run {
  const outcomes: Outcome[] = []
  const parser = createSseParser(
    {
      event: (event) => outcomes.push({ event }),
      retry: (ms) => outcomes.push({ retry: ms }),
      overflow: () => outcomes.push('overflow'),
    },
    maxEventChars,
    initialId,
  )
  for (const chunk of chunks) parser.feed(chunk)
  return { outcomes, lastEventId: parser.lastEventId }
}

/** The same stream whole, one UTF-16 unit at a time, and split at every index (both ends included) into two. */
function chunkings(stream: string): Array<[string, string[]]> {
  const all: Array<[string, string[]]> = [
    ['whole', [stream]],
    ['one character at a time', [...stream.split('')]],
  ]
  for (let index = 0; index <= stream.length; index++) {
    all.push([`split at ${String(index)}`, [stream.slice(0, index), stream.slice(index)]])
  }
  return all
}

const message = (data: string, lastEventId = '', type = 'message'): Outcome => ({ event: { type, data, lastEventId } })

interface Case {
  name: string
  stream: string
  expected: Outcome[]
  /** `parser.lastEventId` after the whole stream. */
  lastEventId?: string
  initialId?: string
  max?: number
}

function expectSameEverywhere({ stream, expected, lastEventId = '', initialId, max }: Case): void {
  for (const [label, chunks] of chunkings(stream)) {
    expect(run(chunks, max, initialId), `${label}: ${JSON.stringify(chunks)}`).toEqual({
      outcomes: expected,
      lastEventId,
    })
  }
}

const lineEnds: Case[] = [
  { name: 'LF line ends', stream: 'data: a\ndata: b\n\n', expected: [message('a\nb')] },
  { name: 'CRLF line ends', stream: 'data: a\r\ndata: b\r\n\r\n', expected: [message('a\nb')] },
  { name: 'CR line ends', stream: 'data: a\rdata: b\r\r', expected: [message('a\nb')] },
  { name: 'mixed line ends', stream: 'data: a\rdata: b\r\ndata: c\n\r\n', expected: [message('a\nb\nc')] },
  { name: 'CR then a non-LF starts a new line', stream: 'data: a\rdata: b\r\rdata: c\r\r', expected: [message('a\nb'), message('c')] },
  { name: 'LF then CR is two line ends (a blank line)', stream: 'data: a\n\rdata: b\n\n', expected: [message('a'), message('b')] },
  { name: 'CR then CRLF is a blank line', stream: 'data: a\r\r\ndata: b\n\n', expected: [message('a'), message('b')] },
  { name: 'CRLF then LF is a blank line', stream: 'data: a\r\n\ndata: b\n\n', expected: [message('a'), message('b')] },
  { name: 'a CRLF pair is never two line ends', stream: 'data: a\r\ndata: b\r\n\r\n', expected: [message('a\nb')] },
  { name: 'a surrogate pair split anywhere', stream: 'data: 😀é\n\n', expected: [message('😀é')] },
]

const bom: Case[] = [
  { name: 'a leading BOM is skipped', stream: '\uFEFFdata: a\n\n', expected: [message('a')] },
  { name: 'only one leading BOM is skipped', stream: '\uFEFF\uFEFFdata: a\n\ndata: b\n\n', expected: [message('b')] },
  { name: 'a BOM after the start is not skipped', stream: 'data: a\n\n\uFEFFdata: b\n\n', expected: [message('a')] },
  { name: 'a BOM inside a value is kept', stream: 'data: \uFEFFx\n\n', expected: [message('\uFEFFx')] },
]

const fields: Case[] = [
  { name: 'a comment line', stream: ': hello\ndata: a\n\n', expected: [message('a')] },
  { name: 'a comment between data lines', stream: 'data: a\n:c\ndata: b\n\n', expected: [message('a\nb')] },
  { name: 'comments alone dispatch nothing', stream: ':\n\n: x\n\n', expected: [] },
  { name: 'data without a space after the colon', stream: 'data:a\n\n', expected: [message('a')] },
  { name: 'only one leading space removed', stream: 'data:  a \n\n', expected: [message(' a ')] },
  { name: 'a value with colons', stream: 'data: a: b:c\n\n', expected: [message('a: b:c')] },
  { name: 'empty data lines', stream: 'data:\ndata:\n\n', expected: [message('\n')] },
  { name: '`data` with no colon is an empty data line', stream: 'data\n\n', expected: [message('')] },
  { name: '`data` with no colon joins as a line', stream: 'data: a\ndata\ndata: b\n\n', expected: [message('a\n\nb')] },
  { name: 'unknown fields ignored', stream: 'foo: bar\nData: x\ndata : y\ndata: a\n\n', expected: [message('a')] },
  { name: 'an unknown field alone dispatches nothing', stream: 'foo: bar\n\n', expected: [] },
  { name: 'event type', stream: 'event: add\ndata: a\n\ndata: b\n\n', expected: [message('a', '', 'add'), message('b')] },
  { name: 'an empty event type is `message`', stream: 'event:\ndata: a\n\nevent\ndata: b\n\n', expected: [message('a'), message('b')] },
  { name: 'an event without data resets the type', stream: 'event: add\n\ndata: b\n\n', expected: [message('b')] },
  { name: 'the last event field wins', stream: 'event: a\nevent: b\ndata: x\n\n', expected: [message('x', '', 'b')] },
  { name: 'a final event without a blank line', stream: 'data: a\n\ndata: b\n', expected: [message('a')] },
  { name: 'a final unterminated line', stream: 'data: a\n\ndata: b', expected: [message('a')] },
  { name: 'blank lines alone dispatch nothing', stream: '\n\n\r\n\r', expected: [] },
]

const ids: Case[] = [
  {
    name: '`id` holds for this and later events',
    stream: 'data: a\nid: 1\n\ndata: b\n\n',
    expected: [message('a', '1'), message('b', '1')],
    lastEventId: '1',
  },
  {
    name: 'an empty `id:` resets it',
    stream: 'id: 1\ndata: a\n\nid:\ndata: b\n\n',
    expected: [message('a', '1'), message('b', '')],
  },
  {
    name: '`id` with no colon resets it',
    stream: 'id: 1\ndata: a\n\nid\ndata: b\n\n',
    expected: [message('a', '1'), message('b', '')],
  },
  {
    name: 'an `id` containing NUL is ignored',
    stream: 'id: 1\ndata: a\n\nid: 2\u0000x\ndata: b\n\n',
    expected: [message('a', '1'), message('b', '1')],
    lastEventId: '1',
  },
  { name: 'an `id`-only event is not dispatched but updates lastEventId', stream: 'id: 7\n\n', expected: [], lastEventId: '7' },
  {
    name: 'an `id` without its blank line does not change lastEventId',
    stream: 'data: a\n\nid: 9\n',
    expected: [message('a')],
  },
  {
    name: 'the initial lastEventId holds until an id arrives',
    stream: 'data: a\n\nid: 6\ndata: b\n\n',
    initialId: 'resume-5',
    expected: [message('a', 'resume-5'), message('b', '6')],
    lastEventId: '6',
  },
  { name: 'an empty `id:` resets the initial lastEventId', stream: 'id:\n\n', initialId: 'resume-5', expected: [] },
  { name: 'the initial lastEventId with no events', stream: ': hi\n', initialId: 'resume-5', expected: [], lastEventId: 'resume-5' },
]

const retries: Case[] = [
  { name: 'retry with digits', stream: 'retry: 1500\ndata: a\n\n', expected: [{ retry: 1500 }, message('a')] },
  { name: 'retry without a space and leading zeros', stream: 'retry:007\nretry:0\n', expected: [{ retry: 7 }, { retry: 0 }] },
  ...['1.5', '-1', '1e3', ' 100', '100ms', '100 ', '', '１２', '0x10'].map(
    (value): Case => ({ name: `retry ${JSON.stringify(value)} ignored`, stream: `retry: ${value}\ndata: a\n\n`, expected: [message('a')] }),
  ),
  { name: '`retry` with no colon ignored', stream: 'retry\n', expected: [] },
  { name: 'an unterminated retry line is not read', stream: 'retry: 10', expected: [] },
]

const overflows: Case[] = [
  { name: 'a line of exactly maxEventChars', stream: 'data: abcd\n\n', max: 10, expected: [message('abcd')] },
  { name: 'a line past maxEventChars', stream: 'data: abcde\n\ndata: b\n\n', max: 10, expected: ['overflow'] },
  { name: 'events before the overflow are dispatched', stream: 'data: a\n\ndata: 0123456789\n\ndata: b\n\n', max: 10, expected: [message('a'), 'overflow'] },
  // 'data:g' (6) plus the assembled 'abcdef' (6).
  { name: 'line plus data at the limit', stream: 'data:abcdef\ndata:g\n\n', max: 12, expected: [message('abcdef\ng')] },
  { name: 'line plus data past the limit', stream: 'data:abcdef\ndata:g\n\nid: 1\n\n', max: 11, expected: ['overflow'] },
  { name: 'a long comment overflows', stream: 'data: a\n\n: a very long comment\ndata: b\n\n', max: 10, expected: [message('a'), 'overflow'] },
  { name: 'an unterminated long line overflows', stream: 'data: a\n\ndata: 0123456789', max: 10, expected: [message('a'), 'overflow'] },
  { name: 'no retry after the overflow', stream: 'data: 0123456789\nretry: 5\n', max: 10, expected: ['overflow'] },
  {
    name: 'lastEventId frozen at the overflow',
    stream: 'id: 1\n\ndata: 0123456789\nid: 2\n\n',
    max: 10,
    expected: ['overflow'],
    lastEventId: '1',
  },
]

describe('createSseParser', () => {
  describe.each([
    ['line ends', lineEnds],
    ['byte order mark', bom],
    ['fields', fields],
    ['event ids', ids],
    ['retry', retries],
    ['overflow', overflows],
  ])('%s', (_, cases) => {
    it.each(cases.map((entry) => [entry.name, entry] as const))(
      'reads %s the same whole, per character and split at every index',
      (_name, entry) => expectSameEverywhere(entry),
    )
  })

  it('treats a CR ending one chunk and a LF starting the next as one line end', () => {
    expect(run(['data: a\r', '\ndata: b\r', '', '\n\r', '\n']).outcomes).toEqual([message('a\nb')])
    expect(run(['data: a\r', 'data: b\r', '\r']).outcomes).toEqual([message('a\nb')])
  })

  it('skips a BOM only at the very start, even after empty chunks', () => {
    expect(run(['', '\uFEFF', 'data: a\n\n']).outcomes).toEqual([message('a')])
    expect(run(['data: a\n\n', '\uFEFFdata: b\n\n']).outcomes).toEqual([message('a')])
  })

  it('calls overflow exactly once and ignores all later input', () => {
    const result = run(['data: a\n\ndata: 0123456789', 'abc\n\n', 'data: b\n\n', 'x'.repeat(50), 'id: 3\n\n'], 10)
    expect(result).toEqual({ outcomes: [message('a'), 'overflow'], lastEventId: '' })
  })
})

/** The standard's algorithm, transcribed step by step (no size limit). */
function reference(stream: string, initialId: string): Run {
  const outcomes: Outcome[] = []
  const body = stream.startsWith('\uFEFF') ? stream.slice(1) : stream
  const lines = body.split(/\r\n|\r|\n/)
  // The text after the last line end is pending at the end of the stream: discarded.
  lines.pop()
  let data = ''
  let type = ''
  let idBuffer = initialId
  let lastEventId = initialId
  for (const line of lines) {
    if (line === '') {
      lastEventId = idBuffer
      if (data !== '') outcomes.push(message(data.endsWith('\n') ? data.slice(0, -1) : data, lastEventId, type || 'message'))
      data = ''
      type = ''
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (name === 'event') type = value
    else if (name === 'data') data += `${value}\n`
    else if (name === 'id' && !value.includes('\0')) idBuffer = value
    else if (name === 'retry' && /^[0-9]+$/.test(value)) outcomes.push({ retry: Number.parseInt(value, 10) })
  }
  return { outcomes, lastEventId }
}

describe('createSseParser against the standard', () => {
  const token = fc.constantFrom(
    'data',
    'data:',
    'data: x',
    'data:  y',
    'event: e',
    'event',
    'id: 1',
    'id:',
    'id: \0',
    'retry: 5',
    'retry: x',
    ':c',
    'foo',
    ':',
    ' ',
    '\r',
    '\n',
    '\r\n',
    '\uFEFF',
    '😀',
  )

  it('matches the standard for random streams cut into random chunks', () => {
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom('', 'start'),
        (tokens, cuts, initialId) => {
          const stream = tokens.join('')
          const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b)
          const chunks = [0, ...points].map((from, index) => stream.slice(from, points[index] ?? stream.length))
          expect(run(chunks, BIG, initialId)).toEqual(reference(stream, initialId))
        },
      ),
      { numRuns: 2000, seed: 20_250_101 },
    )
  })
})
