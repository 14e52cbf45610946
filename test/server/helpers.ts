import type { IncomingMessage } from 'node:http'
import { expect } from 'vitest'
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

/** A long-poll answer: the frames after the cursor asked for, and the close once the connection ended. */
export interface PollBody {
  cursor: number
  frames: string[]
  close?: { code: number; reason: string }
}

/** An HTTP answer of the long-poll endpoint, its JSON body parsed (`{}` when empty). */
export interface PollReply {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** The long-poll endpoint of `server`. */
export const pollUrl = (server: LifelineServer): string => `${server.url.replace(/^ws/, 'http')}/poll`

/** One request to the long-poll endpoint. */
export async function call(url: string, init: RequestInit): Promise<PollReply> {
  const response = await fetch(url, init)
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  }
}

/** A long-poll client speaking the wire format with plain fetch, keeping its cursor. */
export class PollClient {
  cursor = 0
  readonly frames: ServerFrame[] = []
  close: { code: number; reason: string } | null = null

  constructor(
    readonly url: string,
    readonly id: string,
    readonly origin?: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'Lifeline-Connection': this.id, ...(this.origin ? { Origin: this.origin } : {}), ...extra }
  }

  /** One GET with `cursor` (default: the last received); the result is not taken into the client's state. */
  async fetchPoll(cursor = this.cursor): Promise<{ status: number; body: PollBody; headers: Headers }> {
    const reply = await call(this.url, { headers: this.headers({ 'Lifeline-Cursor': String(cursor) }) })
    return { status: reply.status, body: reply.body as unknown as PollBody, headers: reply.headers }
  }

  /** One GET, taken: frames recorded, cursor advanced. */
  async poll(): Promise<PollBody> {
    const { status, body } = await this.fetchPoll()
    expect(status).toBe(200)
    this.take(body)
    return body
  }

  take(body: PollBody): void {
    expect(body.cursor - body.frames.length).toBe(this.cursor)
    this.cursor = body.cursor
    for (const text of body.frames) this.frames.push(JSON.parse(text) as ServerFrame)
    if (body.close) this.close = body.close
  }

  /** Polls until a frame of `type` matching `predicate` arrived (or the connection closed), and removes it. */
  async next<T extends ServerFrame['type']>(
    type: T,
    predicate: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    for (let round = 0; round < 50; round++) {
      const found = this.frames.find(
        (frame): frame is Extract<ServerFrame, { type: T }> =>
          frame.type === type && predicate(frame as Extract<ServerFrame, { type: T }>),
      )
      if (found) {
        this.frames.splice(this.frames.indexOf(found), 1)
        return found
      }
      if (this.close) throw new Error(`closed ${String(this.close.code)} while waiting for ${type}`)
      await this.poll()
    }
    throw new Error(`no ${type} frame`)
  }

  /** Polls until `done()` holds or the connection closed; at most `timeoutMs`. */
  async pollUntil(label: string, done: () => boolean, timeoutMs = 8000): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (!done() && !this.close) {
      if (performance.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms polling for ${label}`)
      await this.poll()
    }
  }

  count(type: ServerFrame['type']): number {
    return this.frames.filter((frame) => frame.type === type).length
  }

  async send(frames: unknown[]): Promise<PollReply> {
    return call(this.url, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify(frames),
    })
  }
}

/** Opens a long-poll connection with `frames` as its first POST; `client` is null when the server refused it. */
export async function openPoll(
  server: LifelineServer,
  frames: unknown[] = [{ type: 'hello', v: 1 }],
  options: { origin?: string; headers?: Record<string, string>; query?: string } = {},
): Promise<{ reply: PollReply; client: PollClient | null }> {
  const url = pollUrl(server)
  const reply = await call(url + (options.query ?? ''), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(options.origin ? { Origin: options.origin } : {}),
      ...options.headers,
    },
    body: JSON.stringify(frames),
  })
  const id = reply.body.connection
  return { reply, client: typeof id === 'string' ? new PollClient(url, id, options.origin) : null }
}
