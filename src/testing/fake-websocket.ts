import type { WebSocketConstructor, WebSocketLike } from '../core'

/** Stable codes of {@link FakeWebSocketError}. */
export type FakeWebSocketErrorCode = 'NO_SOCKET' | 'NOT_CONNECTING' | 'NOT_OPEN' | 'CLOSED'

/** Raised by a fake socket driven in an order a real server could not produce (a message before the open, …). */
export class FakeWebSocketError extends Error {
  override readonly name = 'FakeWebSocketError'
  /** Stable machine-readable code. */
  readonly code: FakeWebSocketErrorCode

  constructor(code: FakeWebSocketErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** The `welcome` fields {@link FakeSocket.serverWelcome} sends; each defaults to what the reference server sends. */
export interface FakeWelcome {
  /** Session id. @default 's-1' */
  session?: string | undefined
  /** Whether the session was resumed. @default false */
  resumed?: boolean | undefined
  /** Heartbeat interval. @default 25_000 */
  heartbeatMs?: number | undefined
  /** Largest frame the server takes. @default 65_536 */
  maxMessageBytes?: number | undefined
  /** How long the server keeps a dropped session. @default 120_000 */
  resumeWindowMs?: number | undefined
}

/** A frame the client sent, as {@link FakeSocket.frames} types it by default (a lifeline protocol frame). */
export interface FakeFrame {
  /** The frame type (`hello`, `pub`, `sub`, …). */
  type: string
  /** The channel, on channel frames. */
  ch?: string
  /** The message id, on `pub` frames. */
  id?: string
  /** The payload, on `pub` frames. */
  data?: unknown
  /** Any other field. */
  [field: string]: unknown
}

/** A `close()` call the client made on a {@link FakeSocket}. */
export interface FakeCloseCall {
  /** The code passed, if any. */
  code: number | undefined
  /** The reason passed, if any. */
  reason: string | undefined
}

/**
 * One socket the client opened: the client sees a WebSocket (`send`, `close`, the `on…` handlers); the test plays
 * the server with the `server…` methods and reads what the client did.
 */
export interface FakeSocket extends WebSocketLike {
  /** The URL the client connected to. */
  readonly url: string
  /** The subprotocols the client asked for. */
  readonly protocols: string | string[] | undefined
  /** Every `send()` the client made, oldest first, as given. */
  readonly sent: readonly unknown[]
  /** Every `close()` the client made. */
  readonly closeCalls: readonly FakeCloseCall[]
  /** What the client sent, JSON frames parsed (other data as it is). */
  frames<T = FakeFrame>(): T[]
  /** The server accepts the connection: `readyState` becomes OPEN (1) and `onopen` fires. */
  serverOpen(): void
  /** Lifeline protocol: opens if still connecting, then answers with a `welcome` frame. */
  serverWelcome(welcome?: FakeWelcome): void
  /** A frame from the server: strings, `ArrayBuffer`s, typed arrays and `Blob`s as they are, anything else as JSON. */
  serverMessage(data: unknown): void
  /** The connection ends: `readyState` becomes CLOSED (3) and `onclose` fires with `code`, `reason` and `wasClean`. */
  serverClose(code: number, reason?: string, wasClean?: boolean): void
  /** A network error: `onerror` fires, then the 1006 close a browser reports after one. */
  serverError(): void
}

/** A WebSocket constructor for `environment.WebSocket`, and the controls of the sockets the client makes with it. */
export interface FakeWebSocket {
  /** Pass as `environment.WebSocket`: every `new` makes a {@link FakeSocket}, CONNECTING until the test opens it. */
  readonly WebSocket: WebSocketConstructor
  /** Every socket the client opened, oldest first. */
  readonly sockets: readonly FakeSocket[]
  /** The newest socket. Throws `NO_SOCKET` when the client has opened none. */
  last(): FakeSocket
  /** Sockets CONNECTING or OPEN right now (a client keeps at most one). */
  live(): FakeSocket[]
  /** The newest socket's {@link FakeSocket.serverOpen}. */
  open(): void
  /** The newest socket's {@link FakeSocket.serverWelcome}. */
  welcome(welcome?: FakeWelcome): void
  /** The newest socket's {@link FakeSocket.serverMessage}. */
  message(data: unknown): void
  /** The newest socket's {@link FakeSocket.serverClose}: `1006` (the default) is an outage, not clean. */
  close(code?: number, reason?: string): void
  /** The newest socket's {@link FakeSocket.serverError}. */
  error(): void
  /** Everything the client sent over all its sockets, oldest first. */
  sent(): unknown[]
  /** Forgets the sockets made so far (for a fake shared by several tests). */
  reset(): void
}

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3

function isRaw(data: unknown): boolean {
  if (typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return true
  return typeof Blob !== 'undefined' && data instanceof Blob
}

function parsed<T>(data: unknown): T {
  if (typeof data !== 'string') return data as T
  try {
    return JSON.parse(data) as T
  } catch (error) {
    if (error instanceof SyntaxError) return data as T
    throw error
  }
}

function makeSocket(url: string, protocols: string | string[] | undefined): FakeSocket {
  const sent: unknown[] = []
  const closeCalls: FakeCloseCall[] = []
  let readyState = CONNECTING
  const ended = (action: string) => {
    if (readyState === CLOSED) throw new FakeWebSocketError('CLOSED', `${action} on a closed socket`)
  }
  const socket: FakeSocket = {
    url,
    protocols,
    sent,
    closeCalls,
    get readyState() {
      return readyState
    },
    bufferedAmount: 0,
    binaryType: 'blob',
    protocol: '',
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send(data) {
      // As a browser does: an error while connecting, silently dropped once closing.
      if (readyState === CONNECTING) throw new FakeWebSocketError('NOT_OPEN', 'send() while CONNECTING')
      if (readyState === OPEN) sent.push(data)
    },
    close(code, reason) {
      closeCalls.push({ code, reason })
      if (readyState < CLOSING) readyState = CLOSING
    },
    frames: <T>() => sent.map((data) => parsed<T>(data)),
    serverOpen() {
      if (readyState !== CONNECTING) {
        throw new FakeWebSocketError('NOT_CONNECTING', `serverOpen() on a socket in readyState ${String(readyState)}`)
      }
      readyState = OPEN
      socket.onopen?.({ type: 'open' })
    },
    serverWelcome(welcome = {}) {
      if (readyState === CONNECTING) socket.serverOpen()
      socket.serverMessage({
        type: 'welcome',
        session: welcome.session ?? 's-1',
        resumed: welcome.resumed ?? false,
        heartbeatMs: welcome.heartbeatMs ?? 25_000,
        maxMessageBytes: welcome.maxMessageBytes ?? 65_536,
        resumeWindowMs: welcome.resumeWindowMs ?? 120_000,
      })
    },
    serverMessage(data) {
      ended('serverMessage()')
      if (readyState === CONNECTING) throw new FakeWebSocketError('NOT_OPEN', 'serverMessage() before serverOpen()')
      socket.onmessage?.({ data: isRaw(data) ? data : JSON.stringify(data) })
    },
    serverClose(code, reason = '', wasClean = code !== 1006) {
      ended('serverClose()')
      readyState = CLOSED
      socket.onclose?.({ code, reason, wasClean })
    },
    serverError() {
      ended('serverError()')
      readyState = CLOSED
      socket.onerror?.({ type: 'error' })
      socket.onclose?.({ code: 1006, reason: '', wasClean: false })
    },
  }
  return socket
}

/**
 * A fake WebSocket for unit and component tests: no server, no network, no `ws`. Works in Node, jsdom and browsers.
 * @example
 * const fake = createFakeWebSocket()
 * const client = createLifeline({ url: 'wss://example.test', environment: { WebSocket: fake.WebSocket } })
 * client.connect()
 * fake.open() // connected
 * fake.close(1006) // an outage: the client schedules a retry
 */
export function createFakeWebSocket(): FakeWebSocket {
  const sockets: FakeSocket[] = []
  function last(): FakeSocket {
    const socket = sockets.at(-1)
    if (!socket) throw new FakeWebSocketError('NO_SOCKET', 'the client has opened no socket (did it connect()?)')
    return socket
  }
  const WebSocket = function FakeWebSocketConstructor(url: string, protocols?: string | string[]) {
    const socket = makeSocket(url, protocols)
    sockets.push(socket)
    return socket
  } as unknown as WebSocketConstructor
  return {
    WebSocket,
    sockets,
    last,
    live: () => sockets.filter((socket) => socket.readyState <= OPEN),
    open: () => last().serverOpen(),
    welcome: (welcome) => last().serverWelcome(welcome),
    message: (data) => last().serverMessage(data),
    close: (code = 1006, reason) => last().serverClose(code, reason),
    error: () => last().serverError(),
    sent: () => sockets.flatMap((socket) => socket.sent),
    reset: () => void sockets.splice(0),
  }
}
