/** The fault proxy's error and where it forwards to: target parsing and the proxy's own URL. */

/** Stable codes of {@link FaultProxyError}. */
export type FaultProxyErrorCode = 'FAULT_PROXY_INVALID_TARGET' | 'FAULT_PROXY_INVALID_ARGUMENT'

/** Thrown for a target the proxy cannot parse or a fault argument out of range. */
export class FaultProxyError extends Error {
  override readonly name = 'FaultProxyError'
  /** Stable machine-readable code. */
  readonly code: FaultProxyErrorCode

  constructor(code: FaultProxyErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/** Where the proxy forwards to. */
export interface FaultProxyTargetAddress {
  /**
   * Target host.
   * @default '127.0.0.1'
   */
  host?: string
  /** Target TCP port. */
  port: number
}

/** A server to forward to: `{ host, port }`, `'ws://host:port/...'` (any scheme) or `'host:port'`. */
export type FaultProxyTarget = FaultProxyTargetAddress | string

/** The error for a target that cannot be parsed (or an empty target list). Internal. */
export function invalidTarget(target: unknown, cause?: unknown): FaultProxyError {
  const message = `Cannot parse fault proxy target ${JSON.stringify(target)}`
  return new FaultProxyError('FAULT_PROXY_INVALID_TARGET', message, cause === undefined ? undefined : { cause })
}

function defaultPortFor(protocol: string): number | null {
  if (protocol === 'ws:' || protocol === 'http:') return 80
  if (protocol === 'wss:' || protocol === 'https:') return 443
  return null
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65_535
}

/** Parses `{ host, port }`, `'ws://host:port/path'` or `'host:port'` into a host and a port. */
export function parseFaultProxyTarget(target: FaultProxyTargetAddress | string): { host: string; port: number } {
  if (typeof target !== 'string') {
    if (!isPort(target.port)) throw invalidTarget(target)
    return { host: target.host ?? '127.0.0.1', port: target.port }
  }
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(target)) {
    let url: URL
    try {
      url = new URL(target)
    } catch (error) {
      throw invalidTarget(target, error)
    }
    const port = url.port === '' ? defaultPortFor(url.protocol) : Number(url.port)
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    if (port === null || host === '') throw invalidTarget(target)
    return { host, port }
  }
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (host === undefined || !isPort(port)) throw invalidTarget(target)
  return { host, port }
}

/** `ws://host:port` of a proxy listening on `host` (IPv6 in brackets). Internal. */
export function formatProxyUrl(host: string, port: number): string {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${String(port)}`
}
