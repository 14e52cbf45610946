import type { LifelineError } from './errors'
import type { OutboxItem } from './outbox'
import type { InboundData, OutboundData } from './types'

/** What a protocol may do with the connection it serves. */
export interface ProtocolLink {
  /** Writes a frame now, ahead of the outbox (handshakes, pings, control frames). */
  write(data: OutboundData): void
  /** The connection is usable: status becomes `open` and the outbox flushes. */
  ready(session?: { id: string | null; resumed: boolean | null }): void
  /** Hands an application message to listeners. */
  deliver(data: InboundData): void
  /** A heartbeat answer arrived (latency is measured from the last ping). */
  pong(): void
  /** Confirms an outbox item: it leaves the outbox. */
  confirm(id: string): void
  /** Fails an outbox item with a reason; it stays visible as `failed` until retried or discarded. */
  reject(id: string, error: LifelineError): void
  /**
   * The server did not apply an outbox item and asks for it later: it goes back to `queued`, and the outbox waits
   * (with backoff, growing while refusals go on) before it sends again.
   */
  defer?(id: string, error: LifelineError): void
  /** The connection cannot go on: status becomes `failed`. */
  fail(error: LifelineError): void
  /** The token from `getToken()`, if any. Memory only: never persist or log it. */
  readonly token: string | null
  /** The session id to resume (from the last `ready()`), or `null`. */
  readonly session: string | null
  /** The server's largest accepted message in bytes: larger sends are refused up front, queued ones failed. */
  limit(bytes: number): void
  /** Records a problem that does not end the connection (a malformed frame) in `lastError`. */
  report(error: LifelineError): void
}

/** What a protocol with an API of its own (channels) gets from its client, once, at creation. */
export interface ProtocolHost {
  /** Queues a message in the outbox (ordered, bounded, resent until confirmed). Returns its id; throws typed errors. */
  enqueue(data: OutboundData, channel?: string): string
  /** Runs `callback` after `ms` on the client's timers; returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  /** Epoch ms. */
  now(): number
  /** Tells the protocol the client's session was dropped (close 4003). Returns the unsubscribe function. */
  onSessionExpired(listener: () => void): () => void
}

/** A wire protocol: how frames map to messages. `raw` is built in; adapters for other servers implement this. */
export interface Protocol {
  /** Name for logs. */
  readonly name: string
  /**
   * How written outbox items are confirmed: `drain` once the socket has handed them to the network
   * (`bufferedAmount` back to 0), or `ack` when the protocol calls `link.confirm(id)`.
   */
  readonly confirmBy: 'drain' | 'ack'
  /** The server always answers pings, so the heartbeat is on unless the `heartbeat` option says otherwise. */
  readonly heartbeatByDefault?: boolean
  /** The transport opened. Call `link.ready()` once the connection is usable. */
  opened(link: ProtocolLink): void
  /** One inbound frame. */
  received(data: InboundData, link: ProtocolLink): void
  /** The frame for an outbox item. */
  encode(item: OutboxItem): OutboundData
  /** The heartbeat ping frame. */
  ping(): OutboundData
  /** Called once by the client that uses this protocol (a protocol instance serves one client). */
  attach?(host: ProtocolHost): void
  /**
   * A fresh instance with the same settings. A protocol with state (`attach`) must have it: the React hooks and the
   * provider build their client from options, and React may build it twice (StrictMode) or again (a new URL) while
   * the options, and so the instance, stay the same.
   */
  fork?(): Protocol
  /** The transport carrying `opened()` closed or was dropped: writes are impossible until the next `opened()`. */
  closed?(): void
}

/** Options of the raw protocol. */
export interface RawProtocolOptions {
  /** Heartbeat ping payload. @default 'ping' */
  ping?: OutboundData | undefined
  /** Recognises the server's answer to a ping; matched frames are not delivered as messages. @default data === 'pong' */
  isPong?: ((data: InboundData) => boolean) | undefined
  /** A first frame carrying the token after every open (when `getToken` is given), e.g. `t => JSON.stringify({ auth: t })`. */
  authMessage?: ((token: string) => OutboundData) | undefined
}

/** The raw protocol: any WebSocket server; frames pass through untouched. */
export function rawProtocol(options: RawProtocolOptions = {}): Protocol {
  const { ping = 'ping', isPong = (data: InboundData) => data === 'pong', authMessage } = options
  return {
    name: 'raw',
    confirmBy: 'drain',
    opened(link) {
      if (authMessage && link.token !== null) link.write(authMessage(link.token))
      link.ready()
    },
    received(data, link) {
      if (isPong(data)) link.pong()
      else link.deliver(data)
    },
    encode: (item) => item.data,
    ping: () => ping,
  }
}
