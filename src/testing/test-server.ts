import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { StreamPosition } from '../core'
import { createLifelineServer, createMemoryBroker } from '../server'
import type { AuthRequest, Broker, LifelineServer, LifelineServerOptions, Principal, PublishedEvent } from '../server'
import { writeHttpRejection } from './http-rejection'

/** Stable codes of {@link TestServerError}. */
export type TestServerErrorCode = 'TEST_SERVER_INVALID_ARGUMENT' | 'TEST_SERVER_CLOSED' | 'TEST_SERVER_RESTART_FAILED'

/** Thrown for a bad argument, a use after `close()`, or a port that stayed busy on `restart()`. */
export class TestServerError extends Error {
  override readonly name = 'TestServerError'
  /** Stable machine-readable code. */
  readonly code: TestServerErrorCode

  constructor(code: TestServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/**
 * Options of {@link createTestServer}: those of `createLifelineServer` (authenticate, authorize, allowedOrigins,
 * rateLimit, resume, maxPayload, heartbeat, broker, logger, onPublished …, with the server's defaults) except
 * `server`, plus a few for tests.
 */
export interface TestServerOptions extends Omit<LifelineServerOptions, 'server' | 'port' | 'host'> {
  /**
   * Port to listen on; 0 picks a free one. The port is kept across `kill()` and `restart()`.
   * @default 0
   */
  port?: number
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Tokens accepted in `hello`, each mapped to the id of the principal it authenticates as; any other token, or none,
   * closes the connection with 4001. Cannot be combined with `authenticate`.
   * @default undefined (no authentication: every client is the anonymous principal)
   */
  tokens?: Readonly<Record<string, string>>
  /**
   * How many applied publishes `received` keeps (the most recent ones).
   * @default 10000
   */
  receivedLimit?: number
}

/** What {@link TestServer.restart} forgets, as a restarted server with less durable state would. */
export interface TestServerRestartOptions {
  /**
   * Forget every channel's history (`broker.reset()`): the next message of each channel starts a new epoch, so a
   * client resuming with `since` gets `subscribed { resumed: false }` and reports one discontinuity (R4).
   * @default false
   */
  loseHistory?: boolean
  /**
   * Forget every session and its publish dedupe: a new server instance replaces `server`, so resuming clients get
   * `welcome { resumed: false }`. Channel history is kept unless `loseHistory` (a new process on a durable broker).
   * @default false
   */
  loseSessions?: boolean
}

/** Which connections {@link TestServer.closeClient} closes: every one of a principal, or the one holding a session. */
export type TestServerClientSelector = { readonly principal: string } | { readonly session: string }

/** A client `pub` the server applied (published once; a duplicate id only acknowledged again is not listed). */
export interface TestServerPublish {
  /** Channel it was published on. */
  readonly channel: string
  /** The client message id. */
  readonly id: string
  /** The message data. */
  readonly data: unknown
  /** Id of the publishing principal. */
  readonly principal: string
  /** Id of the publishing session. */
  readonly session: string
  /** Where the broker put it. */
  readonly position: StreamPosition
}

/** The lifeline reference server on a local port, with the controls tests need. Node only. */
export interface TestServer {
  /** `ws://host:port/path` (`path` defaults to `/lifeline`); the same after `kill()` and `restart()`. */
  readonly url: string
  /** The port listened on; the same after `kill()` and `restart()`. */
  readonly port: number
  /** Whether it accepts connections (false after `kill()` until `restart()`). */
  readonly listening: boolean
  /** The running lifeline server; a new instance after `restart({ loseSessions: true })`. */
  readonly server: LifelineServer
  /** The broker holding channel history; kept across every restart. */
  readonly broker: Broker
  /** Open WebSocket connections. */
  readonly connections: number
  /** WebSocket connections accepted since start, over every restart. */
  readonly totalConnections: number
  /** The most recent client publishes applied, oldest first (at most `receivedLimit`). */
  readonly received: ReadonlyArray<TestServerPublish>
  /** The data of every client publish applied on `channel` (of those in `received`), in the order applied. */
  applied(channel: string): unknown[]
  /** Empties `received`. */
  clearReceived(): void
  /** Publishes `data` on `channel` from the server side (also while killed: the broker outlives connections). */
  publish(channel: string, data: unknown): Promise<StreamPosition>
  /** Starts the close handshake with `code` and `reason` on every connection; returns how many. */
  closeClients(code: number, reason?: string): number
  /** Starts the close handshake with `code` and `reason` on the connections `selector` picks; returns how many. */
  closeClient(selector: TestServerClientSelector, code: number, reason?: string): number
  /** Destroys every connection's socket without a close frame while still accepting new ones; returns how many. */
  terminateClients(): number
  /**
   * Expires the session of every connected client: each is closed with 4003 and its session cannot be resumed.
   * Sessions of clients that are away are left to the resume window. Returns how many were expired.
   */
  expireSessions(): number
  /** Forgets the history of `channel` (of every channel when absent): its next message starts a new epoch. */
  dropHistory(channel?: string): Promise<void>
  /**
   * Crashes the server: every connection's socket is destroyed without a close frame and the port stops accepting
   * (connections are refused). Sessions, publish dedupe and channel history are kept for `restart()`, as with
   * durable state (R3). Resolves once `connections` is 0. A no-op while killed.
   */
  kill(): Promise<void>
  /**
   * Accepts connections again on the same port, retrying briefly while it is in use; kills first when running.
   * Without options everything survives (resumed sessions and channels); `loseSessions` and `loseHistory` forget
   * state as a server without durable sessions or history would. `restart({ loseSessions: true, loseHistory: true })`
   * is an in-memory server restarted.
   */
  restart(options?: TestServerRestartOptions): Promise<void>
  /** Destroys every connection, stops listening and closes the server (and the broker it made). Idempotent. */
  close(): Promise<void>
}

const RESTART_ATTEMPTS = 10
const RESTART_RETRY_MS = 50
/** How long `kill()` waits for the server to see its destroyed sockets close (ws reports it a few ticks later). */
const SETTLE_MS = 2000

function invalidArgument(message: string): TestServerError {
  return new TestServerError('TEST_SERVER_INVALID_ARGUMENT', message)
}

function closedError(): TestServerError {
  return new TestServerError('TEST_SERVER_CLOSED', 'The test server was closed')
}

function assertCloseArguments(code: number, reason: string): void {
  // RFC 6455 §7.4: 1004–1006 and 1015 are never sent on the wire; 1016–2999 are unassigned.
  const assigned = code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006
  if (!Number.isInteger(code) || !(assigned || (code >= 3000 && code <= 4999))) {
    throw invalidArgument(`Not a close code that can be sent: ${String(code)}`)
  }
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) {
    throw invalidArgument('A close reason is a string of at most 123 bytes')
  }
}

function tokenAuthenticator(tokens: Readonly<Record<string, string>>): (request: AuthRequest) => Principal | null {
  if (typeof tokens !== 'object' || tokens === null) throw invalidArgument('tokens must map tokens to principal ids')
  const principals = new Map<string, string>()
  for (const [token, id] of Object.entries(tokens)) {
    if (typeof id !== 'string' || id === '') throw invalidArgument('every token must map to a non-empty principal id')
    principals.set(token, id)
  }
  return ({ token }) => {
    const id = token === undefined ? undefined : principals.get(token)
    return id === undefined ? null : { id }
  }
}

function listenOnce(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Both listeners go either way: restart() may call this many times on the same server.
    const onError = (error: Error): void => {
      server.off('listening', onListening)
      reject(error)
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
}

/**
 * Starts the lifeline reference server (`createLifelineServer`) on `127.0.0.1`, port 0 by default, with controls to
 * crash and restart it (keeping or losing sessions and history), close clients with a code, expire sessions and drop
 * history, and a log of the client publishes it applied.
 *
 * @example
 * const server = await createTestServer({ tokens: { 'token-a': 'alice' } })
 * // …connect a client to server.url with token 'token-a', publish…
 * await server.kill()
 * await server.restart()
 * expect(server.applied('chat')).toEqual([{ text: 'hi' }])
 * await server.close()
 */
export async function createTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const {
    port: requestedPort = 0,
    host = '127.0.0.1',
    tokens,
    receivedLimit = 10_000,
    broker: givenBroker,
    onPublished,
    ...passed
  } = options
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw invalidArgument('port must be an integer from 0 to 65535')
  }
  if (!Number.isInteger(receivedLimit) || receivedLimit < 0) throw invalidArgument('receivedLimit must be >= 0')
  if (tokens !== undefined && options.authenticate !== undefined) {
    throw invalidArgument('give either tokens or authenticate, not both')
  }
  const authenticate = tokens === undefined ? options.authenticate : tokenAuthenticator(tokens)
  const path = options.path ?? '/lifeline'

  const received: TestServerPublish[] = []
  const record = (event: PublishedEvent): void => {
    const { channel, id, data, principal, session, position } = event
    received.push({ channel, id, data, principal: principal.id, session, position })
    if (received.length > receivedLimit) received.splice(0, received.length - receivedLimit)
    onPublished?.(event)
  }

  let current: LifelineServer
  // A bad value is reported by createLifelineServer below; the HTTP server just must not throw first.
  const { handshakeTimeoutMs: given } = options
  const handshakeTimeoutMs = Number.isInteger(given) && (given as number) > 0 ? (given as number) : 10_000
  const rawSockets = new Set<Socket>()
  const http = createServer(
    {
      // The same slowloris limits as the reference server's own HTTP server.
      headersTimeout: handshakeTimeoutMs,
      requestTimeout: handshakeTimeoutMs,
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(handshakeTimeoutMs / 4))),
    },
    (request, response) => {
      if (current.handleRequest(request, response)) return
      const body = JSON.stringify({ error: 'not found' })
      response.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length })
      response.end(body)
    },
  )
  http.on('connection', (socket: Socket) => {
    rawSockets.add(socket)
    socket.once('close', () => rawSockets.delete(socket))
  })
  // The lifeline server handles upgrades to its path; attached to a server, it leaves every other one to us.
  http.on('upgrade', (request, socket: Duplex) => {
    if ((request.url ?? '').split('?', 1)[0] === path) return
    socket.on('error', () => socket.destroy())
    writeHttpRejection(socket, { status: 404 })
  })

  const ownsBroker = givenBroker === undefined
  const broker =
    givenBroker ??
    createMemoryBroker({
      ...(options.resume?.windowMs === undefined ? {} : { windowMs: options.resume.windowMs }),
      ...(options.resume?.maxMessages === undefined ? {} : { maxMessages: options.resume.maxMessages }),
      ...(options.resume?.maxBytes === undefined ? {} : { maxBytes: options.resume.maxBytes }),
    })
  const start = (): Promise<LifelineServer> =>
    createLifelineServer({
      ...passed,
      ...(authenticate === undefined ? {} : { authenticate }),
      server: http,
      broker,
      onPublished: record,
    })

  try {
    current = await start()
  } catch (error) {
    if (ownsBroker) await broker.close()
    throw error
  }
  try {
    await listenOnce(http, requestedPort, host)
  } catch (error) {
    await current.close()
    if (ownsBroker) await broker.close()
    throw error
  }
  const port = requestedPort === 0 ? (http.address() as { port: number }).port : requestedPort
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${String(port)}${path}`

  let retiredAccepted = 0
  let closed = false
  let closing: Promise<void> | null = null
  let cancelRetry: (() => void) | null = null
  let operation: Promise<void> = Promise.resolve()

  /** Runs kill and restart one at a time; the caller gets the task's error, the queue only needs it settled. */
  const serial = (task: () => Promise<void>): Promise<void> => {
    const run = operation.then(() => {
      if (closed) throw closedError()
      return task()
    })
    const settled = (): void => undefined
    operation = run.then(settled, settled)
    return run
  }

  const stop = async (): Promise<void> => {
    // Upgraded sockets are among these: every WebSocket dies without a close frame, every handshake with it.
    for (const socket of rawSockets) socket.destroy()
    if (http.listening) await new Promise<void>((resolve) => http.close(() => resolve()))
    // ws reports a destroyed socket closed a few ticks later; poll the count, bounded.
    const deadline = performance.now() + SETTLE_MS
    while (current.stats().connections > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }

  const pause = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cancelRetry = null
        resolve()
      }, RESTART_RETRY_MS)
      cancelRetry = () => {
        clearTimeout(timer)
        cancelRetry = null
        reject(closedError())
      }
    })

  const listenAgain = async (): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await listenOnce(http, port, host)
        return
      } catch (error) {
        if (!isAddressInUse(error) || attempt >= RESTART_ATTEMPTS) {
          throw new TestServerError('TEST_SERVER_RESTART_FAILED', `Cannot listen on ${host}:${String(port)}`, {
            cause: error,
          })
        }
      }
      await pause()
    }
  }

  const connectedSessions = (): string[] =>
    current.connections().flatMap((connection) => (connection.session === null ? [] : [connection.session]))

  return {
    url,
    port,
    get listening() {
      return http.listening
    },
    get server() {
      return current
    },
    broker,
    get connections() {
      return current.stats().connections
    },
    get totalConnections() {
      return retiredAccepted + current.stats().accepted
    },
    get received() {
      return received
    },
    applied(channel) {
      return received.filter((entry) => entry.channel === channel).map((entry) => entry.data)
    },
    clearReceived() {
      received.length = 0
    },
    publish(channel, data) {
      if (closed) return Promise.reject(closedError())
      return current.publish(channel, data)
    },
    closeClients(code, reason = '') {
      assertCloseArguments(code, reason)
      const connections = current.connections()
      for (const connection of connections) connection.close(code, reason)
      return connections.length
    },
    closeClient(selector, code, reason = '') {
      assertCloseArguments(code, reason)
      const { session, principal } = (selector ?? {}) as { session?: unknown; principal?: unknown }
      const bySession = typeof session === 'string'
      if (bySession === (typeof principal === 'string')) {
        throw invalidArgument('closeClient needs either { principal: id } or { session: id }')
      }
      const picked = current
        .connections()
        .filter((connection) => (bySession ? connection.session === session : connection.principal?.id === principal))
      for (const connection of picked) connection.close(code, reason)
      return picked.length
    },
    terminateClients() {
      const connections = current.connections()
      for (const connection of connections) connection.terminate()
      return connections.length
    },
    expireSessions() {
      let count = 0
      for (const session of connectedSessions()) if (current.expireSession(session)) count += 1
      return count
    },
    dropHistory(channel) {
      if (closed) return Promise.reject(closedError())
      return broker.reset(channel)
    },
    kill() {
      return serial(stop)
    },
    restart(restartOptions = {}) {
      return serial(async () => {
        if (http.listening) await stop()
        if (restartOptions.loseHistory === true) await broker.reset()
        if (restartOptions.loseSessions === true) {
          const previous = current
          current = await start()
          retiredAccepted += previous.stats().accepted
          await previous.close()
        }
        // If close() runs meanwhile, it waits for this to settle and then stops listening again.
        await listenAgain()
      })
    },
    close() {
      closing ??= (async () => {
        closed = true
        cancelRetry?.()
        await operation
        await stop()
        await current.close()
        if (ownsBroker) await broker.close()
      })()
      return closing
    },
  }
}
