/** The public shape of a fault proxy: its options, counters and handle (the factory is in fault-proxy.ts). */
import type { FaultProxyFaults, WebSocketBlock } from './fault-modes'
import type { FaultProxyTarget } from './fault-proxy-target'
import type { FaultProxyUpstream } from './upstreams'

/** Options of {@link createFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * The server to forward to, or several: then the proxy is a load balancer that sends each new client connection to
   * the next upstream in rotation (round-robin, no stickiness: WebSocket upgrades and plain HTTP alike), and tries the
   * next one when an upstream refuses the connection, as nginx does by default.
   */
  target: FaultProxyTarget | readonly FaultProxyTarget[]
  /**
   * With several targets, every plain HTTP request (long-poll, probes) gets `Connection: close`, so each request opens
   * a connection of its own and is balanced on its own, as nginx does without upstream keep-alive; false keeps
   * kept-alive connections on the upstream they first reached. WebSocket upgrades are forwarded untouched.
   * Ignored with a single target.
   * @default true
   */
  perRequest?: boolean
  /**
   * Interface the proxy listens on.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port the proxy listens on; 0 picks a free one.
   * @default 0
   */
  port?: number
}

/** Counters since the proxy started; a snapshot. */
export interface FaultProxyStats {
  /** Client connections accepted (including refused and rejected ones). */
  readonly accepted: number
  /** Connections destroyed at once by {@link FaultProxy.refuse}. */
  readonly refused: number
  /** Connections answered with an HTTP status by {@link FaultProxy.rejectUpgrade}. */
  readonly rejected: number
  /** Upgrade requests stripped, reset or answered by {@link FaultProxy.blockWebSocket}. */
  readonly blockedUpgrades: number
  /** Separate writes made to either side; slicing makes this grow by one per slice. */
  readonly chunksForwarded: number
  /** Bytes written to either side. */
  readonly bytesForwarded: number
  /** Chunks discarded (blackhole, or left over after a reset or FIN). */
  readonly chunksDropped: number
  /** Bytes discarded. */
  readonly bytesDropped: number
  /** Socket errors seen on either side (ECONNRESET, ECONNREFUSED…). */
  readonly socketErrors: number
  /** Connections reset because no upstream was in rotation or every one refused (several targets only). */
  readonly noUpstream: number
}

/** A TCP proxy in front of a WebSocket server that injects network faults on command. */
export interface FaultProxy {
  /** `ws://host:port` of the proxy: point the client here. */
  readonly url: string
  /** Port the proxy listens on. */
  readonly port: number
  /** Client sockets currently open through the proxy. */
  readonly connections: number
  /** Counters since start. */
  readonly stats: FaultProxyStats
  /** Current fault modes. */
  readonly faults: FaultProxyFaults
  /**
   * Silently drops every byte in both directions while keeping both TCP sockets open (no FIN, no RST): a half-open
   * link. New connections are accepted and blackholed too (never forwarded). Connections open while blackholed stay
   * dead for good, even after {@link FaultProxy.restore}, because bytes were lost from the middle of their stream;
   * such a link is freed once both of its ends have closed (or by reset, fin or close).
   */
  blackhole(): void
  /** Destroys every live connection with a TCP RST to the client and closes its upstream. */
  reset(): void
  /** Ends every live connection with a FIN on both sides, without a WebSocket close frame. */
  fin(): void
  /** Adds `ms` of latency to every chunk in both directions, order kept, for open and new connections; 0 removes it. */
  delay(ms: number): void
  /** Forwards data in pieces of at most `bytes`, each written on its own turn of the event loop; 0 removes it. */
  slice(bytes: number): void
  /**
   * New connections get `HTTP/1.1 <status>` with `Connection: close` from the proxy itself after their request head,
   * instead of reaching the target. `body` defaults to `{"error":"<reason phrase>"}`.
   */
  rejectUpgrade(status: number, body?: string): void
  /** Undoes {@link FaultProxy.rejectUpgrade}. */
  acceptUpgrade(): void
  /**
   * New connections are forwarded but destroyed `ms` (default 0) after the first upstream bytes (the 101 response)
   * reach the client: a middlebox that kills WebSockets after the handshake. Open connections are not affected.
   */
  killAfterOpen(ms?: number): void
  /**
   * WebSocket upgrades on new connections are refused the way `how` says (default `'strip'`) while plain HTTP requests
   * (the diagnostics probe, long-poll) pass through to the target: a proxy or firewall that does not carry
   * WebSockets. The proxy reads each new connection's request head and tells an upgrade by its `Upgrade` header;
   * every request it forwards meanwhile gets `Connection: close`, so no kept-alive connection can carry an upgrade
   * past it later. Open connections are not affected.
   */
  blockWebSocket(how?: WebSocketBlock): void
  /** Undoes {@link FaultProxy.blockWebSocket}: upgrades pass again on new connections. */
  unblockWebSocket(): void
  /** New connections are reset as soon as they are accepted (the client sees ECONNRESET). */
  refuse(): void
  /** Clears every fault mode. Delayed or sliced connections resume normal forwarding; blackholed ones stay dead. */
  restore(): void
  /** Every upstream, in `target` order, with its rotation state and connection counts. */
  readonly upstreams: readonly FaultProxyUpstream[]
  /**
   * Takes upstream `index` out of rotation: new connections go to the others (reset when none is left), open ones
   * stay. Throws `FAULT_PROXY_INVALID_ARGUMENT` for an index out of range.
   */
  take(index: number): void
  /** Puts upstream `index` back into rotation. */
  putBack(index: number): void
  /**
   * Destroys every open connection to upstream `index` at once (both sockets closed, no close frame), as its process
   * dying would look to clients; it stays in rotation. Returns how many connections were cut.
   */
  kill(index: number): number
  /** Stops listening and destroys every socket and timer. Idempotent. */
  close(): Promise<void>
}
