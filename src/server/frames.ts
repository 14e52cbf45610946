import { jsonDepth, MAX_JSON_DEPTH, WireErrorCodes } from '../core'
import type { ClientFrame, ServerFrame, StreamPosition, WireErrorCode } from '../core'

/** Longest client message id, session id or epoch accepted. */
const MAX_ID_LENGTH = 128

/** A frame that could not be accepted, with what to answer. Internal. */
export interface FrameProblem {
  readonly code: WireErrorCode
  readonly reason: string
  /** The `pub` id when one could be read: the answer is then a `nack`. */
  readonly id?: string
  /** The channel when one could be read. */
  readonly ch?: string
}

/** The result of {@link parseClientFrame}. Internal. */
export type ParsedFrame = { readonly ok: true; readonly frame: ClientFrame } | ({ readonly ok: false } & FrameProblem)

// Control characters (C0, DEL, C1) and lone surrogates; everything else is a legal channel character.
const BAD_CHANNEL_CHARS = /[\p{Cc}\p{Cs}]/u

/** Why `name` cannot be a channel, or '' when it can. Channels live in `Map`s, so names like `__proto__` are fine. */
export function channelProblem(name: string, maxLength: number): string {
  if (name.length === 0) return 'channel name is empty'
  if (name.length > maxLength) return `channel name longer than ${String(maxLength)}`
  if (BAD_CHANNEL_CHARS.test(name)) return 'channel name has control characters or lone surrogates'
  return ''
}

const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH

function positionOf(value: unknown): StreamPosition | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const { epoch, seq } = value as Record<string, unknown>
  if (!isId(epoch) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return null
  return { epoch, seq }
}

const invalid = (reason: string, extra?: { id?: string; ch?: string }): ParsedFrame => ({
  ok: false,
  code: WireErrorCodes.invalidFrame,
  reason,
  ...extra,
})

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Parses and checks one text frame against the protocol's client frames. Unknown extra fields are ignored (newer
 * clients may send them); a wrong or missing field is a problem, never an exception. A frame nesting arrays and
 * objects deeper than `maxDepth` is refused before it is parsed: `nack{TOO_DEEP}` for a `pub` whose id can be read,
 * `error{INVALID_FRAME}` for anything else. So no parsed value is deeper than `maxDepth`, and re-serialising one with
 * `JSON.stringify` (recursive) is safe.
 */
export function parseClientFrame(text: string, maxDepth: number = MAX_JSON_DEPTH): ParsedFrame {
  if (jsonDepth(text, maxDepth) > maxDepth) return tooDeep(text, maxDepth)
  let value: unknown
  try {
    // Depth checked above; JSON.parse keeps every key, `__proto__` included, as an own data property.
    value = JSON.parse(text)
  } catch (_error) {
    return invalid('frame is not JSON')
  }
  if (!isRecord(value)) return invalid('frame is not an object')
  const fields = value
  const ch = typeof fields.ch === 'string' ? fields.ch : undefined
  const withCh = ch === undefined ? {} : { ch }
  switch (fields.type) {
    case 'hello': {
      const { v, token, session } = fields
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return invalid('hello.v must be an integer')
      if (token !== undefined && typeof token !== 'string') return invalid('hello.token must be a string')
      if (session !== undefined && !isId(session)) return invalid('hello.session must be a short string')
      const frame: Extract<ClientFrame, { type: 'hello' }> = { type: 'hello', v }
      if (token !== undefined) frame.token = token
      if (session !== undefined) frame.session = session
      return { ok: true, frame }
    }
    case 'sub': {
      if (ch === undefined) return invalid('sub.ch must be a string')
      if (fields.since === undefined) return { ok: true, frame: { type: 'sub', ch } }
      const since = positionOf(fields.since)
      if (!since) return invalid('sub.since must be { epoch: string, seq: integer >= 0 }', withCh)
      return { ok: true, frame: { type: 'sub', ch, since } }
    }
    case 'unsub':
      if (ch === undefined) return invalid('unsub.ch must be a string')
      return { ok: true, frame: { type: 'unsub', ch } }
    case 'pub': {
      const { id } = fields
      if (!isId(id)) return invalid(`pub.id must be a string of 1 to ${String(MAX_ID_LENGTH)} characters`, withCh)
      if (ch === undefined) return invalid('pub.ch must be a string', { id })
      if (!('data' in fields)) return invalid('pub.data is missing', { id, ch })
      return { ok: true, frame: { type: 'pub', ch, id, data: fields.data } }
    }
    case 'ping':
      return { ok: true, frame: { type: 'ping' } }
    default:
      return {
        ok: false,
        code: typeof fields.type === 'string' ? WireErrorCodes.unknownType : WireErrorCodes.invalidFrame,
        reason: typeof fields.type === 'string' ? 'unknown frame type' : 'frame.type must be a string',
        ...withCh,
      }
  }
}

/**
 * The answer to a frame deeper than `maxDepth`. Only its first level is parsed (every deeper array or object replaced
 * by `0`), to find out whether it is a `pub` and read its `id` and `ch` for the `nack`.
 */
function tooDeep(text: string, maxDepth: number): ParsedFrame {
  const reason = `frame nests arrays and objects deeper than ${String(maxDepth)} levels`
  let top: unknown
  try {
    top = JSON.parse(firstLevel(text))
  } catch (_error) {
    return invalid('frame is not JSON')
  }
  if (!isRecord(top)) return invalid(reason)
  const ch = typeof top.ch === 'string' ? { ch: top.ch } : {}
  if (top.type !== 'pub' || !isId(top.id)) return invalid(reason, ch)
  return { ok: false, code: WireErrorCodes.tooDeep, reason, id: top.id, ...ch }
}

/** `text` with every array or object below the top level replaced by `0`, in one pass without recursion. */
function firstLevel(text: string): string {
  let kept = ''
  let from = 0
  let depth = 0
  let inString = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (inString) {
      if (char === '\\') index++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === '[' || char === '{') {
      if (++depth === 2) kept += text.slice(from, index) + '0'
    } else if (char === ']' || char === '}') {
      if (--depth === 1) from = index + 1
    }
  }
  // Text still inside a nested value at its end is truncated JSON: left out, so that the result does not parse.
  return depth <= 1 ? kept + text.slice(from) : kept
}

/** JSON text of a server frame. */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame)
}

/** JSON text of a `msg` frame around an already-serialised payload (no parse and re-stringify per subscriber). */
export function encodeMessage(channel: string, epoch: string, seq: number, payload: string): string {
  return `{"type":"msg","ch":${JSON.stringify(channel)},"epoch":${JSON.stringify(epoch)},"seq":${String(seq)},"data":${payload}}`
}
