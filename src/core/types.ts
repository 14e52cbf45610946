import type { LifelineError } from './errors'

/** Where a connection is in its life. A string union, never a number: `reconnecting` is a state of its own. */
export type ConnectionStatus =
  'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closing' | 'closed' | 'failed'

/**
 * The transport carrying the connection. `longpoll` is the degraded mode shown to users; `sse` a receive-only
 * Server-Sent Events stream (`transport: eventSource()`).
 */
export type TransportKind = 'websocket' | 'longpoll' | 'sse'

/**
 * What the client does after a close with a given code.
 * - `reconnect`: back off (exponential, jittered) and try again.
 * - `reconnect-spread`: the server announced a restart: start over from attempt 1 with a wide jitter window.
 * - `stop`: do not reconnect; status becomes `failed`.
 * - `refresh-token`: call `getToken()` (single-flight) and reconnect at once, capped per window.
 * - `rate-limit`: wait the server's `retryAfterMs` (clamped) or back off with a 5 s floor.
 * - `session-expired`: drop the resume session, call `onSessionExpired`, reconnect fresh.
 * - `fail-outbound`: the server rejected something we sent: fail that message, then back off and reconnect.
 */
export type CloseAction =
  'reconnect' | 'reconnect-spread' | 'stop' | 'refresh-token' | 'rate-limit' | 'session-expired' | 'fail-outbound'

/** One row of the close-code table. */
export interface CloseRule {
  /** Short stable name, e.g. `going-away`; components map it to words through their `labels`. */
  name: string
  /** What the client does next. */
  action: CloseAction
  /** Minimum wait before the next attempt, in ms. @default 0 */
  floorMs?: number
}

/** A close-code rule resolved for one code. */
export interface CloseMeaning extends CloseRule {
  /** The close code this meaning was resolved for. */
  code: number
}

/** The last close, kept in the snapshot. */
export interface CloseInfo {
  code: number
  /** The close reason, sanitised: control characters removed, at most 123 UTF-8 bytes. Render as text only. */
  reason: string
  wasClean: boolean
  /** Epoch ms. */
  at: number
  meaning: CloseMeaning
}

/** Counts of the outbox, for rendering. */
export interface OutboxStats {
  queued: number
  inFlight: number
  failed: number
  bytes: number
}

/** Everything a UI needs about one connection. Immutable; a new object on every change. */
export interface ConnectionSnapshot {
  status: ConnectionStatus
  /** `null` until a transport has been chosen. */
  transport: TransportKind | null
  /** Consecutive failed attempts since the last stable open; the number of the retry scheduled or running. */
  attempt: number
  /** Epoch ms of the next attempt while `reconnecting` (drives a countdown), else `null`. */
  nextRetryAt: number | null
  lastClose: CloseInfo | null
  lastError: LifelineError | null
  /** The network as the browser reports it, fused with heartbeat evidence (an open, live socket counts as online). */
  online: boolean
  /** Heartbeat round trip in ms, `null` before the first pong. */
  latencyMs: number | null
  outbox: OutboxStats
  session: { id: string | null; resumed: boolean | null }
}

/** What `send` accepts. Strings go as text frames, the rest as binary frames. */
export type OutboundData = string | ArrayBuffer | ArrayBufferView | Blob

/** A frame received from the server. */
export type InboundData = string | ArrayBuffer | Blob

/** A message delivered to listeners. */
export interface InboundMessage {
  /** The raw frame: a string for text frames, an `ArrayBuffer` (or `Blob`) for binary frames. */
  data: InboundData
  /** Epoch ms of receipt. */
  receivedAt: number
  /** Event stream (`transport: eventSource()`) only: the event's type, `message` when it had no `event:` field. */
  type?: string
  /** Event stream only: the last event id when it arrived (`''` before any): where a reconnect resumes from. */
  lastEventId?: string
}
