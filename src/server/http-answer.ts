import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ResolvedServerOptions } from './options'
import { originRefusal } from './upgrade'

/** What an HTTP endpoint of the server (long-poll, event streams) needs to answer a request. Internal. */
export interface HttpAnswer {
  /** The request's `Origin`, if any. */
  readonly origin: string | undefined
  /** Why the origin is refused (`''`: allowed). */
  readonly refusal: string
  /** The CORS headers for an allowed origin (empty otherwise). */
  readonly cors: Record<string, string>
  /** Answers once with a JSON body (or none), the CORS headers and `Cache-Control: no-store`; no-op once answered. */
  answer(status: number, body: Record<string, unknown> | null, headers?: Record<string, string>): void
}

/** The origin check, CORS headers (exposing `expose`) and a JSON answerer for one request. Internal. */
export function httpAnswer(
  request: IncomingMessage,
  response: ServerResponse,
  options: ResolvedServerOptions,
  expose: string,
): HttpAnswer {
  const origin = request.headers.origin
  const refusal = originRefusal(request, options)
  const cors: Record<string, string> =
    origin === undefined || refusal
      ? {}
      : {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Credentials': 'true',
          'Access-Control-Expose-Headers': expose,
          Vary: 'Origin',
        }
  return {
    origin,
    refusal,
    cors,
    answer(status, body, headers = {}) {
      if (response.headersSent || response.destroyed) return
      const text = body === null ? '' : JSON.stringify(body)
      response.writeHead(status, {
        ...cors,
        ...headers,
        ...(body === null ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
        'Content-Length': String(Buffer.byteLength(text)),
        'Cache-Control': 'no-store',
      })
      response.end(text)
    },
  }
}

/** A request header's value when it was sent once (`undefined` when absent or repeated). */
export function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()]
  return typeof value === 'string' ? value : undefined
}

/** The `retryAfterMs` of a close reason written as JSON (`{"retryAfterMs":N}`), or `null`. */
export function retryAfterOf(reason: string): number | null {
  try {
    const value: unknown = (JSON.parse(reason) as { retryAfterMs?: unknown }).retryAfterMs
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null
  } catch (_error) {
    return null
  }
}
