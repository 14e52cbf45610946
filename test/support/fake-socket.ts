import type { WebSocketLike } from '../../src/core'

/** Every FakeSocket made in this test file, oldest first (each vitest file has its own copy of this module). */
export const sockets: FakeSocket[] = []

/** A WebSocket the test drives by hand: it opens, answers and closes when told. Pass the class as `environment.WebSocket`. */
export class FakeSocket implements WebSocketLike {
  readyState = 0
  bufferedAmount = 0
  binaryType = 'blob'
  readonly sent: unknown[] = []
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(readonly url: string) {
    sockets.push(this)
  }
  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError')
    this.sent.push(data)
  }
  close(): void {
    if (this.readyState < 2) this.readyState = 2
  }
  serverOpen(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  /** Opens and answers `hello` with a lifeline `welcome` (session `s-1` unless given). */
  serverWelcome(session = 's-1'): void {
    this.serverOpen()
    this.serverSend({
      type: 'welcome',
      session,
      resumed: false,
      heartbeatMs: 25_000,
      maxMessageBytes: 65_536,
      resumeWindowMs: 120_000,
    })
  }
  /** A frame from the server: an object is sent as JSON, a string as it is. */
  serverSend(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) })
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean: true })
  }
  /** Frames sent, parsed where they are JSON. */
  frames<T = { type: string; ch?: string; id?: string; data?: unknown }>(): T[] {
    return this.sent.map((data) => {
      try {
        return JSON.parse(data as string) as T
      } catch {
        return data as T
      }
    })
  }
  /** Ids of the `pub` frames sent. */
  pubs(): string[] {
    return this.frames<{ type: string; id?: string }>()
      .filter((frame) => frame.type === 'pub')
      .map((frame) => frame.id!)
  }
}
