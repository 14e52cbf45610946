import type { Connection } from './connection'
import type { Delivery } from './delivery'
import type { Emitter } from './emitter'
import type { Environment, WebSocketLike } from './environment'
import type { LifelineError } from './errors'
import type { Fallback } from './fallback'
import type { AttachedTransport } from './sse-transport'
import type { Heartbeat } from './heartbeat'
import type { Interpreter } from './interpreter'
import type { LogSink } from './logger'
import type { MachineConfig } from './machine'
import type { LifelineOptions } from './options'
import type { Outbox, OutboxItem } from './outbox'
import type { Protocol } from './protocol'
import type { TokenSource } from './token-source'
import type { CloseInfo, ConnectionSnapshot, InboundMessage, OutboundData, TransportKind } from './types'

/** Events a client emits. Subscribe with `client.on(type, listener)`. */
export interface ClientEvents {
  /** Every application message, in order (pongs and protocol frames excluded). */
  message: InboundMessage
  /** The connection became usable. */
  open: undefined
  /** A transport closed (code, reason, meaning). */
  close: CloseInfo
  /** An error was recorded in `lastError`. */
  error: LifelineError
  /** An outbox item failed (too large, rejected, expired, or not confirmed after its attempts). */
  messageFailed: { item: OutboxItem; error: LifelineError }
  /** The server ended the session (close 4003). */
  sessionExpired: undefined
}

/** Outbox actions, as the OfflineQueue component uses them. */
export interface OutboxControls {
  /** Every item held, oldest first. The same array until something changes. */
  items(): readonly OutboxItem[]
  /** Puts failed items (one, or all) back in the queue. */
  retry(id?: string): void
  /** Removes items (one, or all) without sending them. */
  discard(id?: string): void
}

/** Live resources of a client, for leak checks. */
export interface ClientResources {
  timers: number
  listeners: number
  sockets: number
}

/** One self-healing connection. Created by {@link createLifeline}. */
export interface LifelineClient {
  /** The resolved URL (with a `url` function: the last one it gave, '' before the first attempt). */
  readonly url: string
  /** The resolved `maxAttempts` (`Infinity` by default), for "attempt n of max". */
  readonly maxAttempts: number
  /** The current snapshot (a new object on every change). */
  getSnapshot(): ConnectionSnapshot
  /** Calls `listener` after every snapshot change. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /** Listens to a client event. Returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void): () => void
  /** Starts connecting (no-op if already connecting or open). */
  connect(): void
  /** Closes for good (until `connect()`): no reconnect. Code 1000 or 3000–4999; reason ≤ 123 bytes. */
  close(code?: number, reason?: string): void
  /** Starts over now: attempt counter, backoff, token-refresh cap and any server-imposed wait reset. No-op while connecting or open. */
  retry(): void
  /**
   * Queues a message in the outbox and sends it when the connection is open. Returns its id.
   * Throws `InvalidMessageError`, `MessageTooLargeError` or `QueueFullError`; nothing already queued is lost.
   */
  send(data: OutboundData): string
  /**
   * `send(JSON.stringify(value))`, throwing `InvalidMessageError` for values JSON cannot represent and for arrays and
   * objects nested deeper than `MAX_JSON_DEPTH` levels.
   */
  sendJson(value: unknown): string
  /** The outbox: items and actions. */
  readonly outbox: OutboxControls
  /** The wire protocol in use (for `lifelineProtocol()`, its channel API). */
  readonly protocol: Protocol
  /**
   * Keeps the client connected while held: the first holder connects; after the last release the client closes once
   * `lingerMs` has passed without a new holder (so StrictMode's mount–unmount–mount opens one socket, not two). A
   * holder that arrives while the client has `failed` starts it again (like `retry()`). Returns the release function
   * (idempotent).
   */
  retain(lingerMs?: number): () => void
  /** Closes, releases every timer, listener and socket. The client cannot be used again. */
  dispose(): void
  /** Live timers, listeners and sockets (all zero after `dispose()`). */
  resources(): ClientResources
  /**
   * The WebSocket in use, read-only (`send`, `close` and setting its handlers throw: go through the client), or `null`
   * (not connected, or on long-poll). For reading `protocol`, `extensions` or `bufferedAmount`; it changes with every
   * reconnect, so never keep it.
   */
  getWebSocket(): WebSocketLike | null
  /**
   * Wall time in epoch ms from the client's own clock (`environment.clock.now()`, `Date.now()` by default): the time
   * `nextRetryAt` and `lastClose.at` are on, so a countdown to them reads this, not `Date.now()`.
   */
  now(): number
}

/** What happens to a client's transports, for the parts that follow them (fallback, diagnosis, outbox storage). */
export interface Lifecycle {
  /** The outbox or the snapshot may have changed (stored items restored). */
  changed: undefined
  /** A transport passed its protocol's handshake. */
  opened: TransportKind
  /** A transport the client did not close ended; `openedFor`: ms it was open, `null` when it never opened. */
  failed: { kind: TransportKind; openedFor: number | null }
}

/**
 * The parts of one client, built once in client.ts and shared by its modules (connection, delivery, diagnosis), each
 * of which reads what it needs. One object rather than a host per module: its keys are written once, and a minifier
 * cannot shorten property names.
 */
export interface ClientParts {
  /** The resolved URL. */
  url: string
  options: LifelineOptions
  env: Environment
  log: LogSink
  /** Runs `callback` after `ms` (in the client's timer set); returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  protocol: Protocol
  outbox: Outbox
  emitter: Emitter<ClientEvents>
  lifecycle: Emitter<Lifecycle>
  tokens: TokenSource | null
  fallback: Fallback | undefined
  /** The transport in place of WebSocket (`transport` option), attached. */
  transport: AttachedTransport | undefined
  runtime: Interpreter
  delivery: Delivery
  connection: Connection
  /** The running heartbeat, while the connection is open and has one. */
  heartbeat(): Heartbeat | null
  /** Something in the snapshot or the outbox may have changed. */
  publish(): void
  /** An outbox item failed (`error`: its own by default). */
  failed(item: OutboxItem, error?: LifelineError): void
  /** The largest message accepted, bytes (`maxMessageBytes`). */
  maxBytes: number
  /** The resolved machine settings (backoff bounds, attempts). */
  config: MachineConfig
  /** The last heartbeat round trip, ms. */
  latency: number | null
  /** Stored outbox items are back in front of the queue: sends may be written. */
  restored: boolean
  /** `dispose()` was called. */
  disposed: boolean
}
