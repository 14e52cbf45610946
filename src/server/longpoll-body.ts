import type { IncomingMessage } from 'node:http'
import { MAX_JSON_DEPTH, safeJsonParse } from '../core'

/** Past this many bytes beyond the limit, an oversized body is cut instead of drained (keep-alive lost). */
const MAX_DRAIN_BYTES = 4 * 1024 * 1024

/** A request body read as UTF-8 text, or the status refusing it. Internal. */
export type BodyResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly status: 400 | 408 | 413 }

/** Reads a request body of at most `limit` bytes as UTF-8 (invalid UTF-8 is a 400, as it is a 1007 on a WebSocket). */
export function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult | null> {
  return new Promise((resolve) => {
    const declared = Number(request.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ ok: false, status: 413 })
      return
    }
    const chunks: Buffer[] = []
    let bytes = 0
    let settled = false
    const settle = (result: BodyResult | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('close', onClose)
      resolve(result)
    }
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length
      if (bytes <= limit) {
        chunks.push(chunk)
        return
      }
      settle({ ok: false, status: 413 })
      // Drained (discarded) so that the client reads the 413 rather than a reset; a huge body is cut.
      let drained = 0
      request.on('data', (rest: Buffer) => {
        drained += rest.length
        if (drained > MAX_DRAIN_BYTES) request.destroy()
      })
    }
    const onEnd = (): void => {
      try {
        settle({ ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)) })
      } catch (_error) {
        settle({ ok: false, status: 400 })
      }
    }
    const onClose = (): void => settle(null)
    const timer = setTimeout(() => settle({ ok: false, status: 408 }), timeoutMs)
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('close', onClose)
  })
}

/**
 * A batch body: a JSON array of frames, each a string (the frame's text) or an object (the frame itself). Any other
 * element is passed on as its JSON text, which the protocol answers with `error{INVALID_FRAME}` like any bad frame.
 */
export function parseBatch(text: string): string[] | null {
  let value: unknown
  try {
    // One level for the array: a frame past the protocol limit makes the whole body refused, so that re-serialising
    // an element below cannot overflow JSON.stringify; each frame then meets the server's own maxJsonDepth.
    value = safeJsonParse(text, MAX_JSON_DEPTH + 1)
  } catch (_error) {
    return null
  }
  if (!Array.isArray(value)) return null
  return value.map((element: unknown) => (typeof element === 'string' ? element : JSON.stringify(element)))
}
