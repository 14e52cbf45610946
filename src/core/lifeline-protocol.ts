import { createChannelRegistry, type ChannelListener, type ChannelRegistry } from './channels'
import { InvalidMessageError, lifelineError } from './errors'
import { safeJsonParse } from './json'
import type { Protocol, ProtocolHost, ProtocolLink } from './protocol'
import { PROTOCOL_VERSION, type ServerFrame } from './wire'

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
   * Publishes `data` (JSON-serialisable) to a channel through the outbox: kept in order, resent after reconnects until
   * the server acknowledges it, applied once (the server dedupes by id). Returns the outbox id.
   * Throws `INVALID_CHANNEL`, `InvalidMessageError`, `MessageTooLargeError` or `QueueFullError`.
   */
  publish(channel: string, data: unknown): string
  /** The channel registry (positions, listener counts), once attached to a client. */
  readonly channels: ChannelRegistry | null
}

/** Bytes of the `pub` envelope around `data` allowed for: keys, a 200-character channel name, the id. */
const ENVELOPE_BYTES = 1024

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

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
  const attached = () => {
    if (!host || !registry) throw lifelineError('WRONG_PROTOCOL', 'lifelineProtocol() is not attached to a client')
    return { host, registry }
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
      let text: string | undefined
      try {
        text = JSON.stringify(data)
      } catch (error) {
        throw new InvalidMessageError('not JSON-serialisable', error)
      }
      if (text === undefined) throw new InvalidMessageError(`${typeof data} has no JSON form`)
      return attached().host.enqueue(text, channel)
    },
    opened(current) {
      link = current
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
      let frame: unknown = null
      try {
        if (typeof data === 'string') frame = safeJsonParse(data)
      } catch {
        // reported below
      }
      if (!isObject(frame) || typeof frame.type !== 'string') {
        // Reported, then ignored: one bad frame must not take the connection down.
        current.report(lifelineError('PROTOCOL_ERROR', 'not a lifeline frame'))
        return
      }
      const message = frame as ServerFrame
      const positioned = (value: { ch?: unknown; epoch?: unknown; seq?: unknown }) =>
        typeof value.ch === 'string' &&
        typeof value.epoch === 'string' &&
        Number.isSafeInteger(value.seq) &&
        (value.seq as number) >= 0
      switch (message.type) {
        case 'msg':
          if (positioned(message)) registry?.message(message.ch, message.epoch, message.seq, message.data)
          else current.report(lifelineError('PROTOCOL_ERROR', 'malformed msg'))
          return
        case 'ack':
          if (typeof message.id === 'string') current.confirm(message.id)
          return
        case 'nack':
          if (typeof message.id === 'string') {
            current.reject(message.id, lifelineError('MESSAGE_REFUSED', String(message.code)))
          }
          return
        case 'pong':
          current.pong()
          return
        case 'subscribed':
          if (positioned(message))
            registry?.subscribed(message.ch, message.resumed === true, message.epoch, message.seq)
          return
        case 'welcome':
          if (typeof message.session !== 'string') {
            current.fail(lifelineError('PROTOCOL_ERROR', 'malformed welcome'))
            return
          }
          if (Number.isSafeInteger(message.maxMessageBytes) && message.maxMessageBytes > ENVELOPE_BYTES) {
            current.limit(message.maxMessageBytes - ENVELOPE_BYTES)
          }
          current.ready({ id: message.session, resumed: message.resumed === true })
          return
        case 'error':
          if (typeof message.ch === 'string') registry?.refused(message.ch, String(message.code))
          else current.report(lifelineError('PROTOCOL_ERROR', String(message.code)))
          return
        default:
          // `unsubscribed`, and types a newer server may add, are ignored (docs/protocol.md §1).
          return
      }
    },
    encode: (item) =>
      `{"type":"pub","ch":${JSON.stringify(item.channel ?? '')},"id":${JSON.stringify(item.id)},"data":${item.data as string}}`,
    ping: () => '{"type":"ping"}',
  }
}
