import type { Server } from 'node:net'

/**
 * Starts `server` listening; rejects with the listen error (EADDRINUSE…) instead of emitting it. Internal. The server
 * has its own (src/server/server-util.ts): the testing layer may import only the server's public entry.
 */
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
