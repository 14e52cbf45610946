import type { ConnectionStatus, OutboxItemState, TransportKind } from '../core'

/** Version of the trace format written by {@link DevtoolsTrace}; bumped when a field changes meaning. */
export const TRACE_VERSION = 1

/** An error as a trace keeps it: the stable code and the (redacted) message, and a handshake diagnosis if any. */
export interface TraceError {
  name: string
  code: string
  message: string
  /** The handshake diagnosis of a `HANDSHAKE_FAILED` error. */
  diagnosis?: { kind: string; status: number | null; reason: string | null; retryAfterMs: number | null } | undefined
}

/** A close as a trace keeps it (the reason redacted). */
export interface TraceClose {
  code: number
  reason: string
  wasClean: boolean
  at: number
  meaning: { code: number; name: string; action: string; floorMs?: number | undefined }
}

/** A connection snapshot without live objects: JSON round-trips it. */
export interface TraceSnapshot {
  status: ConnectionStatus
  transport: TransportKind | null
  attempt: number
  nextRetryAt: number | null
  lastClose: TraceClose | null
  lastError: TraceError | null
  online: boolean
  latencyMs: number | null
  outbox: { queued: number; inFlight: number; failed: number; bytes: number }
  /** The session id is a secret for resuming: only whether there is one is kept. */
  session: { id: string | null; resumed: boolean | null }
}

/** An outbox item as a trace keeps it: metadata only, the payload never. */
export interface TraceItem {
  id: string
  channel?: string | undefined
  bytes: number
  state: OutboxItemState
  attempts: number
  createdAt: number
  expiresAt: number | null
  error: TraceError | null
}

/** One recorded snapshot: when it was published and, when the outbox changed with it, the items. */
export interface TraceStep {
  /** Epoch ms it was seen. */
  at: number
  snapshot: TraceSnapshot
  /** The outbox items after this step (absent: unchanged since the previous step). */
  items?: TraceItem[] | undefined
}

/** Why a transition happened, as far as the snapshot tells. */
export interface TransitionCause {
  /** A close seen with this transition. */
  close?: { code: number; name: string; action: string; reason: string; wasClean: boolean } | undefined
  /** An error recorded with this transition. */
  error?: { code: string; message: string } | undefined
  /** The handshake diagnosis of a failed upgrade (`kind`, HTTP status). */
  diagnosis?: { kind: string; status: number | null } | undefined
  /** The transport changed with this transition. */
  transport?: { from: TransportKind | null; to: TransportKind | null } | undefined
}

/** One status transition (or transport switch) on the timeline. */
export interface TimelineEntry {
  /** Sequence number, from 1. */
  index: number
  /** Epoch ms. */
  at: number
  from: ConnectionStatus
  to: ConnectionStatus
  attempt: number
  /** Epoch ms of the next attempt when `to` is `reconnecting`. */
  nextRetryAt: number | null
  cause: TransitionCause
}

/** A frame seen by the devtools: metadata, and the payload only when the developer opted in (never exported). */
export interface FrameRecord {
  /** Sequence number, from 1. */
  index: number
  direction: 'in' | 'out'
  /** Epoch ms. */
  at: number
  /** The JSON `type` field of the frame when it has one, else `text` or `binary`. */
  type: string
  /** The channel it belongs to, when known. */
  channel: string | null
  /** Size in bytes (UTF-8 for text). */
  bytes: number
  /** The outbox id of an outbound message. */
  id?: string | undefined
  /** Only with `showPayloads`, and never in an exported trace. */
  payload?: string | undefined
}

/** A recorded session: what `exportTrace()` writes and `replayTrace()` reads. Secrets and payloads are redacted. */
export interface DevtoolsTrace {
  version: typeof TRACE_VERSION
  /** Epoch ms of the export. */
  exportedAt: number
  /** The client's URL, its query string and credentials redacted. */
  url: string
  /** The protocol's name (`lifeline`, `raw`, ...). */
  protocol: string
  /** The backoff range the chart was drawn against. */
  backoff: { minDelayMs: number; maxDelayMs: number }
  timeline: TimelineEntry[]
  frames: FrameRecord[]
  steps: TraceStep[]
}
