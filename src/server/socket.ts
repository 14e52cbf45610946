import type { RawData } from 'ws'

/**
 * What a protocol connection needs from its socket. A `ws` WebSocket satisfies it as it is; a long-poll connection
 * (`LongPollSocket`) implements it over HTTP requests, so sessions, channels, resume, dedupe and acks are one code path
 * for both transports. Internal.
 */
export interface ConnectionSocket {
  /** 1 (`OPEN`) while frames can be sent; 2 while closing, 3 once closed. */
  readonly readyState: number
  /** The `readyState` of an open socket (1). */
  readonly OPEN: number
  /** Bytes sent but not yet delivered (WebSocket: not yet handed to the kernel; long-poll: not yet acknowledged). */
  readonly bufferedAmount: number
  /** Sends one text frame. */
  send(text: string): void
  /** Closes with `code` and `reason`; the peer learns both. */
  close(code: number, reason: string): void
  /** Ends it at once: the peer sees an abnormal closure (1006). */
  terminate(): void
  /** Liveness check: a WebSocket ping frame; a long-poll connection counts a waiting poll as an answer. */
  ping(): void
  /**
   * Flow control: stop taking frames from the peer (a WebSocket stops reading its TCP socket; long-poll answers a
   * `POST` only after {@link resume}). Frames already read may still arrive.
   */
  pause?(): void
  /** Takes frames again after {@link pause}. */
  resume?(): void
  on(event: 'message', listener: (data: RawData | string, isBinary: boolean) => void): this
  on(event: 'pong', listener: () => void): this
  on(event: 'error', listener: (error: Error) => void): this
  on(event: 'close', listener: (code: number) => void): this
  once(event: 'close', listener: () => void): this
}
