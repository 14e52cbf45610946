import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

/** What to answer a refused WebSocket upgrade with. Internal. */
export interface HttpRejection {
  /** HTTP status code (100–599). */
  readonly status: number
  /** Response body; a short JSON `{"error": "<reason phrase>"}` when omitted. */
  readonly body?: string | undefined
}

/** True for an integer HTTP status code in 100–599. */
export function isHttpStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599
}

/** The reason phrase Node knows for a status, or `Unknown`. */
function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown'
}

/**
 * Writes a complete `HTTP/1.1` response with `Connection: close` to a raw socket and destroys it once flushed,
 * the way `ws` itself aborts a handshake.
 */
export function writeHttpRejection(socket: Duplex, rejection: HttpRejection): void {
  const reason = reasonPhrase(rejection.status)
  const body = rejection.body ?? JSON.stringify({ error: reason })
  const looksLikeJson = body.startsWith('{') || body.startsWith('[')
  const head = [
    `HTTP/1.1 ${String(rejection.status)} ${reason}`,
    'Connection: close',
    `Content-Type: ${looksLikeJson ? 'application/json' : 'text/plain'}; charset=utf-8`,
    `Content-Length: ${String(Buffer.byteLength(body))}`,
  ].join('\r\n')
  if (socket.destroyed) return
  socket.once('finish', () => socket.destroy())
  socket.end(`${head}\r\n\r\n${body}`)
}
