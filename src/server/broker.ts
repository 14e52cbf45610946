import type { StreamPosition } from '../core'

/**
 * One message of a channel's stream, as stored and fanned out by a broker. Brokers never parse `payload`: it is the
 * JSON text of the message data, forwarded byte for byte (a Redis broker stores it in a stream entry as is).
 */
export interface BrokerMessage {
  /** Channel it was published on. */
  readonly channel: string
  /** The channel history it belongs to; see {@link StreamPosition}. */
  readonly epoch: string
  /** 1 for the first message of an epoch, then exactly +1 per message. */
  readonly seq: number
  /** JSON text of the data. */
  readonly payload: string
}

/** What {@link Broker.history} found. */
export interface BrokerHistory {
  /**
   * True only when `messages` is every message after `since`, so the client's stream continues without a gap.
   * False when `since` was absent, names another epoch, is older than the retained history (window, count or byte
   * caps) or is ahead of the head; `messages` is then empty: a broker never hands out a partial replay.
   */
  readonly resumed: boolean
  /** The messages after `since`, in seq order (empty unless `resumed`). */
  readonly messages: readonly BrokerMessage[]
  /** The channel's head when the history was read: epoch and last assigned seq (0 when nothing was published yet). */
  readonly head: StreamPosition
}

/** Receives a channel's messages in seq order. Must not throw. */
export type BrokerListener = (message: BrokerMessage) => void

/**
 * Storage and fan-out of channel streams: every seq, epoch and replay decision lives here, so any number of servers
 * can share one broker and stay stateless about history.
 *
 * The contract a broker implements (the in-memory one in one process; a Redis one with pub/sub for fan-out and
 * Streams for history):
 * - `publish` assigns the next seq atomically, appends to the history, then fans out to every `subscribe` listener of
 *   the channel in every process. Per channel, listeners see messages in seq order.
 * - A listener receives every message published after its `subscribe` promise resolved, and possibly some published
 *   before (the server drops seqs it already sent). Delivery may be asynchronous.
 * - `history` reads a consistent snapshot: if it says `resumed`, `messages` are exactly the seqs `since.seq + 1` …
 *   `head.seq` of `since.epoch`.
 * - When a channel's history is lost (`reset`, a restart of a non-durable broker, data expired by the store) its next
 *   message starts a new epoch at seq 1, so an old position can never be mistaken for a current one.
 *
 * A server subscribes first and reads history second, buffering live messages meanwhile, and merges by seq; that is
 * what makes a resume race-free over an asynchronous broker. If a listener ever sees a seq gap it asks `history` again.
 */
export interface Broker {
  /** Appends `payload` (JSON text) to `channel` and fans it out; resolves with the position it was given. */
  publish(channel: string, payload: string): Promise<StreamPosition>
  /** Starts live delivery of `channel` to `listener`; resolves once delivery is established, with its unsubscribe. */
  subscribe(channel: string, listener: BrokerListener): Promise<() => void>
  /** Everything after `since` if the history still holds all of it, and the current head. */
  history(channel: string, since: StreamPosition | undefined): Promise<BrokerHistory>
  /** Forgets the history of `channel` (of every channel when absent): its next message starts a new epoch. */
  reset(channel?: string): Promise<void>
  /** Releases timers and connections. Further calls reject with `BROKER_CLOSED`. Idempotent. */
  close(): Promise<void>
}
