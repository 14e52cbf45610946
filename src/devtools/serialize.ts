import { redact, type CloseInfo, type ConnectionSnapshot, type LifelineError, type OutboxItem } from '../core'
import type { TraceClose, TraceError, TraceItem, TraceSnapshot } from './trace-format'

/** Redacts URL credentials and query strings in a text (tokens hide there). */
export const scrub = (text: string): string => redact(text, []) as string

/** An error as a trace keeps it. */
export function traceError(error: LifelineError | null): TraceError | null {
  if (!error) return null
  const out: TraceError = { name: error.name, code: error.code, message: scrub(error.message) }
  const diagnosis = (error as { diagnosis?: TraceError['diagnosis'] }).diagnosis
  if (diagnosis && typeof diagnosis === 'object') {
    out.diagnosis = {
      kind: String(diagnosis.kind),
      status: typeof diagnosis.status === 'number' ? diagnosis.status : null,
      reason: typeof diagnosis.reason === 'string' ? scrub(diagnosis.reason) : null,
      retryAfterMs: typeof diagnosis.retryAfterMs === 'number' ? diagnosis.retryAfterMs : null,
    }
  }
  return out
}

function traceClose(close: CloseInfo | null): TraceClose | null {
  if (!close) return null
  const { code, name, action, floorMs } = close.meaning
  return {
    code: close.code,
    reason: scrub(close.reason),
    wasClean: close.wasClean,
    at: close.at,
    meaning: floorMs === undefined ? { code, name, action } : { code, name, action, floorMs },
  }
}

/** A snapshot as a trace keeps it: errors flattened, the session id replaced by a marker. */
export function traceSnapshot(snapshot: ConnectionSnapshot): TraceSnapshot {
  return {
    status: snapshot.status,
    transport: snapshot.transport,
    attempt: snapshot.attempt,
    nextRetryAt: snapshot.nextRetryAt,
    lastClose: traceClose(snapshot.lastClose),
    lastError: traceError(snapshot.lastError),
    online: snapshot.online,
    latencyMs: snapshot.latencyMs,
    outbox: { ...snapshot.outbox },
    session: { id: snapshot.session.id === null ? null : '[redacted]', resumed: snapshot.session.resumed },
  }
}

/** An outbox item without its payload. */
export function traceItem(item: OutboxItem): TraceItem {
  const out: TraceItem = {
    id: item.id,
    bytes: item.bytes,
    state: item.state,
    attempts: item.attempts,
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    error: traceError(item.error),
  }
  if (item.channel !== undefined) out.channel = item.channel
  return out
}

const encoder = new TextEncoder()

/** Size in bytes of a frame's data. */
export function sizeOf(data: unknown): number {
  if (typeof data === 'string') return encoder.encode(data).byteLength
  if (data instanceof ArrayBuffer) return data.byteLength
  if (ArrayBuffer.isView(data)) return data.byteLength
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size
  return 0
}

/** The JSON `type` (and `ch`) of a text frame, else `text` / `binary`. */
export function describeFrame(data: unknown): { type: string; channel: string | null } {
  if (typeof data !== 'string') return { type: 'binary', channel: null }
  if (!data.startsWith('{')) return { type: 'text', channel: null }
  try {
    const parsed = JSON.parse(data) as { type?: unknown; ch?: unknown; channel?: unknown }
    const channel =
      typeof parsed.ch === 'string' ? parsed.ch : typeof parsed.channel === 'string' ? parsed.channel : null
    return { type: typeof parsed.type === 'string' ? parsed.type.slice(0, 40) : 'json', channel }
  } catch {
    // Not JSON after all: a plain text frame that starts with a brace.
    return { type: 'text', channel: null }
  }
}

/** A printable preview of a payload (for `showPayloads`), at most 2000 characters. */
export function previewOf(data: unknown): string {
  if (typeof data === 'string') return data.slice(0, 2000)
  if (data === undefined) return ''
  if (typeof data === 'object' && data !== null && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
    try {
      return JSON.stringify(data).slice(0, 2000)
    } catch {
      return '[unserialisable]'
    }
  }
  return `[${sizeOf(data)} bytes binary]`
}
