import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the server saw. */
export interface Seen {
  url: string
  headers: IncomingMessage['headers']
  response: ServerResponse
  /** The request went away (client aborted or the stream ended). */
  gone: boolean
  /** `performance.now()` of its arrival. */
  at: number
}

export type Script = (request: Seen, index: number) => void

/** A real HTTP server (127.0.0.1, a free port) whose n-th request is answered by the test's script. */
export async function sseServer(script: Script) {
  const requests: Seen[] = []
  const server: Server = createServer((request, response) => {
    const seen: Seen = {
      url: request.url ?? '',
      headers: request.headers,
      response,
      gone: false,
      at: performance.now(),
    }
    requests.push(seen)
    response.on('close', () => (seen.gone = true))
    script(seen, requests.length - 1)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  servers.push(server)
  return { url: `http://127.0.0.1:${port}/events`, requests, server }
}

const servers: Server[] = []

/** Closes every server {@link sseServer} started (call in `afterEach`). */
export async function closeSseServers(): Promise<void> {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

/** Answers 200 `text/event-stream` and writes a first comment, so the client sees the open at once. */
export function stream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
  response.write(': open\n\n')
}
