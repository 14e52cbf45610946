import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { assertHttpStatus, assertNonNegative, idleModes, snapshotFaults, toWebSocketBlock } from './fault-modes'
import type { FaultModes } from './fault-modes'
import { FaultProxyError, formatProxyUrl, invalidTarget, parseFaultProxyTarget } from './fault-proxy-target'
import type { FaultProxyTarget } from './fault-proxy-target'
import type { FaultProxy, FaultProxyOptions } from './fault-proxy-types'
import { listen } from './listen'
import { ProxyLink } from './proxy-link'
import type { LinkCounters, LinkSettings } from './proxy-link'
import { answerWithStatus, screenUpgrade } from './request-screen'
import { UpstreamPool } from './upstreams'

export { FaultProxyError, parseFaultProxyTarget } from './fault-proxy-target'
export type { FaultProxyErrorCode, FaultProxyTarget, FaultProxyTargetAddress } from './fault-proxy-target'
export type { FaultProxyFaults, WebSocketBlock } from './fault-modes'
export type { FaultProxy, FaultProxyOptions, FaultProxyStats } from './fault-proxy-types'

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
  const modes: FaultModes = idleModes()
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
      rejected += 1
      answerWithStatus(client, modes.rejectUpgrade)
      return
    }
    if (modes.blockWebSocket !== null || perRequest) {
      const onBlocked = (): void => {
        blockedUpgrades += 1
      }
      screenUpgrade({ client, block: modes.blockWebSocket, forward, onBlocked })
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
    url: formatProxyUrl(host, port),
    port,
    get connections() {
      return clientSockets.size
    },
    get stats() {
      return { accepted, refused, rejected, blockedUpgrades, ...counters, noUpstream }
    },
    get faults() {
      return snapshotFaults(modes)
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
      assertHttpStatus(status)
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
      modes.blockWebSocket = toWebSocketBlock(how)
    },
    unblockWebSocket() {
      modes.blockWebSocket = null
    },
    refuse() {
      modes.refuse = true
    },
    restore() {
      Object.assign(modes, idleModes())
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
