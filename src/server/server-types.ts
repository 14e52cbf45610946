import type { IncomingMessage, ServerResponse } from 'node:http'
import type { StreamPosition } from '../core'
import type { Broker, BrokerHealth } from './broker'
import type { Principal } from './options'

/** A connection as the server controls see it (tests, admin tools). */
export interface LifelineConnectionInfo {
  /** 1 for the first connection since start, then increasing. */
  readonly id: number
  /** The authenticated principal; null until `hello` is answered. */
  readonly principal: Principal | null
  /** The session id (a client secret: do not log it); null until `hello` is answered. */
  readonly session: string | null
  /** Channels it is subscribed to. */
  readonly channels: readonly string[]
  /** Peer address. */
  readonly remoteAddress: string | undefined
  /** What carries it: a WebSocket, HTTP long-poll requests, or a Server-Sent Events stream. */
  readonly transport: 'websocket' | 'longpoll' | 'sse'
  /** Starts the close handshake with this code and reason (destroyed after 1 s if it does not finish). */
  close(code: number, reason?: string): void
  /** Destroys the socket without a close frame. */
  terminate(): void
}

/**
 * Counters of what the server holds; all back to 0 after every client left and sessions expired, except the running
 * total `accepted`.
 */
export interface LifelineServerStats {
  /** Connections (WebSocket and long-poll) accepted since start (a running total). */
  readonly accepted: number
  /** Open connections, WebSocket and long-poll. */
  readonly connections: number
  /** Open long-poll connections (counted in `connections` too). */
  readonly longPolls: number
  /**
   * Long-poll connections the server closed that still hold their close for the client (docs/protocol.md §8.3): kept
   * for `idleTimeoutMs` at most, counted against `maxConnectionsPerAddress` and their principal's cap until forgotten.
   */
  readonly closingLongPolls: number
  /** Open Server-Sent Events streams, those still waiting for their status included (counted in `connections` too). */
  readonly eventStreams: number
  /**
   * Sessions, connected or waiting to be resumed. With a cross-node broker (`cluster`), only those this server's
   * connections hold: the waiting ones are in the broker's store.
   */
  readonly sessions: number
  /**
   * Client message ids remembered for deduplication over all sessions (at most `maxDedupeIdsTotal`); 0 with a
   * cross-node broker, which keeps them.
   */
  readonly dedupeIds: number
  /** Channel subscriptions over all connections. */
  readonly subscriptions: number
  /** Upgrade requests being checked. */
  readonly handshakes: number
  /** Principals with at least one authenticated connection. */
  readonly principals: number
  /** Calls to the logger that threw (and were swallowed so that logging cannot take connections down). */
  readonly logErrors: number
  /**
   * Whether the broker reaches its store (Redis): `down` since `since` (epoch ms) while it does not; publishes are then
   * refused with the retryable `nack{UNAVAILABLE}`. Always `ok` with the memory broker.
   */
  readonly broker: BrokerHealth
}

/** A running lifeline server. */
export interface LifelineServer {
  /** `ws://host:port/path` (for an attached server: of its current address; '' while it does not listen). */
  readonly url: string
  /** The port listened on (0 while an attached server does not listen). */
  readonly port: number
  /** The broker in use. */
  readonly broker: Broker
  /**
   * Publishes `data` (any JSON-serialisable value, arrays and objects nested at most 63 levels) on `channel` from the
   * application; resolves with its position, or rejects with `INVALID_CHANNEL` or `INVALID_DATA`.
   */
  publish(channel: string, data: unknown): Promise<StreamPosition>
  /** The open connections. */
  connections(): LifelineConnectionInfo[]
  /** Closes the connection holding session `sessionId` with `code`; false when none does. */
  closeSession(sessionId: string, code: number, reason?: string): boolean
  /** Forgets session `sessionId` and closes its connection with 4003; false when there is no such session. */
  expireSession(sessionId: string): boolean
  /** What the server holds now. */
  stats(): LifelineServerStats
  /**
   * Answers a plain HTTP request for `path` the way an upgrade would be refused (403, 401) or with 426: the probe a
   * browser client uses to find out why its upgrade failed; and every request of the long-poll transport at
   * `<path>/poll` and of the Server-Sent Events endpoint at `<path>/events`. Returns false, leaving `response` alone, for any other path. A server of its own calls it for every
   * request; with an attached `server`, call it from your request handler.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean
  /**
   * Closes every connection with 1001, stops every timer, closes the broker if the server created it and the HTTP
   * server if it made its own, then resolves. Idempotent.
   */
  close(): Promise<void>
}
