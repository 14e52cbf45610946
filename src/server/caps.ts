import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIPv6 } from 'node:net'
import type { LongPollSocket } from './longpoll-socket'

/** The `Retry-After` (seconds) of a refusal for too many connections from one address: 1013's 5 s floor. */
export const CROWDED_RETRY_AFTER_S = 5

/**
 * The key an address is counted under: an IPv4 address as it is (an IPv4-mapped IPv6 one as IPv4), an IPv6 address by
 * its /64 prefix (one subscriber or site; a single host often holds the whole /64), `unknown` when the socket has none.
 * Internal.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown'
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped?.[1] !== undefined) return mapped[1]
  const bare = address.split('%', 1)[0] ?? address
  if (!isIPv6(bare)) return address
  const [head = '', tail] = bare.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`
}

/**
 * Connections per remote address (see {@link addressKey}): a WebSocket from its upgrade request to its socket's
 * close, a long-poll connection from its opening request until the server forgets it. Internal.
 */
export class AddressSlots {
  private readonly counts = new Map<string, number>()

  constructor(private readonly max: number) {}

  /** Whether `address` has no room for one more connection. */
  full(address: string | undefined): boolean {
    return (this.counts.get(addressKey(address)) ?? 0) >= this.max
  }

  /** Counts one more connection for `address`; the returned function (idempotent) gives the slot back. */
  take(address: string | undefined): () => void {
    const key = addressKey(address)
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    let held = true
    return () => {
      if (!held) return
      held = false
      const count = (this.counts.get(key) ?? 1) - 1
      if (count > 0) this.counts.set(key, count)
      else this.counts.delete(key)
    }
  }
}

/**
 * What long-poll connections hold against the caps: an address slot from the opening request until the handler forgets
 * the connection, and, once its protocol side is gone while its close is still held for the client, a place in its
 * principal's count. Internal.
 */
export class LongPollHolds {
  private readonly slots = new Map<LongPollSocket, () => void>()
  private readonly principals = new Map<LongPollSocket, string>()
  private readonly byPrincipal = new Map<string, number>()

  constructor(private readonly addresses: AddressSlots) {}

  /** A new connection from `address`. */
  opened(socket: LongPollSocket, address: string | undefined): void {
    this.slots.set(socket, this.addresses.take(address))
  }

  /** Its protocol side is gone but it still holds its close: it counts against `principalId` until forgotten. */
  lingering(socket: LongPollSocket, principalId: string): void {
    this.principals.set(socket, principalId)
    this.byPrincipal.set(principalId, this.count(principalId) + 1)
  }

  /** Connections of `principalId` that hold their close. */
  count(principalId: string): number {
    return this.byPrincipal.get(principalId) ?? 0
  }

  /** The handler forgot `socket`: it holds nothing any more. */
  forgotten(socket: LongPollSocket): void {
    this.slots.get(socket)?.()
    this.slots.delete(socket)
    const principalId = this.principals.get(socket)
    if (principalId === undefined) return
    this.principals.delete(socket)
    const count = this.count(principalId) - 1
    if (count > 0) this.byPrincipal.set(principalId, count)
    else this.byPrincipal.delete(principalId)
  }
}

/**
 * Answers a request from an address at its cap: 429 with `Retry-After` (the client backs off as for a rate limit), and
 * CORS headers when `cors` is given so that a browser can read it. Internal.
 */
export function refuseCrowded(response: ServerResponse, cors: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return
  const body = JSON.stringify({ error: 'too many connections' })
  response.writeHead(429, {
    ...cors,
    'Retry-After': String(CROWDED_RETRY_AFTER_S),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
  })
  response.end(body)
}

/** The CORS headers a probe answer carries for an allowed `Origin` (as `handleProbe` sends them). Internal. */
export function probeCors(request: IncomingMessage, allowed: boolean): Record<string, string> {
  const origin = request.headers.origin
  return origin === undefined || !allowed
    ? {}
    : { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }
}
