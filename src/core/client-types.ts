import type { LifelineError } from './errors'
import type { OutboxItem } from './outbox'
import type { Protocol } from './protocol'
import type { CloseInfo, ConnectionSnapshot, InboundMessage, OutboundData } from './types'

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
  /** The resolved URL. */
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
   * `lingerMs` has passed without a new holder (so StrictMode's mount–unmount–mount opens one socket, not two).
   * Returns the release function (idempotent).
   */
  retain(lingerMs?: number): () => void
  /** Closes, releases every timer, listener and socket. The client cannot be used again. */
  dispose(): void
  /** Live timers, listeners and sockets (all zero after `dispose()`). */
  resources(): ClientResources
}
