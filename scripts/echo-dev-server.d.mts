import type { Server } from 'node:http'

/** What the echo server's control API reports. */
export interface EchoDevServerState {
  up: boolean
  rejectStatus: number | null
  connections: number
  totalConnections: number
  restartAt: number | null
}

/** The running echo server. */
export interface EchoDevServer {
  /** `ws://127.0.0.1:<port>`. */
  url: string
  /** `http://127.0.0.1:<port>/__control`. */
  controlUrl: string
  port: number
  close(): Promise<void>
}

/** Listens on `port`, or on a free port when it is taken; resolves with the port in use. */
export function listenPreferring(server: Server, port: number, host: string, label: string): Promise<number>

/** Starts the playground's echo server with its control API (see echo-dev-server.mjs). */
export function startEchoServer(options: {
  port: number
  allowedOrigins: () => readonly string[]
  log?: (line: string) => void
}): Promise<EchoDevServer>

/** One line describing a state. */
export function describeState(state: EchoDevServerState): string
