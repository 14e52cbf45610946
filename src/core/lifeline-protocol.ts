import { createChannelRegistry, type ChannelListener, type ChannelRegistry } from './channels'
import { isSessionId } from './client'
import { lifelineError } from './errors'
import { safeJsonParse } from './json'
import type { Protocol, ProtocolHost, ProtocolLink } from './protocol'
import type { InboundData } from './types'
import { jsonText } from './validate'
import { MAX_JSON_DEPTH, PROTOCOL_VERSION, WireErrorCodes } from './wire'

/** Options of {@link lifelineProtocol}. */
export interface LifelineProtocolOptions {
  /** Ask the server to resume the previous session after a reconnect (it then dedupes resent messages). @default true */
  resume?: boolean
  /** How long a channel stays subscribed after its last listener leaves (absorbs remounts), ms. @default 1000 */
  lingerMs?: number
}

/** The lifeline protocol with its channel API. One instance serves one client. */
export interface LifelineProtocol extends Protocol {
  readonly name: 'lifeline'
  /** A fresh, unattached instance with the same options (one per client; the React layer forks for you). */
  fork(): LifelineProtocol
  /**
   * Listens to a channel: the first listener subscribes (resuming from the last position after every reconnect), the
   * last one to leave unsubscribes after `lingerMs`. Returns the function that leaves (idempotent).
   * Throws `INVALID_CHANNEL` for a bad name.
   */
  channel(name: string, listener: ChannelListener): () => void
  /**
   * Publishes `data` (JSON-serialisable, arrays and objects nested at most 63 levels) to a channel through the outbox:
   * kept in order, resent after reconnects until the server acknowledges it, applied once (the server dedupes by id).
   * Returns the outbox id. Throws `INVALID_CHANNEL`, `InvalidMessageError`, `MessageTooLargeError` or `QueueFullError`.
   */
  publish(channel: string, data: unknown): string
  /** The channel registry (positions, listener counts), once attached to a client. */
  readonly channels: ChannelRegistry | null
}

/** Bytes of the `pub` envelope around `data` allowed for: keys, a 200-character channel name, the id. */
const ENVELOPE_BYTES = 1024

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** An epoch or message id: 1 to 128 characters, as the server accepts them (docs/protocol.md §3, §4). */
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 128
const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0
/** A `nack`/`error` code: short and plain, so it is safe to show and log as it is. */
const isCode = (value: unknown): value is string => typeof value === 'string' && /^[\w.:-]{1,64}$/.test(value)
/** `welcome` numbers: integers up to the longest delay a timer can hold (2^31 − 1 ms). */
const inRange = (value: unknown, min: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) < 2 ** 31

/** Whether `name` is a valid channel name (docs/protocol.md §3). */
export function isChannelName(name: unknown): name is string {
  // eslint-disable-next-line no-control-regex
  return typeof name === 'string' && name.length > 0 && name.length <= 200 && !/[\u0000-\u001f\u007f-\u009f]/.test(name)
}

function checkChannel(name: unknown): asserts name is string {
  if (!isChannelName(name))
    throw lifelineError('INVALID_CHANNEL', typeof name === 'string' ? 'bad channel name' : typeof name)
}

/**
 * The lifeline protocol (docs/protocol.md), spoken by `react-lifeline/server`: channels that resume after reconnects,
 * acknowledged publishing, sessions, a heartbeat on by default.
 *
 * @example createLifeline({ url: 'wss://example.com/live', protocol: lifelineProtocol(), getToken })
 */
export function lifelineProtocol(options: LifelineProtocolOptions = {}): LifelineProtocol {
  const resume = options.resume ?? true
  let host: ProtocolHost | null = null
  let link: ProtocolLink | null = null
  let registry: ChannelRegistry | null = null
  /** The current connection was welcomed: another `welcome` on it is ignored. */
  let welcomed = false
  const attached = () => {
    if (!host || !registry) throw lifelineError('WRONG_PROTOCOL', 'lifelineProtocol() is not attached to a client')
    return { host, registry }
  }

  /** Reads one frame, every field checked by type before use (docs/protocol.md §2: client validation). */
  function handle(data: InboundData, current: ProtocolLink): void {
    let parsed: unknown = null
    try {
      if (typeof data === 'string') parsed = safeJsonParse(data)
    } catch {
      // reported below
    }
    if (!isObject(parsed) || typeof parsed.type !== 'string') {
      // Reported, then ignored: one bad frame must not take the connection down.
      current.report(lifelineError('PROTOCOL_ERROR', 'not a lifeline frame'))
      return
    }
    const frame = parsed
    const { ch, epoch, seq, id, code, resumed } = frame
    const malformed = (what: string) => current.report(lifelineError('PROTOCOL_ERROR', `malformed ${what}`))
    const positioned = isChannelName(ch) && isId(epoch) && isSeq(seq)
    // Anything but `true` reads as not resumed: a gap reported, never a silent one.
    const badResumed = resumed !== undefined && typeof resumed !== 'boolean'
    switch (frame.type) {
      case 'msg':
        if (positioned && frame.data !== undefined) registry?.message(ch, epoch, seq, frame.data)
        else malformed('msg')
        return
      case 'subscribed':
        if (!positioned) return malformed('subscribed')
        registry?.subscribed(ch, resumed === true, epoch, seq)
        if (badResumed) malformed('subscribed.resumed')
        return
      case 'ack':
        if (isId(id)) current.confirm(id)
        else malformed('ack')
        return
      case 'nack':
        if (!isId(id)) return malformed('nack')
        // Not applied, try later: kept in the outbox and resent with backoff (docs/protocol.md §4).
        if (code === WireErrorCodes.unavailable && current.defer) {
          current.defer(id, lifelineError('MESSAGE_REFUSED', code))
          return
        }
        // Refused whatever else the code says: the item fails (it is never resent) rather than wait for an ack forever.
        current.reject(id, lifelineError('MESSAGE_REFUSED', isCode(code) ? code : 'malformed nack'))
        if (!isCode(code)) malformed('nack.code')
        return
      case 'pong':
        current.pong()
        return
      case 'welcome': {
        if (welcomed) return
        welcomed = true
        if (!isSessionId(frame.session)) {
          current.fail(lifelineError('PROTOCOL_ERROR', 'malformed welcome.session'))
          return
        }
        const bad: string[] = ['heartbeatMs', 'maxMessageBytes', 'resumeWindowMs'].filter(
          (key) => frame[key] !== undefined && !inRange(frame[key], key === 'resumeWindowMs' ? 0 : 1),
        )
        const { maxMessageBytes } = frame
        if (inRange(maxMessageBytes, ENVELOPE_BYTES + 1)) current.limit((maxMessageBytes as number) - ENVELOPE_BYTES)
        current.ready({ id: frame.session, resumed: resumed === true })
        if (badResumed) bad.push('resumed')
        // After ready(), which clears lastError: a value ignored here stays visible.
        if (bad.length) malformed(`welcome (${bad.join(', ')})`)
        return
      }
      case 'error':
        if (ch !== undefined && !isChannelName(ch)) return malformed('error frame')
        // A refusal with an unreadable code still refuses: the channel is not left pending.
        if (ch !== undefined) registry?.refused(ch, isCode(code) ? code : 'PROTOCOL_ERROR')
        if (!isCode(code)) malformed('error frame')
        else if (ch === undefined) current.report(lifelineError('PROTOCOL_ERROR', code))
        return
      default:
        // `unsubscribed`, and types a newer server may add, are ignored (docs/protocol.md §1).
        return
    }
  }

  return {
    name: 'lifeline',
    confirmBy: 'ack',
    heartbeatByDefault: true,
    fork: () => lifelineProtocol(options),
    get channels() {
      return registry
    },
    attach(given) {
      if (host) throw lifelineError('WRONG_PROTOCOL', 'a lifelineProtocol() instance serves one client')
      host = given
      registry = createChannelRegistry(
        {
          sub: (name, since) =>
            link?.write(JSON.stringify(since ? { type: 'sub', ch: name, since } : { type: 'sub', ch: name })),
          unsub: (name) => link?.write(JSON.stringify({ type: 'unsub', ch: name })),
          later: given.later,
          now: given.now,
        },
        { lingerMs: options.lingerMs },
      )
      given.onSessionExpired(() => registry?.expire())
    },
    channel(name, listener) {
      checkChannel(name)
      return attached().registry.join(name, listener)
    },
    publish(channel, data) {
      checkChannel(channel)
      // The `pub` frame is one more level around `data`: refused here, before it is queued, rather than nacked later.
      const text = jsonText(data, MAX_JSON_DEPTH - 1)
      return attached().host.enqueue(text, channel)
    },
    opened(current) {
      link = current
      welcomed = false
      const hello: Record<string, unknown> = { type: 'hello', v: PROTOCOL_VERSION }
      if (current.token !== null) hello.token = current.token
      if (resume && current.session !== null) hello.session = current.session
      current.write(JSON.stringify(hello))
      // Pipelined after hello: the server handles frames in order, so resuming costs no extra round trip.
      registry?.resubscribeAll()
    },
    closed() {
      link = null
    },
    received(data, current) {
      try {
        handle(data, current)
      } catch (error) {
        // Nothing may escape into the transport's event handler: in Node that is an uncaught exception.
        current.report(lifelineError('PROTOCOL_ERROR', 'frame handler failed', error))
      }
    },
    encode: (item) =>
      `{"type":"pub","ch":${JSON.stringify(item.channel ?? '')},"id":${JSON.stringify(item.id)},"data":${item.data as string}}`,
    ping: () => '{"type":"ping"}',
  }
}
