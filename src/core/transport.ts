import { lifelineError, type LifelineError } from './errors'
import type { WebSocketConstructor, WebSocketLike } from './environment'
import type { InboundData, OutboundData, TransportKind } from './types'

/** What a transport reports. Never called after `drop()`. */
export interface TransportHandlers {
  open(): void
  /** A frame; an event stream passes its event's type and id too. */
  message(data: InboundData, event?: { readonly type: string; readonly lastEventId: string }): void
  close(code: number, reason: string, wasClean: boolean): void
  error(error: LifelineError): void
  /** The transport was refused for good (an event stream answered 403, 404, 204): no retry; status `failed`. */
  fail?(error: LifelineError): void
  /** Whether the server could resume from where the last transport left off (an event stream's `lifeline:subscribed`). */
  resumed?(resumed: boolean): void
}

/** A frame pipe: WebSocket, HTTP long-poll, or a receive-only event stream (`send` does nothing). */
export interface Transport {
  readonly kind: TransportKind
  send(data: OutboundData): void
  /** Starts a close handshake; `close` is reported when it completes. */
  close(code: number, reason: string): void
  /** Abandons the transport at once: no more events, socket terminated without waiting for the peer. */
  drop(): void
  /** Bytes written but not yet handed to the network. */
  buffered(): number
  /** The WebSocket underneath (WebSocket transport only), for `client.getWebSocket()`. */
  readonly socket?: WebSocketLike
}

/** Settings of the WebSocket transport. */
export interface WebSocketTransportConfig {
  url: string
  protocols: string | string[] | undefined
  WebSocket: WebSocketConstructor
  binaryType: 'arraybuffer' | 'blob'
}

const noop = () => undefined

/** Opens a WebSocket. Throws what the constructor throws (the caller turns it into a typed error). */
export function createWebSocketTransport(config: WebSocketTransportConfig, handlers: TransportHandlers): Transport {
  const socket: WebSocketLike =
    config.protocols === undefined
      ? new config.WebSocket(config.url)
      : new config.WebSocket(config.url, config.protocols)
  socket.binaryType = config.binaryType
  let live = true
  socket.onopen = () => live && handlers.open()
  socket.onmessage = (event) => live && handlers.message(event.data as InboundData)
  socket.onerror = () => live && handlers.error(lifelineError('TRANSPORT_ERROR'))
  socket.onclose = (event) => {
    if (!live) return
    live = false
    handlers.close(event.code, event.reason, event.wasClean)
  }
  return {
    kind: 'websocket',
    socket,
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    drop() {
      live = false
      // Keep a no-op error handler: `ws` in Node throws an unhandled 'error' if none is attached while aborting.
      socket.onopen = socket.onmessage = socket.onclose = noop
      socket.onerror = noop
      if (socket.terminate) socket.terminate()
      else if (socket.readyState < 2) socket.close()
    },
    buffered: () => socket.bufferedAmount,
  }
}
