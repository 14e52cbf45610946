/** Requests whose head has not ended after this many bytes are answered anyway. */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024

/** Splits a request head at its blank line; null while it has not all arrived. */
export function splitHead(buffer: Buffer): { lines: string[]; rest: Buffer } | null {
  const end = buffer.indexOf('\r\n\r\n')
  if (end === -1) return null
  // latin1 maps every byte to one character and back, so header bytes survive the rewrite unchanged.
  return { lines: buffer.subarray(0, end).toString('latin1').split('\r\n'), rest: buffer.subarray(end + 4) }
}

/** The lower-cased name of a header line; '' for the request line or a line without a colon. */
export function headerName(line: string): string {
  const colon = line.indexOf(':')
  return colon <= 0 ? '' : line.slice(0, colon).trim().toLowerCase()
}

/** Whether a request head asks for a protocol upgrade (RFC 9110 §7.8): it has a non-empty `Upgrade` header. */
export function isUpgradeRequest(lines: readonly string[]): boolean {
  return lines.some((line) => headerName(line) === 'upgrade' && line.slice(line.indexOf(':') + 1).trim() !== '')
}

/** The head without `Connection` (and, for `strip`, `Upgrade`) headers, plus `Connection: close`. */
export function rewriteHead(lines: readonly string[], stripUpgrade: boolean): Buffer {
  const kept = lines.filter((line, index) => {
    if (index === 0) return true
    const name = headerName(line)
    return name !== 'connection' && !(stripUpgrade && name === 'upgrade')
  })
  return Buffer.from([...kept, 'Connection: close', '', ''].join('\r\n'), 'latin1')
}
