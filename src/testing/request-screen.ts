/** What a fault proxy does with a client's request head before forwarding: answer it itself, or screen upgrades. */
import type { Socket } from 'node:net'
import type { WebSocketBlock } from './fault-modes'
import { isUpgradeRequest, MAX_REQUEST_HEAD_BYTES, rewriteHead, splitHead } from './http-head'
import { writeHttpRejection } from './http-rejection'
import type { HttpRejection } from './http-rejection'

/** Waits for the request head, then answers `HTTP/1.1 <status>` with `Connection: close` in place of the target. */
export function answerWithStatus(socket: Socket, rejection: HttpRejection): void {
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

/** Options of {@link screenUpgrade}. */
export interface ScreenUpgradeOptions {
  /** The new client connection, not yet forwarded. */
  readonly client: Socket
  /** How to refuse an upgrade request; null lets it through untouched. */
  readonly block: WebSocketBlock | null
  /** Forwards the client, paused, its request head put back to be sent first. */
  readonly forward: (client: Socket) => void
  /** Counts an upgrade refused. */
  readonly onBlocked: () => void
}

/**
 * Reads the request head, then refuses it if it is an upgrade (as `block` says) or forwards it with
 * `Connection: close`. A head that never ends within the size limit is forwarded as is.
 */
export function screenUpgrade({ client, block, forward, onBlocked }: ScreenUpgradeOptions): void {
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
    if (upgrade && block === null) {
      client.pause()
      client.unshift(head)
      forward(client)
      return
    }
    if (upgrade) onBlocked()
    if (upgrade && block === 'reset') {
      client.resetAndDestroy()
      return
    }
    if (upgrade && typeof block === 'object' && block !== null) {
      client.resume()
      client.on('end', () => client.destroy())
      writeHttpRejection(client, block)
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
