import { createServer } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { RawData, WebSocket } from 'ws'
import { isHttpStatus, writeHttpRejection } from './http-rejection'
import { listen } from './listen'

/** Stable codes of {@link EchoServerError}. */
export type EchoServerErrorCode = 'ECHO_SERVER_INVALID_ARGUMENT' | 'ECHO_SERVER_CLOSED' | 'ECHO_SERVER_RESTART_FAILED'

/** Thrown for a bad argument, a use after `close()`, or a port that stayed busy on `restart()`. */
export class EchoServerError extends Error {
  override readonly name = 'EchoServerError'
  /** Stable machine-readable code. */
  readonly code: EchoServerErrorCode

  constructor(code: EchoServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/** A text message the server answers with another text instead of echoing it. */
export interface EchoServerPong {
  /** Text that triggers the answer. */
  ping: string
  /** Text sent back. */
  pong: string
}

/** Options of {@link createEchoServer}. */
export interface EchoServerOptions {
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port to listen on; 0 picks a free one (kept across `kill()`/`restart()`).
   * @default 0
   */
  port?: number
  /**
   * Only upgrades to this exact pathname are accepted (others get 404); undefined accepts any path.
   * @default undefined
   */
  path?: string
  /**
   * Largest message accepted, in bytes; a bigger one closes the connection with 1009.
   * @default 65536
   */
  maxPayload?: number
  /**
   * Echo every message back with its own type (text or binary).
   * @default true
   */
  echo?: boolean
  /**
   * Text message answered with another text instead of its echo; false disables it.
   * @default { ping: 'ping', pong: 'pong' }
   */
  pong?: EchoServerPong | false
  /**
   * Called for every upgrade request before the handshake; return an HTTP status to refuse it with that status.
   * @default undefined
   */
  handshake?: (request: IncomingMessage) => number | void
  /**
   * How many received messages `received` keeps (the most recent ones).
   * @default 10000
   */
  receivedLimit?: number
}

/** One message the server received. */
export interface EchoServerMessage {
  /** Text as a string, binary as a Buffer. */
  readonly data: string | Buffer
  /** Whether it came as a binary frame. */
  readonly isBinary: boolean
  /** {@link EchoServerConnection.id} of the sender. */
  readonly connectionId: number
}

/** A connection accepted by the server. */
export interface EchoServerConnection {
  /** 1 for the first connection since start, then increasing. */
  readonly id: number
  /** The server side `ws` socket. */
  readonly socket: WebSocket
  /** The upgrade request. */
  readonly request: IncomingMessage
}

/** A controllable `ws` echo server for tests and the Storybook playground. Node only. */
export interface EchoServer {
  /** `ws://host:port` plus `path` when one was given. */
  readonly url: string
  /** Port it listens on; the same after `kill()` and `restart()`. */
  readonly port: number
  /** Whether it is accepting connections (false after `kill()` until `restart()`). */
  readonly listening: boolean
  /** Open WebSocket connections. */
  readonly connections: number
  /** Connections accepted since start. */
  readonly totalConnections: number
  /** The most recent messages received, oldest first (at most `receivedLimit`). */
  readonly received: ReadonlyArray<EchoServerMessage>
  /** The most recent socket errors (at most 100), e.g. the one behind a 1009 close. */
  readonly errors: ReadonlyArray<Error>
  /** Sends to every open connection (string as text, bytes as binary); returns how many it was sent to. */
  send(data: string | Uint8Array): number
  /** Starts the close handshake on every connection with this code and reason. */
  closeAll(code: number, reason?: string): void
  /** Destroys every connection's socket without a close frame. */
  terminateAll(): void
  /** Terminates every connection and stops listening; the port is kept for `restart()`. */
  kill(): Promise<void>
  /** Listens again on the same port, retrying briefly while it is still in use. */
  restart(): Promise<void>
  /** Refuses the next `count` (default 1) upgrades with `status`; takes precedence over `rejectAll`. */
  rejectNext(status: number, count?: number): void
  /** Refuses every upgrade with `status` until called with null. */
  rejectAll(status: number | null): void
  /** Calls `listener` for each accepted connection; returns the unsubscribe. */
  onConnection(listener: (connection: EchoServerConnection) => void): () => void
  /** Empties `received`. */
  clearReceived(): void
  /** Terminates everything and stops listening for good, leaving no sockets or timers. Idempotent. */
  close(): Promise<void>
}

const DEFAULT_PONG: EchoServerPong = { ping: 'ping', pong: 'pong' }
const ERRORS_LIMIT = 100
const RESTART_ATTEMPTS = 10
const RESTART_RETRY_MS = 50

function invalidArgument(message: string): EchoServerError {
  return new EchoServerError('ECHO_SERVER_INVALID_ARGUMENT', message)
}

function isCloseCode(code: number): boolean {
  // RFC 6455 §7.4: 1004–1006 and 1015 are never sent on the wire; 1016–2999 are unassigned.
  const assigned = code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006
  return Number.isInteger(code) && (assigned || (code >= 3000 && code <= 4999))
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
}

/**
 * Starts a `ws` echo server on `127.0.0.1` (port 0 by default) that can be killed, restarted on the same port,
 * told to close with a code, or to refuse upgrades with an HTTP status.
 *
 * @example
 * const server = await createEchoServer();
 * const socket = new WebSocket(server.url);
 * server.closeAll(4001, 'token expired');
 */
export async function createEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const host = options.host ?? '127.0.0.1'
  const pong = options.pong ?? DEFAULT_PONG
  const echo = options.echo ?? true
  const receivedLimit = options.receivedLimit ?? 10_000
  if (!Number.isInteger(receivedLimit) || receivedLimit < 0) throw invalidArgument('receivedLimit must be >= 0')

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: options.maxPayload ?? 64 * 1024,
  })
  const sockets = new Set<WebSocket>()
  const rawSockets = new Set<Socket>()
  const listeners = new Set<(connection: EchoServerConnection) => void>()
  const received: EchoServerMessage[] = []
  const errors: Error[] = []
  let totalConnections = 0
  let rejectNextStatus: number | null = null
  let rejectNextCount = 0
  let rejectAllStatus: number | null = null
  let closed = false
  let closing: Promise<void> | null = null
  let retryTimer: NodeJS.Timeout | null = null
  let cancelRetry: ((error: Error) => void) | null = null

  const recordError = (error: Error): void => {
    errors.push(error)
    if (errors.length > ERRORS_LIMIT) errors.splice(0, errors.length - ERRORS_LIMIT)
  }

  const accept = (socket: WebSocket, request: IncomingMessage): void => {
    totalConnections += 1
    const id = totalConnections
    sockets.add(socket)
    socket.on('error', recordError)
    socket.on('close', () => sockets.delete(socket))
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      const bytes = toBuffer(raw)
      const data = isBinary ? bytes : bytes.toString('utf8')
      received.push({ data, isBinary, connectionId: id })
      if (received.length > receivedLimit) received.splice(0, received.length - receivedLimit)
      if (pong !== false && data === pong.ping) socket.send(pong.pong)
      else if (echo) socket.send(bytes, { binary: isBinary })
    })
    for (const listener of [...listeners]) listener({ id, socket, request })
  }

  const rejectionFor = (request: IncomingMessage): number | null => {
    if (options.path !== undefined && new URL(request.url ?? '/', 'http://localhost').pathname !== options.path) {
      return 404
    }
    if (rejectNextCount > 0 && rejectNextStatus !== null) {
      rejectNextCount -= 1
      return rejectNextStatus
    }
    if (rejectAllStatus !== null) return rejectAllStatus
    try {
      const status = options.handshake?.(request)
      return typeof status === 'number' ? status : null
    } catch (error) {
      recordError(error instanceof Error ? error : new Error(String(error)))
      return 500
    }
  }

  const server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' })
    response.end('Upgrade Required')
  })
  server.on('connection', (socket: Socket) => {
    rawSockets.add(socket)
    socket.once('close', () => rawSockets.delete(socket))
  })
  server.on('clientError', (error: Error, socket: Duplex) => {
    recordError(error)
    socket.destroy()
  })
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', recordError)
    const status = rejectionFor(request)
    if (status !== null) {
      writeHttpRejection(socket, { status })
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, request))
  })
  server.on('error', recordError)

  await listen(server, options.port ?? 0, host)
  const port = (server.address() as AddressInfo).port
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${String(port)}${options.path ?? ''}`

  const terminateAll = (): void => {
    for (const socket of sockets) socket.terminate()
  }

  const stopListening = async (): Promise<void> => {
    // ws emits 'close' a tick after the socket is gone, so wait for it: `connections` is 0 once this resolves.
    const closed = [...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())))
    terminateAll()
    for (const socket of rawSockets) socket.destroy()
    const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined
    await Promise.all([...closed, stopped])
  }

  const waitForRetry = (): Promise<void> =>
    new Promise((resolve, reject) => {
      cancelRetry = reject
      retryTimer = setTimeout(() => {
        retryTimer = null
        cancelRetry = null
        resolve()
      }, RESTART_RETRY_MS)
    })

  const assertStatus = (status: number): void => {
    if (!isHttpStatus(status)) throw invalidArgument(`Not an HTTP status: ${String(status)}`)
  }

  return {
    url,
    port,
    get listening() {
      return server.listening
    },
    get connections() {
      return sockets.size
    },
    get totalConnections() {
      return totalConnections
    },
    get received() {
      return received
    },
    get errors() {
      return errors
    },
    send(data) {
      let count = 0
      for (const socket of sockets) {
        if (socket.readyState !== socket.OPEN) continue
        socket.send(data, { binary: typeof data !== 'string' })
        count += 1
      }
      return count
    },
    closeAll(code, reason = '') {
      if (!isCloseCode(code)) throw invalidArgument(`Not a close code that can be sent: ${String(code)}`)
      if (Buffer.byteLength(reason) > 123) throw invalidArgument('A close reason is at most 123 bytes')
      for (const socket of sockets) socket.close(code, reason)
    },
    terminateAll,
    kill: stopListening,
    async restart() {
      for (let attempt = 1; ; attempt += 1) {
        if (closed) throw new EchoServerError('ECHO_SERVER_CLOSED', 'The echo server was closed')
        if (server.listening) return
        try {
          await listen(server, port, host)
          // close() may have run while the listen was pending.
          if (closed) await stopListening()
          return
        } catch (error) {
          if (!isAddressInUse(error) || attempt >= RESTART_ATTEMPTS) {
            throw new EchoServerError('ECHO_SERVER_RESTART_FAILED', `Cannot listen on ${host}:${String(port)}`, {
              cause: error,
            })
          }
        }
        await waitForRetry()
      }
    },
    rejectNext(status, count = 1) {
      assertStatus(status)
      if (!Number.isInteger(count) || count < 0) throw invalidArgument('count must be a non-negative integer')
      rejectNextStatus = status
      rejectNextCount = count
    },
    rejectAll(status) {
      if (status !== null) assertStatus(status)
      rejectAllStatus = status
    },
    onConnection(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    clearReceived() {
      received.length = 0
    },
    close() {
      closing ??= (async () => {
        closed = true
        if (retryTimer !== null) clearTimeout(retryTimer)
        retryTimer = null
        cancelRetry?.(new EchoServerError('ECHO_SERVER_CLOSED', 'The echo server was closed'))
        cancelRetry = null
        listeners.clear()
        await stopListening()
        await new Promise<void>((resolve) => wss.close(() => resolve()))
      })()
      return closing
    },
  }
}
