import {
  type BackoffContext,
  type CloseInfo,
  type InboundMessage,
  type HeartbeatOptions,
  type InboundData,
  type LifelineError,
  type OutboundData,
  type UrlSource,
} from '../core'
import type { ManagedClientOptions } from '../react'
import { socketIOUrl } from './socket-io'

/** react-use-websocket's ready states: the WebSocket's numbers, plus -1 before there is a socket. */
export const ReadyState = {
  UNINSTANTIATED: -1,
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const

/** One of {@link ReadyState}'s numbers. */
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState]

/** What `sendMessage` accepts. */
export type WebSocketMessage = OutboundData

/** Query parameters appended to the URL. */
export interface QueryParams {
  [key: string]: string | number
}

/** react-use-websocket's heartbeat settings. */
export interface HeartbeatSettings {
  /** The ping sent every `interval`. @default 'ping' */
  message?: string
  /** The server's answer; it never becomes `lastMessage`. @default undefined (no frame is taken for the answer) */
  returnMessage?: string
  /** Milliseconds without any inbound frame after a ping before the link is replaced. @default 60000 */
  timeout?: number
  /** Milliseconds between pings. @default 25000 */
  interval?: number
}

/** Options of the compat `useWebSocket`: react-use-websocket's, mapped onto the react-lifeline client. */
export interface Options {
  /** Share one connection with every component passing the same URL and option values. @default false */
  share?: boolean
  /**
   * Asked after every close the client did not ask for: `true` reconnects. Without it nothing reconnects (unless
   * `retryOnError`). Always the latest function. @default undefined (no reconnect)
   */
  shouldReconnect?: (event: CloseEvent) => boolean
  /** Reconnects allowed in a row before giving up (`onReconnectStop`). @default 20 */
  reconnectAttempts?: number
  /**
   * Wait before a reconnect, ms: a number is the longest wait (each wait is drawn from its upper half, so clients
   * dropped together do not return together); a function of the attempt (0 for the first) is used as is.
   * @default 5000
   */
  reconnectInterval?: number | ((lastAttemptNumber: number) => number)
  /** Also reconnect after a close that followed an error (one that was not clean). @default false */
  retryOnError?: boolean
  /** The connection opened. @default undefined */
  onOpen?: (event: Event) => void
  /** The socket closed. @default undefined */
  onClose?: (event: CloseEvent) => void
  /** Every message, in order, before `filter`. @default undefined */
  onMessage?: (event: MessageEvent) => void
  /** An error was recorded; `event.error` is the typed `LifelineError`. @default undefined */
  onError?: (event: Event & { error?: LifelineError }) => void
  /** `reconnectAttempts` were spent. @default undefined */
  onReconnectStop?: (numAttempts: number) => void
  /** Which messages become `lastMessage` (`true` keeps one). Always the latest function. @default every message */
  filter?: (message: MessageEvent) => boolean
  /** Appended to the URL as `?key=value&…` (after any query it has). @default undefined */
  queryParams?: QueryParams
  /** WebSocket subprotocols. @default undefined */
  protocols?: string | string[]
  /** `true` for the defaults, or settings. @default false */
  heartbeat?: boolean | HeartbeatSettings
  /** Accepted and ignored: the client never asserts what kind of socket it has. @default false */
  skipAssert?: boolean
  /**
   * A socket.io server (Engine.IO 3, `allowEIO3: true` on socket.io 4): the URL becomes its `/socket.io/` one and the
   * heartbeat is Engine.IO's (`'2'` every 25 s, `'3'` the answer, 20 s timeout; `heartbeat`'s `interval` and `timeout`
   * tune it). Messages stay raw frames; `useSocketIO` parses them. @default false
   */
  fromSocketIO?: boolean
  /**
   * Not supported: react-use-websocket's `useWebSocket` opens an `EventSource` when it is given; here `useWebSocket`
   * throws `NOT_SUPPORTED` naming `useEventSource(url, { withCredentials })`, which reads the stream. @default undefined
   */
  eventSourceOptions?: EventSourceInit
  /**
   * Render once per message (`false`, react-use-websocket's behaviour: a `lastMessage` effect sees every message), or
   * let React batch a burst into fewer renders (`true`: `lastMessage` may skip messages; `onMessage` sees all).
   * @default false
   */
  batch?: boolean
  /**
   * react-lifeline's own client options (`environment`, `outbox`, `getToken`, `logger`, `closeCodes`, …), for
   * moving to its API a piece at a time. The fields above win over the ones they map to. @default {}
   */
  lifeline?: ManagedClientOptions
}

const DEFAULT_RECONNECT_ATTEMPTS = 20
const DEFAULT_RECONNECT_INTERVAL_MS = 5000
const HOUR = 3_600_000

/** `url` with `params` appended to its query string (react-use-websocket's `queryParams`). */
export function withQueryParams(url: string, params: QueryParams | undefined): string {
  if (!params || Object.keys(params).length === 0) return url
  const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)])).toString()
  return `${url}${url.includes('?') ? (url.endsWith('?') || url.endsWith('&') ? '' : '&') : '?'}${query}`
}

/**
 * The URL the client is given: `null` for none; the socket.io one with `fromSocketIO`, then the `queryParams`; a URL
 * function is wrapped so that its result gets both.
 */
export function clientUrl(
  url: string | UrlSource | null,
  connect: boolean,
  options: Pick<Options, 'queryParams' | 'fromSocketIO'>,
): string | UrlSource | null {
  if (url === null || !connect) return null
  const final = (resolved: string) =>
    withQueryParams(options.fromSocketIO ? socketIOUrl(resolved) : resolved, options.queryParams)
  return typeof url === 'string' ? final(url) : async () => final(await url())
}

/** A `CloseEvent` for the app's callbacks (a real one where the platform has the constructor). */
export function closeEventOf(close: Pick<CloseInfo, 'code' | 'reason' | 'wasClean'>): CloseEvent {
  const init = { code: close.code, reason: close.reason, wasClean: close.wasClean }
  if (typeof CloseEvent === 'function') return new CloseEvent('close', init)
  return Object.assign(eventOf('close'), init) as unknown as CloseEvent
}

/** An `Event` of `type` (a plain `{ type }` where the platform has no `Event`). */
export function eventOf(type: string): Event {
  return typeof Event === 'function' ? new Event(type) : ({ type } as unknown as Event)
}

/**
 * A `MessageEvent` for a message (a plain object where the platform has no constructor): `message` with its `data`,
 * or, from an event stream, the event's own type and `lastEventId`.
 */
export function messageEventOf({ data, type = 'message', lastEventId = '' }: InboundMessage): MessageEvent {
  if (typeof MessageEvent === 'function') return new MessageEvent(type, { data, lastEventId })
  return { type, data, lastEventId } as unknown as MessageEvent
}

const neverPong = () => false

function heartbeatOf(setting: Options['heartbeat']): HeartbeatOptions | undefined {
  if (!setting) return undefined
  const { message = 'ping', returnMessage, timeout = 60_000, interval = 25_000 } = setting === true ? {} : setting
  return {
    message,
    intervalMs: interval,
    timeoutMs: timeout,
    // Without a returnMessage every frame is delivered, as react-use-websocket does (any frame still proves the link).
    isPong: returnMessage === undefined ? neverPong : (data: InboundData) => data === returnMessage,
  }
}

/**
 * The client options for react-use-websocket's: its defaults where they differ from ours (no reconnect unless
 * `shouldReconnect` or `retryOnError` asks, 20 attempts, 5 s), every other healing part of the client kept.
 */
export function clientOptions(options: Options, sawError: () => boolean = () => false): ManagedClientOptions {
  const { shouldReconnect, retryOnError, reconnectInterval = DEFAULT_RECONNECT_INTERVAL_MS } = options
  const interval =
    typeof reconnectInterval === 'function'
      ? {
          backoff: ({ attempt }: BackoffContext) => reconnectInterval(attempt - 1),
          minDelayMs: 1,
          maxDelayMs: HOUR,
        }
      : {
          backoff: 'full-jitter' as const,
          minDelayMs: Math.max(1, reconnectInterval / 2),
          maxDelayMs: reconnectInterval,
        }
  const { heartbeat: setting, fromSocketIO } = options
  // Engine.IO 3: the client pings '2', the server answers '3'; 20 s is socket.io's default pingTimeout.
  const heartbeat = heartbeatOf(
    fromSocketIO
      ? { timeout: 20_000, ...(typeof setting === 'object' && setting), message: '2', returnMessage: '3' }
      : setting,
  )
  return {
    ...options.lifeline,
    ...interval,
    maxAttempts: options.reconnectAttempts ?? DEFAULT_RECONNECT_ATTEMPTS,
    // Named so the managed client's "always the latest function" forwarding reaches the app's latest callbacks.
    // retryOnError: after a close that followed an error event (browsers make that close unclean; a mock server may not).
    shouldReconnect: (close) =>
      shouldReconnect?.(closeEventOf(close)) === true || (!!retryOnError && (!close.wasClean || sawError())),
    ...(options.protocols !== undefined && { protocols: options.protocols }),
    ...(heartbeat && { heartbeat }),
  }
}
