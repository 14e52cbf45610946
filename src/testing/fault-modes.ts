/** The fault modes of a fault proxy: their public snapshot, the live record a proxy keeps, and argument checks. */
import { isHttpStatus } from './http-rejection'
import { FaultProxyError } from './fault-proxy-target'

/**
 * How {@link FaultProxy.blockWebSocket} refuses WebSocket upgrades:
 * - `'strip'`: forwards the request without its `Upgrade` and `Connection` headers, as a proxy that does not know
 *   WebSockets does; the server sees a plain GET (the reference server answers 426, or 401/403 as for the upgrade).
 * - `'reset'`: resets the connection once the request head has arrived.
 * - `{ status, body? }`: the proxy itself answers `HTTP/1.1 <status>` with `Connection: close`, as
 *   {@link FaultProxy.rejectUpgrade} does.
 */
export type WebSocketBlock = 'strip' | 'reset' | { readonly status: number; readonly body?: string | undefined }

/** The fault modes in force; a snapshot. */
export interface FaultProxyFaults {
  /** New connections are blackholed. */
  readonly blackhole: boolean
  /** New connections are reset at once. */
  readonly refuse: boolean
  /** Latency added to every chunk, in ms (0 = none). */
  readonly delayMs: number
  /** Largest piece forwarded at once, in bytes (0 = whole chunks). */
  readonly sliceBytes: number
  /** HTTP answer given to new connections instead of forwarding, or null. */
  readonly rejectUpgrade: { readonly status: number; readonly body: string | undefined } | null
  /** New connections die this many ms after the handshake response reaches the client, or null. */
  readonly killAfterOpenMs: number | null
  /** How upgrade requests on new connections are refused while plain HTTP passes, or null. */
  readonly blockWebSocket: WebSocketBlock | null
}

/** The modes a proxy keeps and changes in place; links read `delayMs` and `sliceBytes` from it live. Internal. */
export interface FaultModes {
  blackhole: boolean
  refuse: boolean
  delayMs: number
  sliceBytes: number
  rejectUpgrade: { status: number; body: string | undefined } | null
  killAfterOpenMs: number | null
  blockWebSocket: WebSocketBlock | null
}

/** No fault in force: what a proxy starts with and what {@link FaultProxy.restore} goes back to. Internal. */
export function idleModes(): FaultModes {
  return {
    blackhole: false,
    refuse: false,
    delayMs: 0,
    sliceBytes: 0,
    rejectUpgrade: null,
    killAfterOpenMs: null,
    blockWebSocket: null,
  }
}

/** A copy of `modes` the caller cannot change the proxy through. Internal. */
export function snapshotFaults(modes: FaultModes): FaultProxyFaults {
  const { rejectUpgrade, blockWebSocket } = modes
  return {
    ...modes,
    rejectUpgrade: rejectUpgrade === null ? null : { ...rejectUpgrade },
    blockWebSocket:
      typeof blockWebSocket === 'object' && blockWebSocket !== null ? { ...blockWebSocket } : blockWebSocket,
  }
}

/** Throws `FAULT_PROXY_INVALID_ARGUMENT` unless `value` is a finite number ≥ 0 (and an integer if asked). Internal. */
export function assertNonNegative(name: string, value: number, integer: boolean): void {
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new FaultProxyError(
      'FAULT_PROXY_INVALID_ARGUMENT',
      `${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${String(value)}`,
    )
  }
}

/** Throws `FAULT_PROXY_INVALID_ARGUMENT` unless `status` is an HTTP status code. Internal. */
export function assertHttpStatus(status: number): void {
  if (!isHttpStatus(status)) {
    throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', `Not an HTTP status: ${String(status)}`)
  }
}

/** A checked copy of what {@link FaultProxy.blockWebSocket} was given; throws `FAULT_PROXY_INVALID_ARGUMENT`. Internal. */
export function toWebSocketBlock(how: WebSocketBlock): WebSocketBlock {
  if (typeof how === 'object' && how !== null) {
    assertHttpStatus(how.status)
    if (how.body !== undefined && typeof how.body !== 'string') {
      throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', 'The body must be a string')
    }
    return { status: how.status, body: how.body }
  }
  if (how === 'strip' || how === 'reset') return how
  throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', `Not a way to block WebSockets: ${String(how)}`)
}
