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

/** Makes a {@link Broker.publish} idempotent across nodes: the record lives in the channel's own storage. */
export interface PublishOnce {
  /** The publisher's dedupe scope: a hash of its session id (never the id itself). */
  readonly scope: string
  /** The client message id. */
  readonly id: string
  /** How long the record lives after the scope's last publish on the channel, ms. */
  readonly ttlMs: number
  /** Records kept per scope and channel, the oldest dropped first. */
  readonly maxIds: number
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
  /**
   * Appends `payload` (JSON text) to `channel` and fans it out; resolves with the position it was given. With `once`, a
   * broker shared by several nodes appends it at most once per `(once.scope, once.id)` while its record lives: a repeat
   * resolves with the first one's position, `repeated: true`, and appends nothing. A single-process broker may ignore
   * `once`.
   */
  publish(
    channel: string,
    payload: string,
    once?: PublishOnce,
  ): Promise<StreamPosition & { readonly repeated?: boolean }>
  /** Starts live delivery of `channel` to `listener`; resolves once delivery is established, with its unsubscribe. */
  subscribe(channel: string, listener: BrokerListener): Promise<() => void>
  /** Everything after `since` if the history still holds all of it, and the current head. */
  history(channel: string, since: StreamPosition | undefined): Promise<BrokerHistory>
  /** Forgets the history of `channel` (of every channel when absent): its next message starts a new epoch. */
  reset(channel?: string): Promise<void>
  /** Releases timers and connections. Further calls reject with `BROKER_CLOSED`. Idempotent. */
  close(): Promise<void>
  /** Reachability of the backing store; absent means always reachable (the memory broker). */
  health?(): BrokerHealth
  /** Told of every {@link BrokerHealth} change; returns the unsubscribe function. */
  onHealth?(listener: (health: BrokerHealth) => void): () => void
  /**
   * Sessions, publish dedupe and long-poll routing shared by every server on this broker. Absent: each server keeps
   * them in its own memory (one process).
   */
  readonly cluster?: BrokerCluster
}

/**
 * Whether a broker reaches its backing store. `down` since `since` (epoch ms) while the store is unreachable: channel
 * publishes and cross-node state calls then reject with an error whose `code` is `BROKER_UNAVAILABLE`.
 */
export interface BrokerHealth {
  readonly status: 'ok' | 'down'
  /** Epoch ms of the last change (of the broker's creation while it never changed). */
  readonly since: number
}

/** A session as stored across nodes. Keys are derived from a hash of the id: the id itself is never stored in clear. */
export interface StoredSession {
  /** The principal it is bound to: a session is only ever found for this principal. */
  readonly principalId: string
  /** The node whose connection holds it, or null while it waits to be resumed. */
  readonly node: string | null
}

/**
 * Sessions shared by every node of a cluster (docs/decisions.md). A session lives `windowMs` after its connection
 * left; while attached, its owner node renews it. Every call may reject with `BROKER_UNAVAILABLE`.
 */
export interface SessionStore {
  /** Records a new session of `principalId` attached to `node`. */
  create(id: string, principalId: string, node: string): Promise<void>
  /** The session `id`, or null when unknown or expired. */
  find(id: string): Promise<StoredSession | null>
  /**
   * Attaches `id` to `node`: resolves with the node that held it before (null if none) and the attachment's generation
   * (1 at creation, +1 per attach, so that a node told late of an older move ignores it), or null when `id` is unknown.
   */
  attach(id: string, node: string): Promise<{ previous: string | null; generation: number } | null>
  /** `node`'s connection left: unless another node took it meanwhile, it expires in `windowMs`. */
  detach(id: string, node: string, windowMs: number): Promise<void>
  /** Extends the sessions `node` holds (so a crashed node's sessions expire by themselves). */
  renew(ids: readonly string[], node: string): Promise<void>
  /** Forgets the session and its dedupe ids at once. */
  expire(id: string): Promise<void>
}

/** What {@link PublishDedupe.claim} found for a client message id. */
export type DedupeClaim = 'claimed' | 'pending' | 'acked'

/**
 * The client message ids a session published, shared by every node: `claim` is atomic, so of two nodes handed the
 * same `(session, id)` exactly one publishes. Every call may reject with `BROKER_UNAVAILABLE`.
 */
export interface PublishDedupe {
  /**
   * `claimed`: the caller must publish, then {@link settle}; `pending`: another publish of it is in progress (its
   * claim lapses after `leaseMs`, so a node that died mid-publish does not block it for ever); `acked`: applied.
   * A session remembers its newest `maxIds` ids, for as long as the session lives.
   */
  claim(
    session: string,
    id: string,
    limits: { readonly leaseMs: number; readonly maxIds: number },
  ): Promise<DedupeClaim>
  /** The publish ended: `acked` remembers the id, `failed` forgets it (a resend publishes it). */
  settle(session: string, id: string, outcome: 'acked' | 'failed'): Promise<void>
}

/** One message between nodes. */
export type RelayListener = (from: string, message: string) => void

/**
 * Node-to-node messages and the long-poll connection directory: a long-poll request reaching a node that does not own
 * the connection is forwarded to the owner, as Phoenix routes long-poll through its pub/sub.
 */
export interface NodeRelay {
  /** This node's id (random; unique per server instance). */
  readonly node: string
  /** Sends `message` to `node`; at most once, no order across senders. */
  send(node: string, message: string): Promise<void>
  /**
   * Receives the messages sent to this node from now on (once); resolves once listening, rejects with
   * `BROKER_UNAVAILABLE` if that takes too long (it keeps trying until {@link close}).
   */
  listen(listener: RelayListener): Promise<void>
  /** Stops listening and releases the relay's connection. Idempotent. */
  close(): void
  /** Records that this node owns long-poll connection `key` (a hash of its id) for `ttlMs`. */
  own(key: string, ttlMs: number): Promise<void>
  /** The node owning connection `key`, or null. */
  owner(key: string): Promise<string | null>
  /** Forgets connection `key` (when this node still owns it). */
  disown(key: string): Promise<void>
}

/** Cross-node members of a broker shared by several server processes. A single-process broker has none. */
export interface BrokerCluster {
  readonly sessions: SessionStore
  /** How often a node renews the sessions it holds ({@link SessionStore.renew}), ms. */
  readonly renewEveryMs: number
  readonly dedupe: PublishDedupe
  /** Creates this server's relay (one per server instance: it has its own node id). */
  relay(): NodeRelay
}
