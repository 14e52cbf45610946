'use client'
import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import {
  eventSource,
  lifelineError,
  safeJsonParse,
  type TransportPlugin,
  type ConnectionStatus,
  type LifelineClient,
  type UrlSource,
  type WebSocketLike,
} from '../core'
import { forgetSharedClients, useWebSocket as useLifeline } from '../react'
import {
  clientOptions,
  clientUrl,
  closeEventOf,
  eventOf,
  messageEventOf,
  ReadyState,
  type Options,
  type WebSocketMessage,
} from './ruw-options'
import { socketIOMessage, type SocketIOMessageData } from './socket-io'

export { ReadyState } from './ruw-options'
export { LifelineError } from '../core'
export type { LifelineClient, LifelineErrorCode } from '../core'
export type { HeartbeatSettings, Options, QueryParams, WebSocketMessage } from './ruw-options'
export type { SocketIOMessageData } from './socket-io'

/** `sendMessage`: sends now when open; otherwise queues it in the outbox when `keep`, else drops it. */
export type SendMessage = (message: WebSocketMessage, keep?: boolean) => void
/** `sendJsonMessage`: `sendMessage(JSON.stringify(value), keep)`, with typed errors for values JSON cannot hold. */
export type SendJsonMessage = <T = unknown>(jsonMessage: T, keep?: boolean) => void

/** What the compat `useWebSocket` returns: react-use-websocket's fields, plus the client underneath. */
export interface WebSocketHook<T = unknown> {
  sendMessage: SendMessage
  sendJsonMessage: SendJsonMessage
  /** The last message kept by `filter`, `null` before the first. Every message renders once unless `batch`. */
  lastMessage: MessageEvent | null
  /** `lastMessage` parsed as JSON (prototype-pollution safe); `{}` when it is not JSON; `null` before the first. */
  lastJsonMessage: T
  /** {@link ReadyState}: -1 before there is a connection (`null` URL, `connect = false`). */
  readyState: ReadyState
  /**
   * The live socket, or `null`: read its fields; `send` and `close` go through the client (`close` does nothing when
   * `share` is on); setting its handlers throws. A new view per call: never keep it.
   */
  getWebSocket: () => WebSocketLike | null
  /**
   * The react-lifeline client underneath (`null` with no connection): give it to `<ConnectionBanner client={…}>`,
   * `<OfflineQueue>`, `useConnection`, or read `client.getSnapshot()` for status, attempts and `lastError`.
   */
  client: LifelineClient | null
}

const rejectAll = () => false

/** Messages waiting for their render; `busy` while one is shown and its commit has not asked for the next. */
interface Pump {
  queue: MessageEvent[]
  busy: boolean
  live: boolean
}

const tasks: Array<() => void> = []
let channel: MessageChannel | null = null

/** Runs `callback` in a macrotask of its own, without setTimeout's clamping (1–4 ms each). */
function nextTask(callback: () => void): void {
  if (typeof MessageChannel !== 'function') {
    setTimeout(callback, 0)
    return
  }
  if (!channel) {
    channel = new MessageChannel()
    channel.port1.onmessage = () => tasks.shift()?.()
    // Node: an idle port must not keep the process alive.
    ;(channel.port1 as { unref?: () => void }).unref?.()
  }
  tasks.push(callback)
  channel.port2.postMessage(null)
}

/** react-use-websocket's value for a message that is not JSON: one shared empty object. */
const UNPARSABLE: object = Object.freeze({})

const readyStates: Record<ConnectionStatus, ReadyState> = {
  idle: ReadyState.CONNECTING,
  connecting: ReadyState.CONNECTING,
  open: ReadyState.OPEN,
  closing: ReadyState.CLOSING,
  reconnecting: ReadyState.CLOSED,
  offline: ReadyState.CLOSED,
  closed: ReadyState.CLOSED,
  failed: ReadyState.CLOSED,
}

/**
 * react-use-websocket's `useWebSocket` on react-lifeline's client: change the import line and the connection heals
 * (jittered backoff, heartbeat, outbox, close-code policy, diagnostics). docs/migrating-from-react-use-websocket.md
 * lists every difference.
 *
 * @example const { sendMessage, lastMessage, readyState } = useWebSocket('wss://example.com/socket')
 */
export function useWebSocket<T = unknown>(
  url: string | UrlSource | null,
  options: Options = {},
  connect = true,
): WebSocketHook<T> {
  // react-use-websocket opens an EventSource when `eventSourceOptions` is given. Here that is `useEventSource`: bringing
  // the event-stream transport into every `useWebSocket` bundle for this option would cost all of them ~1.9 kB gzip.
  if (options.eventSourceOptions) {
    throw lifelineError('NOT_SUPPORTED', 'eventSourceOptions: use useEventSource')
  }
  return useCompat<T>(url, options, connect, undefined)
}

/** The compat hooks' body: `transport` set for `useEventSource`. */
function useCompat<T>(
  url: string | UrlSource | null,
  options: Options & EventSourceOptions,
  connect: boolean,
  transport: TransportPlugin | undefined,
): WebSocketHook<T> {
  const latest = useRef(options)
  latest.current = options
  const target = clientUrl(url, connect, options)
  // An error event on the current link, for retryOnError (reset by the next open).
  const errored = useRef(false)
  const socket = useLifeline(target, {
    ...clientOptions(options, () => errored.current),
    ...(transport && { transport }),
    share: !!options.share,
    // lastMessage is this hook's own (below); the batched one underneath would only cost renders.
    filter: rejectAll,
    onOpen: () => {
      errored.current = false
      latest.current.onOpen?.(eventOf('open'))
    },
    onClose: (close) => latest.current.onClose?.(closeEventOf(close)),
    // A close the client will not follow with a reconnect is recorded as CONNECTION_CLOSED: onClose reports it, and
    // react-use-websocket calls onError for error events only.
    onError: (error) => {
      if (error.code === 'TRANSPORT_ERROR') errored.current = true
      if (error.code !== 'CONNECTION_CLOSED') latest.current.onError?.(Object.assign(eventOf('error'), { error }))
    },
  })
  const { client, status, lastError } = socket

  // Every message renders once, as in react-use-websocket, so an effect on `lastMessage` sees them all: a burst waits
  // in `queue`, and each commit asks for the next message in a task of its own. Not an update in the effect itself,
  // nor react-use-websocket's flushSync per message: React counts those as nested updates, warns after 50 in a row,
  // and past that throws (messages lost).
  const [lastMessage, setLastMessage] = useState<MessageEvent | null>(null)
  const pump = useRef<Pump | null>(null)
  useEffect(() => {
    if (!client) return
    const state: Pump = { queue: [], busy: false, live: true }
    pump.current = state
    const off = client.on('message', (message) => {
      const event = messageEventOf(message)
      const { onMessage, filter, batch, events } = latest.current
      onMessage?.(event)
      // useEventSource's handlers by event type (own keys only: an event may be called `constructor`).
      if (events && Object.prototype.hasOwnProperty.call(events, event.type)) events[event.type]?.(event)
      if (filter && filter(event) !== true) return
      if (state.busy && !batch) return void state.queue.push(event)
      state.busy = !batch
      setLastMessage(event)
    })
    return () => {
      off()
      state.live = false
      state.queue.length = 0
      setLastMessage(null)
    }
  }, [client])
  useEffect(() => {
    const state = pump.current
    if (!state?.busy) return
    // Nothing waiting: this message's commit and effects are done (the app's run in this same flush), so the next
    // message may render at once, as react-use-websocket's does (a test that sends, then reads lastMessage, sees it).
    if (state.queue.length === 0) return void (state.busy = false)
    nextTask(() => {
      if (!state.live) return
      const next = state.queue.shift()
      // A transition, so that what the app's effects set for the previous message (a history) commits first.
      if (next) startTransition(() => setLastMessage(next))
      else state.busy = false
    })
  }, [lastMessage])

  const maxAttempts = client?.maxAttempts
  useEffect(() => {
    if (status === 'failed' && lastError?.code === 'MAX_ATTEMPTS') latest.current.onReconnectStop?.(maxAttempts ?? 0)
  }, [status, lastError, maxAttempts])

  const current = useRef(client)
  useEffect(() => {
    current.current = client
  }, [client])
  const sendMessage = useCallback<SendMessage>((message, keep = true) => {
    const live = current.current
    if (live && (keep || live.getSnapshot().status === 'open')) live.send(message)
  }, [])
  const sendJsonMessage = useCallback<SendJsonMessage>((value, keep = true) => {
    const live = current.current
    if (live && (keep || live.getSnapshot().status === 'open')) live.sendJson(value)
  }, [])
  // The client's read-only view, with react-use-websocket's two actions routed through the client (so the outbox and
  // the close-code policy still apply): `send` sends, `close` closes for good unless the socket is shared (a no-op
  // there, as react-use-websocket protects a shared socket). Setting handlers still throws.
  const getWebSocket = useCallback(() => {
    const live = current.current
    const socket = live?.getWebSocket()
    if (!live || !socket) return null
    return Object.create(socket, {
      send: { value: (data: WebSocketMessage) => live.send(data) },
      close: { value: (code?: number, reason?: string) => latest.current.share || live.close(code, reason) },
    }) as WebSocketLike
  }, [])

  const lastJsonMessage = useMemo(() => {
    if (!lastMessage) return null
    if (typeof lastMessage.data !== 'string') return UNPARSABLE
    try {
      return safeJsonParse(lastMessage.data)
    } catch {
      return UNPARSABLE
    }
  }, [lastMessage]) as T

  // Like react-use-websocket: -1 until this component has had a connection, CLOSED once it gave it up.
  const [used, setUsed] = useState(false)
  if (target !== null && !used) setUsed(true)
  const readyState = target === null ? (used ? ReadyState.CLOSED : ReadyState.UNINSTANTIATED) : readyStates[status]

  return { sendMessage, sendJsonMessage, lastMessage, lastJsonMessage, readyState, getWebSocket, client }
}

// react-use-websocket's import line is `import useWebSocket from 'react-use-websocket'`: the drop-in needs a default.
// eslint-disable-next-line no-restricted-syntax -- the one default export, for the one-line move
export default useWebSocket

/**
 * Forgets the connections shared by `share: true` (those of `url`, or all), so the next component makes a new one;
 * components using one keep it.
 */
export function resetGlobalState(url?: string): void {
  forgetSharedClients(url)
}

/** What the compat `useSocketIO` returns: `useWebSocket`'s fields, with the last socket.io event as the message. */
export interface SocketIOHook<T = unknown> extends Omit<WebSocketHook, 'lastMessage' | 'lastJsonMessage'> {
  /**
   * The last message as `{ type, payload }`; the empty event (`{ type: 'empty', payload: null }`) before the first and
   * for every frame that is not a socket.io event. Every message renders once.
   */
  lastMessage: SocketIOMessageData<T>
  /** The same object as `lastMessage`. */
  lastJsonMessage: SocketIOMessageData<T>
}

/**
 * react-use-websocket's `useSocketIO`: `useWebSocket` with `fromSocketIO: true` (the `/socket.io/` URL, Engine.IO 3,
 * its ping as the heartbeat), every message read as a socket.io event. Send events as frames: `'42["type",payload]'`.
 *
 * @example const { lastMessage, sendMessage } = useSocketIO('https://example.com', { shouldReconnect: () => true })
 */
export function useSocketIO<T = unknown>(
  url: string | UrlSource | null,
  options: Options = {},
  connect = true,
): SocketIOHook<T> {
  const { lastMessage, ...hook } = useCompat(url, { ...options, fromSocketIO: true }, connect, undefined)
  const event = useMemo(() => socketIOMessage<T>(lastMessage?.data), [lastMessage])
  return { ...hook, lastMessage: event, lastJsonMessage: event }
}

/** Options of the compat `useEventSource`: react-use-websocket's, with `withCredentials` and `events`. */
export interface EventSourceOptions extends Omit<Options, 'protocols' | 'heartbeat' | 'fromSocketIO'> {
  /** Send cookies to another origin (`EventSource`'s `withCredentials`). @default false */
  withCredentials?: boolean
  /** Handlers by event type, called for every event of that type, in order. @default undefined */
  events?: Readonly<Record<string, (event: MessageEvent) => void>>
}

/** What the compat `useEventSource` returns: react-use-websocket's fields, plus the client underneath. */
export interface EventSourceHook {
  /** The last event kept by `filter` (any type; `type` and `lastEventId` set), `null` before the first. */
  lastEvent: MessageEvent | null
  readyState: ReadyState
  /** Always `null`: the stream is read with `fetch`, so there is no `EventSource` object to hand out. */
  getEventSource: () => null
  /** The react-lifeline client underneath (`null` with no connection), for the components and `useConnection`. */
  client: LifelineClient | null
}

/**
 * react-use-websocket's `useEventSource` on react-lifeline's event-stream transport (`eventSource()`): the same
 * healing as a socket (jittered backoff under `reconnectAttempts`/`reconnectInterval`, offline and visibility, the
 * HTTP status of a refusal in `lastError`, `Last-Event-ID` on every reconnect), and every event renders once.
 *
 * @example const { lastEvent, readyState } = useEventSource('/live/events?ch=news', { events: { update: show } })
 */
export function useEventSource(
  url: string | UrlSource | null,
  options: EventSourceOptions = {},
  connect = true,
): EventSourceHook {
  const { withCredentials = false } = options
  const transport = useMemo(() => eventSource({ withCredentials }), [withCredentials])
  const { lastMessage, readyState, client } = useCompat(url, options, connect, transport)
  return { lastEvent: lastMessage, readyState, getEventSource, client }
}

const getEventSource = () => null
