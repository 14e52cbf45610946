import type { IncomingMessage } from 'node:http'
import { WebSocket } from 'ws'
import type { ClientFrame, ServerFrame } from '../../src/core'
import { createLifelineServer } from '../../src/server'
import type { LifelineServer, LifelineServerOptions, ServerLogger } from '../../src/server'

/** Every log line written by servers started through {@link startServer}, to check for secrets. */
export const logLines: string[] = []

/** Session ids handed out to clients of the helpers: none may appear in a log line. */
export const sessionIds = new Set<string>()

/** A logger that records everything it is given, serialised. */
export const capturingLogger: ServerLogger = {
  info: (message, details) => logLines.push(`info ${message} ${JSON.stringify(details ?? {})}`),
  warn: (message, details) => logLines.push(`warn ${message} ${JSON.stringify(details ?? {})}`),
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `predicate` every 5 ms; rejects after `timeout` ms. */
export async function waitFor(label: string, predicate: () => boolean, timeout = 3000): Promise<void> {
  const deadline = performance.now() + timeout
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${String(timeout)} ms waiting for ${label}`)
    await sleep(5)
  }
}

const servers: LifelineServer[] = []
const clients: TestClient[] = []

/** Starts a server on 127.0.0.1, port 0, logging into {@link logLines}; closed by {@link cleanup}. */
export async function startServer(options: Partial<LifelineServerOptions> = {}): Promise<LifelineServer> {
  const server = await createLifelineServer({ port: 0, logger: capturingLogger, ...options })
  servers.push(server)
  return server
}

/** Closes every client and server started by the helpers. */
export async function cleanup(): Promise<void> {
  for (const client of clients.splice(0)) client.socket.terminate()
  await Promise.all(servers.splice(0).map((server) => server.close()))
}

/** A raw `ws` client that records frames and the close. */
export class TestClient {
  readonly frames: ServerFrame[] = []
  readonly texts: string[] = []
  close: { code: number; reason: string } | null = null
  opened = false
  error: Error | null = null
  response: { status: number; body: string } | null = null
  private cursor = 0

  constructor(
    readonly socket: WebSocket,
    private readonly label = 'client',
  ) {
    socket.on('open', () => {
      this.opened = true
    })
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8')
      this.texts.push(text)
      if (!text.startsWith('{')) return
      const frame = JSON.parse(text) as ServerFrame
      this.frames.push(frame)
      if (frame.type === 'welcome') sessionIds.add(frame.session)
    })
    socket.on('error', (error: Error) => {
      this.error = error
    })
    socket.on('close', (code: number, reason: Buffer) => {
      this.close = { code, reason: reason.toString() }
    })
    socket.on('unexpected-response', (request, response: IncomingMessage) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => {
        this.response = { status: response.statusCode ?? 0, body }
        request.destroy()
      })
    })
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame))
  }

  /** The next frame (after the ones already taken) matching `predicate`; frames before it are skipped. */
  async next<T extends ServerFrame['type']>(
    type: T,
    predicate: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeout = 3000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    let found: Extract<ServerFrame, { type: T }> | undefined
    await waitFor(
      `${this.label}: ${type} frame`,
      () => {
        for (; this.cursor < this.frames.length; this.cursor += 1) {
          const frame = this.frames[this.cursor] as ServerFrame
          if (frame.type === type && predicate(frame as Extract<ServerFrame, { type: T }>)) {
            found = frame as Extract<ServerFrame, { type: T }>
            this.cursor += 1
            return true
          }
        }
        if (this.close) throw new Error(`${this.label} closed ${String(this.close.code)} while waiting for ${type}`)
        return false
      },
      timeout,
    )
    return found as Extract<ServerFrame, { type: T }>
  }

  /** Every frame of `type` received so far. */
  all<T extends ServerFrame['type']>(type: T): Array<Extract<ServerFrame, { type: T }>> {
    return this.frames.filter((frame): frame is Extract<ServerFrame, { type: T }> => frame.type === type)
  }

  async closed(timeout = 3000): Promise<{ code: number; reason: string }> {
    await waitFor(`${this.label} to close`, () => this.close !== null, timeout)
    return this.close as { code: number; reason: string }
  }

  /** Sends `hello` and waits for `welcome`. */
  async hello(fields: { token?: string; session?: string } = {}): Promise<Extract<ServerFrame, { type: 'welcome' }>> {
    this.send({ type: 'hello', v: 1, ...fields })
    return this.next('welcome')
  }

  /** Subscribes and waits for `subscribed`. */
  async subscribe(
    ch: string,
    since?: { epoch: string; seq: number },
  ): Promise<Extract<ServerFrame, { type: 'subscribed' }>> {
    this.send(since ? { type: 'sub', ch, since } : { type: 'sub', ch })
    return this.next('subscribed', (frame) => frame.ch === ch)
  }
}

/** Opens a raw client (not waiting). */
export function openClient(
  url: string,
  options: { origin?: string; headers?: Record<string, string>; label?: string } = {},
): TestClient {
  const socket = new WebSocket(url, {
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  })
  const client = new TestClient(socket, options.label)
  clients.push(client)
  return client
}

/** Opens a raw client and waits for the 101. */
export async function connect(
  url: string,
  options: { origin?: string; headers?: Record<string, string>; label?: string } = {},
): Promise<TestClient> {
  const client = openClient(url, options)
  await waitFor('open', () => {
    if (client.response) throw new Error(`upgrade refused: ${String(client.response.status)}`)
    if (client.close) throw new Error(`closed before open: ${String(client.close.code)}`)
    return client.opened
  })
  return client
}

/** Connects and completes `hello`. */
export async function connectReady(
  url: string,
  options: { origin?: string; token?: string; session?: string; label?: string } = {},
): Promise<{ client: TestClient; welcome: Extract<ServerFrame, { type: 'welcome' }> }> {
  const client = await connect(url, options)
  const welcome = await client.hello({
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.session === undefined ? {} : { session: options.session }),
  })
  return { client, welcome }
}
