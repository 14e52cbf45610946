import { connect, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import { isUpgradeRequest, MAX_REQUEST_HEAD_BYTES, rewriteHead, splitHead } from './http-head'
import { isHttpStatus, writeHttpRejection } from './http-rejection'
import { ProxyLink } from './proxy-link'
import type { LinkCounters, LinkSettings } from './proxy-link'
import { UpstreamPool } from './upstreams'
import type { FaultProxyUpstream } from './upstreams'

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

/**
 * How {@link FaultProxy.blockWebSocket} refuses WebSocket upgrades:
 * - `'strip'`: forwards the request without its `Upgrade` and `Connection` headers, as a proxy that does not know
 *   WebSockets does; the server sees a plain GET (the reference server answers 426, or 401/403 as for the upgrade).
 * - `'reset'`: resets the connection once the request head has arrived.
 * - `{ status, body? }`: the proxy itself answers `HTTP/1.1 <status>` with `Connection: close`, as
 *   {@link FaultProxy.rejectUpgrade} does.
 */
export type WebSocketBlock = 'strip' | 'reset' | { readonly status: number; readonly body?: string | undefined }

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

interface ProxyModes {
  blackhole: boolean
  refuse: boolean
  delayMs: number
  sliceBytes: number
  rejectUpgrade: { status: number; body: string | undefined } | null
  killAfterOpenMs: number | null
  blockWebSocket: WebSocketBlock | null
}

function invalidTarget(target: unknown, cause?: unknown): FaultProxyError {
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

function assertNonNegative(name: string, value: number, integer: boolean): void {
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new FaultProxyError(
      'FAULT_PROXY_INVALID_ARGUMENT',
      `${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${String(value)}`,
    )
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

function formatUrl(host: string, port: number): string {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${String(port)}`
}

/**
 * Starts a TCP proxy on `127.0.0.1` (port 0 by default) that forwards to `target` and can blackhole, reset, end,
 * delay, slice, reject or kill connections on command. Node only.
 *
 * @example
 * const proxy = await createFaultProxy({ target: server.url });
 * const socket = new WebSocket(proxy.url);
 * proxy.blackhole(); // the link goes half-open
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targets = (Array.isArray(options.target) ? options.target : [options.target]) as readonly FaultProxyTarget[]
  if (targets.length === 0) throw invalidTarget(options.target)
  const pool = new UpstreamPool(targets.map((target) => parseFaultProxyTarget(target)))
  const target = pool.snapshot()[0]!
  const balancing = pool.size > 1
  const perRequest = balancing && (options.perRequest ?? true)
  const host = options.host ?? '127.0.0.1'
  const modes: ProxyModes = {
    blackhole: false,
    refuse: false,
    delayMs: 0,
    sliceBytes: 0,
    rejectUpgrade: null,
    killAfterOpenMs: null,
    blockWebSocket: null,
  }
  const counters: LinkCounters = {
    chunksForwarded: 0,
    bytesForwarded: 0,
    chunksDropped: 0,
    bytesDropped: 0,
    socketErrors: 0,
  }
  let accepted = 0
  let refused = 0
  let rejected = 0
  let blockedUpgrades = 0
  let noUpstream = 0
  const links = new Set<ProxyLink>()
  const clientSockets = new Set<Socket>()
  const settings = (): LinkSettings => modes

  const track = (socket: Socket): void => {
    clientSockets.add(socket)
    socket.once('close', () => clientSockets.delete(socket))
  }

  const answerWithStatus = (socket: Socket, rejection: { status: number; body: string | undefined }): void => {
    rejected += 1
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      if (head.includes('\r\n\r\n') || head.length > MAX_REQUEST_HEAD_BYTES) {
        socket.off('data', onData)
        // Keep reading (and discarding) so an unread receive buffer does not turn our FIN into an RST.
        socket.resume()
        writeHttpRejection(socket, rejection)
      }
    }
    socket.on('data', onData)
    socket.on('end', () => socket.destroy())
  }

  const startLink = (client: Socket, upstream: Socket | null, index: number): void => {
    let untrack: () => void = () => undefined
    const link: ProxyLink = new ProxyLink({
      client,
      upstream,
      settings,
      counters,
      killAfterOpenMs: modes.killAfterOpenMs,
      onClosed: () => {
        links.delete(link)
        untrack()
      },
    })
    links.add(link)
    if (upstream !== null) untrack = pool.track(index, link)
    // Blackholed while the upstream was being reached.
    if (modes.blackhole) link.blackhole()
    client.resume()
  }

  /**
   * Forwards a new connection to the target (or blackholes it), through a link that applies the fault modes. With
   * several targets the link starts once an upstream in rotation accepted; the client waits paused until then.
   */
  const forward = (client: Socket): void => {
    if (modes.blackhole) return startLink(client, null, 0)
    if (!balancing) {
      const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true })
      pool.countForwarded(0)
      let connected = false
      upstream.once('connect', () => {
        connected = true
      })
      upstream.once('error', () => {
        if (!connected) pool.countFailed(0)
      })
      return startLink(client, upstream, 0)
    }
    pool.connect(
      client,
      (upstream, index) => startLink(client, upstream, index),
      () => {
        noUpstream += 1
        client.resetAndDestroy()
      },
    )
  }

  /**
   * Reads the request head, then refuses it if it is an upgrade (as `how` says) or forwards it with
   * `Connection: close`. A head that never ends within the size limit is forwarded as is.
   */
  const screenUpgrade = (client: Socket, how: WebSocketBlock | null): void => {
    let head = Buffer.alloc(0)
    const onEnd = (): void => {
      client.off('data', onData)
      client.destroy()
    }
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const split = splitHead(head)
      if (split === null && head.length <= MAX_REQUEST_HEAD_BYTES) return
      client.off('data', onData)
      client.off('end', onEnd)
      const upgrade = split !== null && isUpgradeRequest(split.lines)
      if (upgrade && how === null) {
        client.pause()
        client.unshift(head)
        forward(client)
        return
      }
      if (upgrade) blockedUpgrades += 1
      if (upgrade && how === 'reset') {
        client.resetAndDestroy()
        return
      }
      if (upgrade && typeof how === 'object' && how !== null) {
        client.resume()
        client.on('end', () => client.destroy())
        writeHttpRejection(client, how)
        return
      }
      const bytes = split === null ? head : Buffer.concat([rewriteHead(split.lines, upgrade), split.rest])
      // Hand the bytes back to the socket so the link forwards them first, with delay and slicing applied.
      client.pause()
      client.unshift(bytes)
      forward(client)
    }
    client.on('data', onData)
    client.on('end', onEnd)
  }

  const onConnection = (client: Socket): void => {
    accepted += 1
    track(client)
    client.on('error', () => {
      counters.socketErrors += 1
    })
    if (modes.refuse) {
      refused += 1
      client.resetAndDestroy()
      return
    }
    if (modes.rejectUpgrade !== null) {
      answerWithStatus(client, modes.rejectUpgrade)
      return
    }
    if (modes.blockWebSocket !== null || perRequest) {
      screenUpgrade(client, modes.blockWebSocket)
      return
    }
    forward(client)
  }

  const server = createServer({ allowHalfOpen: true }, onConnection)
  server.on('error', () => {
    // After listen() succeeded the only errors are accept failures (EMFILE); the client side just sees no answer.
    counters.socketErrors += 1
  })
  await listen(server, options.port ?? 0, host)
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | null = null

  const checkUpstream = (index: number): number => {
    if (!pool.has(index)) {
      throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', `No upstream ${String(index)} (${String(pool.size)})`)
    }
    return index
  }

  const kickAll = (): void => {
    for (const link of links) link.kick()
  }

  return {
    url: formatUrl(host, port),
    port,
    get connections() {
      return clientSockets.size
    },
    get stats() {
      return { accepted, refused, rejected, blockedUpgrades, ...counters, noUpstream }
    },
    get faults() {
      const { rejectUpgrade, blockWebSocket } = modes
      return {
        ...modes,
        rejectUpgrade: rejectUpgrade === null ? null : { ...rejectUpgrade },
        blockWebSocket:
          typeof blockWebSocket === 'object' && blockWebSocket !== null ? { ...blockWebSocket } : blockWebSocket,
      }
    },
    blackhole() {
      modes.blackhole = true
      for (const link of links) link.blackhole()
    },
    reset() {
      for (const link of links) link.reset()
      for (const socket of clientSockets) if (!socket.destroyed) socket.resetAndDestroy()
    },
    fin() {
      for (const link of links) link.fin()
      for (const socket of clientSockets) if (!socket.destroyed && !socket.writableEnded) socket.end()
    },
    delay(ms) {
      assertNonNegative('delay', ms, false)
      modes.delayMs = ms
      kickAll()
    },
    slice(bytes) {
      assertNonNegative('slice', bytes, true)
      modes.sliceBytes = bytes
      kickAll()
    },
    rejectUpgrade(status, body) {
      if (!isHttpStatus(status)) {
        throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', `Not an HTTP status: ${String(status)}`)
      }
      modes.rejectUpgrade = { status, body }
    },
    acceptUpgrade() {
      modes.rejectUpgrade = null
    },
    killAfterOpen(ms = 0) {
      assertNonNegative('killAfterOpen', ms, false)
      modes.killAfterOpenMs = ms
    },
    blockWebSocket(how = 'strip') {
      if (typeof how === 'object' && how !== null) {
        if (!isHttpStatus(how.status)) {
          throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', `Not an HTTP status: ${String(how.status)}`)
        }
        if (how.body !== undefined && typeof how.body !== 'string') {
          throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', 'The body must be a string')
        }
        modes.blockWebSocket = { status: how.status, body: how.body }
      } else if (how === 'strip' || how === 'reset') {
        modes.blockWebSocket = how
      } else {
        throw new FaultProxyError('FAULT_PROXY_INVALID_ARGUMENT', `Not a way to block WebSockets: ${String(how)}`)
      }
    },
    unblockWebSocket() {
      modes.blockWebSocket = null
    },
    refuse() {
      modes.refuse = true
    },
    restore() {
      Object.assign(modes, {
        blackhole: false,
        refuse: false,
        delayMs: 0,
        sliceBytes: 0,
        rejectUpgrade: null,
        killAfterOpenMs: null,
        blockWebSocket: null,
      } satisfies ProxyModes)
      kickAll()
    },
    get upstreams() {
      return pool.snapshot()
    },
    take(index) {
      pool.setInRotation(checkUpstream(index), false)
    },
    putBack(index) {
      pool.setInRotation(checkUpstream(index), true)
    },
    kill(index) {
      return pool.kill(checkUpstream(index))
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        // The server's callback can run before the sockets' own 'close' events; wait for those too.
        const sockets = [...clientSockets, ...[...links].map((link) => link.upstream)]
        const closed = sockets
          .filter((socket): socket is Socket => socket !== null && !socket.closed)
          .map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())))
        for (const link of links) link.destroy()
        for (const socket of clientSockets) socket.destroy()
        await Promise.all([stopped, ...closed])
      })()
      return closing
    },
  }
}
