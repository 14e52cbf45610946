import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A plain HTTP server on 127.0.0.1 that answers every request, upgrades included (it has no upgrade handler), with
 * `handler`, and counts them. Its close is pushed onto `cleanups`.
 */
export async function tinyServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  cleanups: Array<() => Promise<void> | void>,
): Promise<{ url: string; requests: () => number }> {
  let requests = 0
  const server = createServer((request, response) => {
    requests += 1
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const port = (server.address() as AddressInfo).port
  return { url: `ws://127.0.0.1:${String(port)}/lifeline`, requests: () => requests }
}
