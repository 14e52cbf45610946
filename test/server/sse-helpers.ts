import { get } from 'node:http'
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { afterAll, afterEach, expect } from 'vitest'
import type { AuthRequest, LifelineServer, LifelineServerOptions } from '../../src/server'
import { cleanup, logLines, waitFor } from './helpers'

/** Tokens are `tok-<principal>-secret`; anything else is refused. */
export const tokenAuth: Pick<LifelineServerOptions, 'authenticate'> = {
  authenticate: ({ token }: AuthRequest) => {
    const match = /^tok-(\w+)-secret$/.exec(token ?? '')
    return match?.[1] ? { id: match[1] } : null
  },
}

/** The hooks of an SSE server test file: streams and servers closed after each test, `token` never in the logs. */
export function useSseHooks(token: string): void {
  afterEach(async () => {
    closeStreams()
    await cleanup()
  })
  afterAll(() => {
    expect(logLines.join('\n')).not.toContain(token)
  })
}

/** One parsed Server-Sent Event (`event` is `message` when the stream named none). */
export interface SseEvent {
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

const streams: EventStream[] = []

/** A `GET <path>/events` read with `http.get`, parsed as `text/event-stream` (or kept as a refusal body). */
export class EventStream {
  status = 0
  headers: IncomingHttpHeaders = {}
  /** Everything received, as text. */
  raw = ''
  readonly events: SseEvent[] = []
  /** Comment lines (without the leading `:`), in order. */
  readonly comments: string[] = []
  ended = false
  /** The response being read (pause it to stop reading). */
  response: IncomingMessage | null = null
  private buffer = ''
  private cursor = 0

  constructor(readonly request: ClientRequest) {}

  /** The JSON body of a refusal. */
  json(): Record<string, unknown> {
    return JSON.parse(this.raw) as Record<string, unknown>
  }

  take(chunk: string): void {
    this.raw += chunk
    if (!String(this.headers['content-type']).startsWith('text/event-stream')) return
    this.buffer += chunk
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      let id: string | undefined
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim())
          continue
        }
        const colon = line.indexOf(':')
        const field = line.slice(0, colon)
        const value = line.slice(colon + 1).replace(/^ /, '')
        if (field === 'id') id = value
        else if (field === 'event') event = value
        else if (field === 'data') data.push(value)
      }
      if (data.length > 0) this.events.push({ id, event, data: data.join('\n') })
    }
  }

  /** The next event (after the ones already taken) named `event`; others before it are skipped. */
  async next(event = 'message', timeout = 3000): Promise<SseEvent> {
    let found: SseEvent | undefined
    await waitFor(
      `event ${event}`,
      () => {
        for (; this.cursor < this.events.length; this.cursor += 1) {
          const candidate = this.events[this.cursor] as SseEvent
          if (candidate.event === event) {
            found = candidate
            this.cursor += 1
            return true
          }
        }
        if (this.ended) throw new Error(`stream ended while waiting for ${event}`)
        return false
      },
      timeout,
    )
    return found as SseEvent
  }

  /** Drops the connection (a client going away). */
  destroy(): void {
    this.request.destroy()
  }
}

/** The SSE endpoint of `server`. */
export const eventsUrl = (server: LifelineServer): string => `${server.url.replace(/^ws/, 'http')}/events`

/** Opens a stream and resolves once the status arrived (and, for a refusal, once its body did). */
export async function openStream(
  url: string,
  options: { query?: string; ch?: string; headers?: Record<string, string> } = {},
): Promise<EventStream> {
  const query = options.query ?? `?ch=${encodeURIComponent(options.ch ?? 'news')}`
  const request = get(url + query, { headers: { Accept: 'text/event-stream', ...options.headers } })
  const stream = new EventStream(request)
  streams.push(stream)
  await new Promise<void>((resolve, reject) => {
    request.once('error', reject)
    request.once('response', (response) => {
      stream.response = response
      stream.status = response.statusCode ?? 0
      stream.headers = response.headers
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => stream.take(chunk))
      response.once('end', () => {
        stream.ended = true
      })
      response.once('close', () => {
        stream.ended = true
      })
      request.off('error', reject)
      request.on('error', () => undefined)
      if (stream.status === 200) resolve()
      else response.once('end', resolve)
    })
  })
  return stream
}

/** Waits for the stream to end (the server ended its response). */
export async function ended(stream: EventStream, timeout = 3000): Promise<void> {
  await waitFor('stream end', () => stream.ended, timeout)
}

/** Drops every stream opened through {@link openStream}. */
export function closeStreams(): void {
  for (const stream of streams.splice(0)) stream.destroy()
}
