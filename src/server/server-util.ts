/** Small parts of the reference server: listening, close-argument checks, a connection's transport. Internal. */
import type { Server } from 'node:net'
import { LifelineServerError } from './errors'
import { LongPollSocket } from './longpoll-socket'
import type { LifelineConnectionInfo } from './server-types'
import type { ConnectionSocket } from './socket'
import { SseSocket } from './sse-socket'

/** Whether `code` may be sent in a close frame (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999))
  )
}

/** Starts `server` listening; rejects with the listen error (EADDRINUSE…) instead of emitting it. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

export function transportOf(socket: ConnectionSocket): LifelineConnectionInfo['transport'] {
  return socket instanceof LongPollSocket ? 'longpoll' : socket instanceof SseSocket ? 'sse' : 'websocket'
}

export function assertCloseArguments(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) {
    throw new LifelineServerError('INVALID_ARGUMENT', `Not a close code that can be sent: ${String(code)}`)
  }
  if (Buffer.byteLength(reason) > 123)
    throw new LifelineServerError('INVALID_ARGUMENT', 'A close reason is at most 123 bytes')
}
