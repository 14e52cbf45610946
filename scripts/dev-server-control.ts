// What the dev servers (scripts/lifeline-dev-server.ts, scripts/lifeline-cluster-dev-server.ts) share: the fault proxy
// on a preferred port, the control API with the actions that work the same on one server and on a cluster (timed
// restart, proxy faults, close codes, publish), and the order everything stops in.
import { createFaultProxy, type FaultProxy, type FaultProxyTarget } from '../src/testing'
import { startControlApi, type ControlAction } from './control-api'
import type { LifelineDevServerOptions, LifelineDevServerState } from './lifeline-dev-server'

export const HOST = '127.0.0.1'

/** Close codes the panel may send, each with the reason the server gives. */
const closeReasons: Readonly<Record<number, string>> = {
  1001: 'server going away',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'internal error',
  1013: 'try again later',
  4001: 'token expired',
  4002: '{"retryAfterMs":5000}',
  4003: 'session expired',
}

/** A proxy on `preferred` when that port is free, else on one the system picks. */
export async function proxyOn(
  target: FaultProxyTarget | readonly FaultProxyTarget[],
  preferred: number,
): Promise<FaultProxy> {
  try {
    return await createFaultProxy({ target, host: HOST, port: preferred })
  } catch (error) {
    if (preferred === 0) throw error
    return createFaultProxy({ target, host: HOST, port: 0 })
  }
}

/** What the panel's publish action sends. */
export interface PanelMessage {
  from: 'server'
  text: string
  at: number
}

/** What the shared actions do to what sits behind the proxy: one server process, or every node of a cluster. */
export interface DevBackend {
  /** Stops it; clients see their connections drop and new ones refused. */
  kill(): Promise<unknown>
  /** Starts it again. */
  restart(): Promise<unknown>
  /** Closes every client with `code` and `reason`. */
  closeClients(code: number, reason: string): Promise<unknown> | void
  /** Drops every client without a close frame. */
  terminate(): void
  /** Publishes `message` on `channel`; returns an error message when it cannot. */
  publish(channel: string, message: PanelMessage): Promise<string | void>
  /** Stops it for good, after the control API and the proxy. */
  stop(): Promise<void>
}

/** The fields of the reported state that the shared part keeps. */
export type SharedDevState = Pick<
  LifelineDevServerState,
  'blackholed' | 'rejectStatus' | 'webSocketBlocked' | 'proxyConnections' | 'restartAt'
>

/** What {@link startDevControl} controls, besides the dev server's options. */
export interface DevControlParts<State> {
  /** The proxy in front of the backend. */
  proxy: FaultProxy
  /** What kill, restart, close, terminate and publish act on. */
  backend: DevBackend
  /** The state the control API reports, built around the shared fields. */
  state: (shared: SharedDevState) => State
  /**
   * Actions of this server only.
   * @default none
   */
  actions?: Readonly<Record<string, ControlAction>>
}

/** The running control API over a proxy and its backend. */
export interface DevControl<State> {
  /** `http://127.0.0.1:<control port>/__control`. */
  readonly controlUrl: string
  /** The state the control API reports. */
  state(): State
  /** Stops the control API, the proxy and the backend. Idempotent. */
  close(): Promise<void>
}

/** Starts the control API with the shared actions plus `parts.actions`. */
export async function startDevControl<State>(
  options: LifelineDevServerOptions,
  parts: DevControlParts<State>,
): Promise<DevControl<State>> {
  const { proxy, backend } = parts
  const { log = () => undefined } = options
  let rejectStatus: number | null = null
  let restartTimer: ReturnType<typeof setTimeout> | null = null
  let restartAt: number | null = null
  const cancelRestart = (): void => {
    if (restartTimer !== null) clearTimeout(restartTimer)
    restartTimer = null
    restartAt = null
  }

  const state = (): State =>
    parts.state({
      blackholed: proxy.faults.blackhole,
      rejectStatus,
      webSocketBlocked: proxy.faults.blockWebSocket !== null,
      proxyConnections: proxy.connections,
      restartAt,
    })

  const actions: Record<string, ControlAction> = {
    kill: async () => {
      cancelRestart()
      await backend.kill()
    },
    restart: async () => {
      cancelRestart()
      await backend.restart()
    },
    'restart-after': async (query) => {
      const ms = Number(query.get('ms') ?? 3000)
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) return 'ms must be an integer 0-60000'
      cancelRestart()
      await backend.kill()
      restartAt = Date.now() + ms
      restartTimer = setTimeout(() => {
        restartTimer = null
        restartAt = null
        backend.restart().catch((error: unknown) => log(`restart failed: ${String(error)}`))
      }, ms)
    },
    ...parts.actions,
    blackhole: () => proxy.blackhole(),
    // restore() clears every proxy mode: put back the ones that have buttons of their own.
    unblackhole: () => {
      const blocked = proxy.faults.blockWebSocket
      proxy.restore()
      if (rejectStatus !== null) proxy.rejectUpgrade(rejectStatus)
      if (blocked !== null) proxy.blockWebSocket(blocked)
    },
    close: async (query) => {
      const code = Number(query.get('code'))
      const reason = closeReasons[code]
      if (reason === undefined) return `code must be one of ${Object.keys(closeReasons).join(', ')}`
      await backend.closeClients(code, reason)
    },
    terminate: () => backend.terminate(),
    reject: (query) => {
      const status = Number(query.get('status'))
      if (status !== 401 && status !== 403) return 'status must be 401 or 403'
      rejectStatus = status
      proxy.rejectUpgrade(status)
    },
    accept: () => {
      rejectStatus = null
      proxy.acceptUpgrade()
    },
    'block-websocket': () => proxy.blockWebSocket('strip'),
    'unblock-websocket': () => proxy.unblockWebSocket(),
    publish: async (query) => {
      const channel = query.get('channel') ?? ''
      const text = query.get('text') ?? ''
      if (!channel || channel.length > 200 || text.length > 500) return 'channel (≤ 200) and text (≤ 500) required'
      return backend.publish(channel, { from: 'server', text, at: Date.now() })
    },
  }

  const control = await startControlApi({
    allowedOrigins: options.allowedOrigins,
    ...(options.controlPort === undefined ? {} : { port: options.controlPort }),
    state,
    actions,
    log,
  })

  let closing: Promise<void> | null = null
  return {
    controlUrl: control.url,
    state,
    close() {
      closing ??= (async () => {
        cancelRestart()
        await control.close()
        await proxy.close()
        await backend.stop()
      })()
      return closing
    },
  }
}
