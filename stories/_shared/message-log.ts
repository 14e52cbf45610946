import type { InboundData } from '../../src'

/** One received message in the panel's log. */
export interface LogEntry {
  /** Unique within the log (React key). */
  id: number
  /** Epoch ms of receipt. */
  at: number
  /** The message as text (binary frames summarised). */
  text: string
}

/** How many messages the log keeps. */
export const LOG_SIZE = 20

/** A message's data as one line of text. */
export function describeData(data: InboundData): string {
  if (typeof data === 'string') return data.length > 200 ? `${data.slice(0, 200)}…` : data
  if (data instanceof ArrayBuffer) return `[binary, ${String(data.byteLength)} bytes]`
  return `[blob, ${String(data.size)} bytes]`
}
