/**
 * The lifeline protocol, version 1: JSON text frames, one message per frame, each an object with a `type`.
 * docs/protocol.md is the normative description; these types are its TypeScript form, shared by client and server.
 */

/** Protocol version spoken by this library. */
export const PROTOCOL_VERSION = 1

/**
 * Deepest nesting of arrays and objects in one frame, the frame object itself counting as level 1 (so the `data` of a
 * `pub` or `msg` nests at most 63 levels). Deeper frames are refused without being parsed (docs/protocol.md §1, §4).
 */
export const MAX_JSON_DEPTH = 64

/** Where a client stands in one channel's stream: the epoch names the stream, seq the last message seen in it. */
export interface StreamPosition {
  /** Opaque id of the channel's current history; changes whenever history is lost (so seqs restart). */
  epoch: string
  /** Last seq the client has seen in that epoch. */
  seq: number
}

/** Client → server frames. */
export type ClientFrame =
  /** First frame on every connection. `session` asks to resume an earlier session. */
  | { type: 'hello'; v: number; token?: string; session?: string }
  /** Subscribe; `since` asks for a replay of everything after that position. */
  | { type: 'sub'; ch: string; since?: StreamPosition }
  | { type: 'unsub'; ch: string }
  /** Publish; `id` is the client message id the server dedupes on and acknowledges. */
  | { type: 'pub'; ch: string; id: string; data: unknown }
  | { type: 'ping' }

/** Server → client frames. */
export type ServerFrame =
  | {
      type: 'welcome'
      session: string
      /** Whether the session asked for in `hello` was resumed (its dedupe state kept). */
      resumed: boolean
      heartbeatMs: number
      maxMessageBytes: number
      resumeWindowMs: number
    }
  /** A channel message. `seq` increases by exactly 1 per message within an epoch. */
  | { type: 'msg'; ch: string; epoch: string; seq: number; data: unknown }
  /**
   * Subscription confirmed, sent after any replay. `resumed: true`: every message after `since` was replayed before
   * this frame. `resumed: false`: continuity could not be proven (unknown epoch, outside the window, over the replay
   * cap): the client must report a discontinuity. `epoch`/`seq` are the stream's current head.
   */
  | { type: 'subscribed'; ch: string; resumed: boolean; epoch: string; seq: number }
  | { type: 'unsubscribed'; ch: string }
  | { type: 'ack'; id: string }
  | { type: 'nack'; id: string; code: string; reason: string }
  | { type: 'pong' }
  /** A problem with a frame or request that does not end the connection. */
  | { type: 'error'; code: string; reason: string; ch?: string }

/** Application close codes used by the protocol (DESIGN §4). */
export const CloseCodes = {
  tokenInvalid: 4001,
  rateLimited: 4002,
  sessionExpired: 4003,
} as const

/**
 * Codes carried by `error` and `nack` frames. Stable: match on the code, never on `reason` (which is for people).
 * An `error` never ends the connection by itself; `nack` answers one `pub` by its `id`.
 */
export const WireErrorCodes = {
  /** Not JSON, not an object, or a field missing or of the wrong type. */
  invalidFrame: 'INVALID_FRAME',
  /** A `type` this server does not know (newer client?). The frame was ignored. */
  unknownType: 'UNKNOWN_TYPE',
  /** A binary frame: the protocol is JSON text only. */
  binaryNotSupported: 'BINARY_NOT_SUPPORTED',
  /** A second `hello` on the same connection; it was ignored. */
  alreadyGreeted: 'ALREADY_GREETED',
  /** Channel name empty, too long, or with control characters. */
  invalidChannel: 'INVALID_CHANNEL',
  /** The connection already holds the maximum number of subscriptions. */
  tooManyChannels: 'TOO_MANY_CHANNELS',
  /** The authorisation hook refused the subscribe or publish. */
  forbidden: 'FORBIDDEN',
  /** The server failed (hook threw, broker unavailable); retrying later may work. */
  serverError: 'SERVER_ERROR',
  /** A `pub` nesting arrays and objects deeper than the server's limit ({@link MAX_JSON_DEPTH} at most). */
  tooDeep: 'TOO_DEEP',
  /**
   * A `pub` the server cannot apply now (its broker is unreachable) and did not apply: the client keeps it in its
   * outbox and sends it again later, with backoff. The only retryable `nack`.
   */
  unavailable: 'UNAVAILABLE',
} as const

/** One of {@link WireErrorCodes}. */
export type WireErrorCode = (typeof WireErrorCodes)[keyof typeof WireErrorCodes]
