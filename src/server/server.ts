import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { jsonDepth, MAX_JSON_DEPTH } from '../core'
import type { BrokerHealth, BrokerMessage } from './broker'
import { AddressSlots, CROWDED_RETRY_AFTER_S, LongPollHolds, probeCors, refuseCrowded } from './caps'
import { Connection } from './connection'
import type { ConnectionContext, ConnectionRequest } from './connection'
import { createCrossNode } from './cross-node'
import type { CrossNode } from './cross-node'
import { errorName, LifelineServerError } from './errors'
import { channelProblem } from './frames'
import { createLongPollHandler } from './longpoll'
import type { LongPollHandler } from './longpoll'
import { LongPollSocket } from './longpoll-socket'
import { createMemoryBroker } from './memory-broker'
import { resolveServerOptions } from './options'
import type { LifelineServerOptions, Principal } from './options'
import { SessionRegistry } from './sessions'
import type { Session } from './sessions'
import type { ConnectionSocket } from './socket'
import { createSseHandler } from './sse'
import { SseSocket } from './sse-socket'
import { handleProbe, handleUpgrade, originNotice, originRefusal, pathnameOf, refuseUpgrade } from './upgrade'
import type { UpgradeContext } from './upgrade'
import type { LifelineConnectionInfo, LifelineServer } from './server-types'
import { assertCloseArguments, listen, transportOf } from './server-util'

export type { LifelineConnectionInfo, LifelineServer, LifelineServerStats } from './server-types'

const ANONYMOUS_ID = 'anonymous'

/**
 * Starts the lifeline protocol reference server over WebSocket, on its own HTTP server (`port`) or on an existing one
 * (`server`). See docs/protocol.md for the protocol, and {@link LifelineServerOptions} for the limits it enforces.
 *
 * @example
 * const server = await createLifelineServer({
 *   port: 8080,
 *   allowedOrigins: ['https://app.example.com'],
 *   authenticate: async ({ token }) => (token ? verify(token) : null),
 *   authorize: ({ principal, channel }) => channel.startsWith(`user:${principal.id}:`),
 * })
 * await server.publish('news', { title: 'hello' })
 */
export async function createLifelineServer(options: LifelineServerOptions): Promise<LifelineServer> {
  const resolved = resolveServerOptions(options)
  const anonymousOnly = options.authenticate === undefined && options.authenticateUpgrade === undefined
  const ownsBroker = options.broker === undefined
  const broker =
    options.broker ??
    createMemoryBroker({
      windowMs: resolved.resumeWindowMs,
      maxMessages: resolved.maxReplayMessages,
      maxBytes: resolved.maxReplayBytes,
    })
  const startedAt = Date.now()
  const { logger } = options
  let logErrors = 0
  const log = (level: 'info' | 'warn', message: string, details?: Record<string, unknown>): void => {
    if (!logger) return
    try {
      logger[level](message, details)
    } catch (_error) {
      logErrors += 1
    }
  }
  if (anonymousOnly) log('warn', 'no authentication hook: every client connects as the anonymous principal')
  let originNoticed = false
  const originRefused = (origin: string | undefined): void => {
    // A logger gets every refusal; without one, a browser's bare 403 (allowedOrigins defaults to []) goes unexplained.
    if (logger || originNoticed) return
    originNoticed = true
    console.warn(originNotice(origin))
  }

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: resolved.maxPayload,
  })
  const connections = new Set<Connection>()
  const byPrincipal = new Map<string, Set<Connection>>()
  const handshakes = new Set<Duplex>()
  const rawSockets = new Set<Socket>()
  const uncapped = (principalId: string): boolean => anonymousOnly && principalId === ANONYMOUS_ID
  const sessions = new SessionRegistry<Connection>({
    windowMs: resolved.resumeWindowMs,
    maxPerPrincipal: resolved.maxSessionsPerPrincipal,
    maxDedupeIds: resolved.maxDedupeIds,
    maxDedupeIdsTotal: resolved.maxDedupeIdsTotal,
    maxDetachedSessions: resolved.maxDetachedSessions,
    uncapped,
    keyed: broker.cluster !== undefined,
  })
  const crossNode: CrossNode | undefined =
    broker.cluster &&
    createCrossNode({
      cluster: broker.cluster,
      sessions,
      windowMs: resolved.resumeWindowMs,
      log,
      closed: () => closed,
      longPoll: (): LongPollHandler | null => longPoll || null,
    })
  const addresses = new AddressSlots(resolved.maxConnectionsPerAddress)
  const longPollHolds = new LongPollHolds(addresses)
  let nextId = 0
  let closed = false
  let closing: Promise<void> | null = null

  /** Whether `principalId` is at its connection cap (a connection about to be superseded, `replaced`, not counted). */
  function isCrowded(principalId: string, replaced: Connection | null | undefined): boolean {
    const owned = byPrincipal.get(principalId)
    const limit = uncapped(principalId) ? resolved.maxAnonymousConnections : resolved.maxConnectionsPerPrincipal
    let active = longPollHolds.count(principalId)
    // Counted one by one only near the cap: the anonymous principal may own thousands.
    if ((owned?.size ?? 0) + active < limit) return false
    for (const other of owned ?? []) if (!other.closing && other !== replaced) active += 1
    return active >= limit
  }

  function bind(connection: Connection, principalId: string, session: Session<Connection>): void {
    sessions.attach(session, connection)
    const owned = byPrincipal.get(principalId) ?? new Set<Connection>()
    owned.add(connection)
    byPrincipal.set(principalId, owned)
  }

  const context: ConnectionContext = {
    options: resolved,
    broker,
    dedupe: broker.cluster?.dedupe,
    log,
    authenticate: options.authenticate,
    authorize: options.authorize,
    encoded: new WeakMap<BrokerMessage, string>(),
    admit(connection, principal, sessionId) {
      if (crossNode) {
        const crowded = (replaced: Connection | null | undefined): boolean => isCrowded(principal.id, replaced)
        const bindIt = (session: Session<Connection>): void => bind(connection, principal.id, session)
        return crossNode.admit({ connection, principal, sessionId, crowded, bind: bindIt })
      }
      const session = sessionId === undefined ? undefined : sessions.find(sessionId, principal.id)
      if (isCrowded(principal.id, session?.owner)) return { code: 1013, reason: 'too many connections' }
      const resumed = session !== undefined
      const attached = session ?? sessions.create(principal.id)
      bind(connection, principal.id, attached)
      return { session: attached, resumed }
    },
    published(event) {
      if (!options.onPublished) return
      try {
        options.onPublished(event)
      } catch (error) {
        log('warn', 'onPublished threw', { error: errorName(error) })
      }
    },
    released(connection) {
      connections.delete(connection)
      const principalId = connection.principal?.id
      const owned = principalId === undefined ? undefined : byPrincipal.get(principalId)
      owned?.delete(connection)
      if (principalId !== undefined && owned?.size === 0) byPrincipal.delete(principalId)
      const { session } = connection
      if (session && crossNode) crossNode.released(session, connection)
      // A stream never learns its session id, so nothing can resume it: forgotten at once.
      else if (session && connection.socket instanceof SseSocket) sessions.drop(session)
      else if (session) sessions.detach(session, connection)
      const { socket } = connection
      // Still answering its close, it counts against its principal; not once its session moved to another connection.
      const holding = socket instanceof LongPollSocket && connection.session !== null && longPoll?.holds(socket)
      if (principalId !== undefined && holding) longPollHolds.lingering(socket, principalId)
    },
  }

  const upgradeContext: UpgradeContext = {
    options: resolved,
    wss,
    authenticateUpgrade: options.authenticateUpgrade,
    log,
    closing: () => closed,
    handshakes,
    accept(socket: WebSocket, request: IncomingMessage, principal: Principal | null) {
      const request_ = { headers: request.headers, url: request.url ?? '', remoteAddress: request.socket.remoteAddress }
      adopt(socket, request_, principal)
    },
    originRefused,
  }

  /** Runs the protocol over an accepted socket: a WebSocket after its 101, or a new long-poll connection. */
  function adopt(socket: ConnectionSocket, request: ConnectionRequest, principal: Principal | null): void {
    if (closed) {
      socket.terminate()
      return
    }
    // A WebSocket holds its slot from the upgrade request on (see onUpgrade).
    if (socket instanceof LongPollSocket) longPollHolds.opened(socket, request.remoteAddress)
    nextId += 1
    const connection = new Connection(nextId, socket, request, principal, context)
    connections.add(connection)
    const transport = transportOf(socket)
    log('info', 'connection opened', { connection: nextId, principal: principal?.id ?? null, transport })
  }

  // What both HTTP transports get from the server: the same checks as an upgrade, and the protocol's adoption.
  const httpTransport = {
    options: resolved,
    authenticateUpgrade: options.authenticateUpgrade,
    log,
    closing: () => closed,
    accept: adopt,
    crowded: (remoteAddress: string | undefined) => addresses.full(remoteAddress),
  }
  const longPoll =
    resolved.longPoll &&
    createLongPollHandler({
      ...httpTransport,
      ...(crossNode ? { remote: { relay: crossNode.relay, forwarder: crossNode.forwarder } } : {}),
      longPoll: resolved.longPoll,
      forgotten: (socket) => longPollHolds.forgotten(socket),
    })
  const sse =
    resolved.sse &&
    createSseHandler({
      ...httpTransport,
      sse: resolved.sse,
      take: (remoteAddress) => addresses.take(remoteAddress),
    })

  let brokerHealth: BrokerHealth = broker.health?.() ?? { status: 'ok', since: startedAt }
  const stopHealth = broker.onHealth?.((health) => {
    if (health.status === brokerHealth.status) return
    brokerHealth = health
    if (health.status === 'down') log('warn', 'broker unreachable: publishes are refused until it is back')
    else log('info', 'broker reachable again')
  })
  const healthPath = `${resolved.path.replace(/\/+$/, '')}/healthz`
  /** `GET <path>/healthz`: 200 while the broker is reachable, 503 while it is not (for load balancers, orchestrators). */
  const health = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (pathnameOf(request.url) !== healthPath || (request.method !== 'GET' && request.method !== 'HEAD')) return false
    const current = broker.health?.() ?? brokerHealth
    const ok = current.status === 'ok' && !closed
    const text = JSON.stringify(ok ? { status: 'ok' } : { status: 'degraded', broker: closed ? 'closed' : 'down' })
    response.writeHead(ok ? 200 : 503, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
    })
    response.end(request.method === 'HEAD' ? undefined : text)
    return true
  }

  const own = options.server === undefined
  const probe = (request: IncomingMessage, response: ServerResponse): void => {
    if (health(request, response)) return
    if (longPoll?.handle(request, response)) return
    if (sse?.handle(request, response)) return
    if (pathnameOf(request.url) === resolved.path && addresses.full(request.socket.remoteAddress)) {
      // The probe a client makes after a failed upgrade says why: the upgrade was refused 429 as well.
      return refuseCrowded(response, probeCors(request, originRefusal(request, resolved) === ''))
    }
    handleProbe(upgradeContext, request, response).catch((error: unknown) => {
      log('warn', 'probe failed', { error: errorName(error) })
      response.destroy()
    })
  }
  const checkEveryMs = Math.max(25, Math.min(1000, Math.floor(resolved.handshakeTimeoutMs / 4)))
  const httpServer =
    options.server ??
    createServer(
      {
        // Slowloris: a request (an upgrade included) whose headers do not complete in time gets 408 and is closed.
        headersTimeout: resolved.handshakeTimeoutMs,
        requestTimeout: resolved.handshakeTimeoutMs,
        connectionsCheckingInterval: checkEveryMs,
      },
      probe,
    )
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathnameOf(request.url) !== resolved.path) {
      // On a shared server another handler may own this path.
      if (own) refuseUpgrade(socket, 404, 'not found')
      return
    }
    const { remoteAddress } = request.socket
    if (addresses.full(remoteAddress)) {
      log('warn', 'upgrade refused: too many connections from its address', { remoteAddress: remoteAddress ?? null })
      refuseUpgrade(socket, 429, 'too many connections', { 'Retry-After': String(CROWDED_RETRY_AFTER_S) })
      return
    }
    // Held through the handshake and the connection: the raw socket closes when either ends.
    if (!socket.destroyed) socket.once('close', addresses.take(remoteAddress))
    handleUpgrade(upgradeContext, request, socket, head).catch((error: unknown) => {
      log('warn', 'upgrade failed', { error: errorName(error) })
      socket.destroy()
    })
  }
  const onConnection = (socket: Socket): void => {
    rawSockets.add(socket)
    socket.once('close', () => rawSockets.delete(socket))
  }
  httpServer.on('upgrade', onUpgrade)
  if (own) httpServer.on('connection', onConnection)

  const heartbeat = setInterval(
    () => {
      const now = performance.now()
      for (const connection of connections) connection.checkLiveness(now)
    },
    Math.max(5, Math.floor(resolved.heartbeatMs / 2)),
  )

  const shutdown = async (): Promise<void> => {
    closed = true
    clearInterval(heartbeat)
    httpServer.off('upgrade', onUpgrade)
    for (const socket of handshakes) socket.destroy()
    const gone = [...connections].map(
      (connection) => new Promise<void>((resolve) => connection.socket.once('close', () => resolve())),
    )
    for (const connection of connections) connection.close(1001, 'server shutting down')
    await Promise.all(gone)
    longPoll?.close()
    crossNode?.close()
    stopHealth?.()
    sessions.clear()
    if (ownsBroker) await broker.close()
    if (own) {
      for (const socket of rawSockets) socket.destroy()
      if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()))
      httpServer.off('connection', onConnection)
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  }

  if (own) {
    try {
      await listen(httpServer, options.port ?? 0, resolved.host)
    } catch (error) {
      await shutdown()
      throw error
    }
  }

  const address = (): AddressInfo | null => {
    const value = httpServer.address()
    return value !== null && typeof value === 'object' ? value : null
  }
  const infoOf = (connection: Connection): LifelineConnectionInfo => ({
    id: connection.id,
    principal: connection.principal,
    session: connection.session?.id ?? null,
    channels: [...connection.subscriptions.keys()],
    remoteAddress: connection.request.remoteAddress,
    transport: transportOf(connection.socket),
    close(code, reason = '') {
      assertCloseArguments(code, reason)
      connection.close(code, reason)
    },
    terminate: () => connection.terminate(),
  })

  return {
    get url() {
      const current = address()
      if (!current) return ''
      const host = current.family === 'IPv6' ? `[${current.address}]` : current.address
      return `ws://${host}:${String(current.port)}${resolved.path}`
    },
    get port() {
      return address()?.port ?? 0
    },
    broker,
    publish(channel, data) {
      if (closed) return Promise.reject(new LifelineServerError('SERVER_CLOSED', 'The lifeline server was closed'))
      const problem = typeof channel === 'string' ? channelProblem(channel, resolved.maxChannelNameLength) : ''
      if (typeof channel !== 'string' || problem) {
        return Promise.reject(new LifelineServerError('INVALID_CHANNEL', problem || 'channel must be a string'))
      }
      let payload: string | undefined
      try {
        payload = JSON.stringify(data)
      } catch (error) {
        return Promise.reject(
          new LifelineServerError('INVALID_DATA', 'data is not JSON-serialisable', { cause: error }),
        )
      }
      if (payload === undefined) {
        return Promise.reject(new LifelineServerError('INVALID_DATA', 'data is not JSON-serialisable'))
      }
      // Its `msg` frame adds one level, and clients refuse frames deeper than the protocol limit.
      if (jsonDepth(payload, MAX_JSON_DEPTH - 1) > MAX_JSON_DEPTH - 1) {
        const problem = `data nests arrays and objects deeper than ${String(MAX_JSON_DEPTH - 1)} levels`
        return Promise.reject(new LifelineServerError('INVALID_DATA', problem))
      }
      return broker.publish(channel, payload)
    },
    connections: () => [...connections].map(infoOf),
    closeSession(sessionId, code, reason = '') {
      assertCloseArguments(code, reason)
      const owner = sessions.get(sessionId)?.owner
      if (!owner) return false
      owner.close(code, reason)
      return true
    },
    expireSession(sessionId) {
      crossNode?.expire(sessionId)
      const session = sessions.get(sessionId)
      if (!session) return false
      const owner = session.owner
      sessions.drop(session)
      if (owner) {
        owner.session = null
        owner.close(4003, 'session expired')
      }
      return true
    },
    stats() {
      let subscriptions = 0
      for (const connection of connections) subscriptions += connection.subscriptions.size
      return {
        accepted: nextId,
        connections: connections.size,
        longPolls: longPoll?.size ?? 0,
        closingLongPolls: longPoll?.closed ?? 0,
        eventStreams: sse?.size ?? 0,
        sessions: sessions.size,
        dedupeIds: sessions.dedupeIds,
        subscriptions,
        handshakes: handshakes.size,
        principals: byPrincipal.size,
        logErrors,
        broker: broker.health?.() ?? brokerHealth,
      }
    },
    handleRequest(request, response) {
      if (health(request, response)) return true
      if (longPoll?.handle(request, response)) return true
      if (sse?.handle(request, response)) return true
      if (pathnameOf(request.url) !== resolved.path) return false
      probe(request, response)
      return true
    },
    close() {
      closing ??= shutdown()
      return closing
    },
  }
}
