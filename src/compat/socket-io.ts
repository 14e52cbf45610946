import { safeJsonParse } from '../core'

/** What react-use-websocket's `useSocketIO` gives as `lastMessage`: a socket.io event's name and first argument. */
export interface SocketIOMessageData<T = unknown> {
  /** The event name (`socket.emit(type, payload)`), or `'empty'` for a frame that is not an event. */
  type: string
  /** The event's first argument; `null` for the empty event. */
  payload: T | null
}

/** Engine.IO 3 over a WebSocket, as react-use-websocket connects (`allowEIO3: true` on a socket.io 4 server). */
const SOCKET_IO_PATH = '/socket.io/?EIO=3&transport=websocket'

/** One shared value for every frame that is not an event (the connect packet, a malformed frame, binary data). */
const EMPTY_EVENT: SocketIOMessageData<never> = /* @__PURE__ */ Object.freeze({ type: 'empty', payload: null })

/**
 * react-use-websocket's `parseSocketIOUrl`: the scheme becomes `ws`/`wss` (secure for `https`/`wss`), one trailing
 * slash goes and the Engine.IO path follows. `''` is the path alone, resolved by the client against the page.
 */
export function socketIOUrl(url: string): string {
  if (!url) return SOCKET_IO_PATH
  const host = url.replace(/^(https?|wss?)(:\/\/)?/, '').replace(/\/$/, '')
  return `${/^(https|wss)/.test(url) ? 'wss' : 'ws'}://${host}${SOCKET_IO_PATH}`
}

/**
 * `{ type, payload }` of a socket.io event frame (`42["type",payload]`, as react-use-websocket reads it: the JSON array
 * in the frame), or the empty event. Never throws: a malformed or too deeply nested frame is the empty event.
 */
export function socketIOMessage<T = unknown>(data: unknown): SocketIOMessageData<T> {
  const start = typeof data === 'string' ? data.indexOf('[') : -1
  if (start < 0) return EMPTY_EVENT
  let event: unknown
  try {
    event = safeJsonParse((data as string).slice(start, (data as string).lastIndexOf(']') + 1))
  } catch {
    return EMPTY_EVENT
  }
  return Array.isArray(event) && event.length > 1 && typeof event[0] === 'string'
    ? { type: event[0], payload: event[1] as T }
    : EMPTY_EVENT
}
