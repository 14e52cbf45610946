import type { ClientEvents, ClientParts, Lifecycle, LifelineClient } from './client-types'
import { checkClose, createConnection, isSessionId } from './connection'
import { clientParts } from './debug'
import { createDelivery } from './delivery'
import type { DiagnosisRunner } from './diagnosis-runner'
import { createEmitter } from './emitter'
import { resolveEnvironment } from './environment'
import { InvalidOptionsError, lifelineError } from './errors'
import { heartbeatActivity } from './heartbeat'
import { createInterpreter } from './interpreter'
import { createLogSink } from './logger'
import { initialMachineState } from './machine'
import { resolveOptions, type LifelineOptions } from './options'
import { createOutbox, type OutboxItem } from './outbox'
import { rawProtocol } from './protocol'
import { createTimerSet } from './timer-set'
import { createTokenSource } from './token-source'
import type { ConnectionSnapshot, OutboundData } from './types'
import { jsonText, resolveUrl } from './validate'
import { MAX_JSON_DEPTH } from './wire'

export { isSessionId } from './connection'
export type { ClientEvents, ClientResources, Lifecycle, LifelineClient, OutboxControls } from './client-types'

const readOnly = (): never => {
  throw lifelineError('INVALID_MESSAGE', 'getWebSocket() is read-only: send and close through the client')
}

let clientCount = 0
/** Message ids must not repeat across page loads (persisted items keep theirs): a random prefix per page. */
const pagePrefix = Math.random().toString(36).slice(2, 10)

/** Creates a connection client. Throws `InvalidUrlError`, `InsecureTransportError` or `InvalidOptionsError`. */
export function createLifeline(options: LifelineOptions): LifelineClient {
  const resolved = resolveOptions(
    options.heartbeat === undefined && options.protocol?.heartbeatByDefault ? { ...options, heartbeat: true } : options,
  )
  const env = resolveEnvironment(options.environment)
  const { clock } = env
  // A URL function is resolved before every attempt (connection.ts); until the first, the URL is ''.
  const dynamicUrl = typeof options.url === 'function'
  if (dynamicUrl && options.fallback) {
    throw new InvalidOptionsError([{ field: 'url', problem: 'a url function does not work with fallback yet' }])
  }
  // The plug-in checks the options it cannot work with and resolves URLs its way (its code loads only with it).
  const transport = options.transport?.attach({ env, options, token: () => tokens?.current ?? null })
  const url = dynamicUrl ? '' : (transport?.resolve ?? resolveUrl)(options.url, env.location)
  const config = resolved.machine
  const heartbeatConfig = resolved.heartbeat
  const heartbeatOptions = typeof options.heartbeat === 'object' ? options.heartbeat : {}
  const protocol =
    options.protocol ??
    rawProtocol({ ping: heartbeatOptions.message, isPong: heartbeatOptions.isPong, authMessage: options.authMessage })
  const clientId = ++clientCount
  let messageCount = 0
  const outbox = createOutbox(
    resolved.outbox,
    () => `${pagePrefix}${clientId}-${++messageCount}`,
    (item) => reportFailed(item, lifelineError('MESSAGE_DISCARDED', 'outbox full')),
  )
  const emitter = createEmitter<ClientEvents>()
  const lifecycle = createEmitter<Lifecycle>()
  const listeners = new Set<() => void>()
  const timers = createTimerSet(env.timers)
  const { later } = timers
  const tokens = options.getToken ? createTokenSource(options.getToken) : null
  const log = createLogSink(options.logger, () => (tokens?.current ? [tokens.current] : []))

  let holders = 0
  let retained = false
  let cancelLinger: (() => void) | null = null

  const heartbeat =
    heartbeatConfig &&
    heartbeatActivity({
      ...heartbeatConfig,
      clock,
      later,
      log,
      ping() {
        delivery.pinged()
        connection.transport?.send(protocol.ping())
      },
      timeout: () => dispatch({ type: 'HEARTBEAT_TIMEOUT' }),
      unmatched: () => delivery.unmatched(),
      answered(latency) {
        parts.latency = latency
        delivery.answered()
        publish()
      },
    })
  const runtime = createInterpreter({
    initial: initialMachineState(env.network.get()),
    env: () => ({ now: clock.now(), random: env.random, config }),
    log,
    run: (effect) => connection.perform(effect),
    error: (error) => emitter.emit('error', error),
    changed: publish,
    later,
    delayed(type) {
      if (type !== 'CONNECT_TIMEOUT') return { type }
      const waitingForToken = connection.transport === null
      // A getToken() that never settles is abandoned, so that the next attempt asks again.
      if (waitingForToken) tokens?.abandon()
      return { type, waitingForToken }
    },
    network: env.network,
    visibility: env.visibility,
    heartbeat: heartbeat ?? undefined,
  })
  const { dispatch } = runtime
  const fallback = options.fallback?.attach({
    url,
    protocols: options.protocols,
    env,
    later,
    ping: () => protocol.ping(),
    switchNow: () => dispatch({ type: 'SWITCH' }),
    log,
  })
  // Filled in order below: each part reads the ones built before it when created, the later ones only when called.
  const parts = {
    url,
    options,
    env,
    log,
    later,
    protocol,
    outbox,
    emitter,
    lifecycle,
    tokens,
    fallback,
    transport,
    runtime,
    heartbeat: () => heartbeat?.current ?? null,
    publish,
    failed: reportFailed,
    maxBytes: resolved.maxMessageBytes,
    config,
    latency: null,
    restored: !options.outbox?.storage,
    disposed: false,
  } as ClientParts
  const delivery = (parts.delivery = createDelivery(parts))
  // The handshake diagnosis is a plug-in loaded on the first failed handshake (with the probe and the policy): an app
  // whose sockets open never downloads it. Before it loads nothing was found, so there is nothing to reset.
  let runner: DiagnosisRunner | undefined
  let loading: Promise<unknown> | undefined
  const diagnosis = {
    probe(): void {
      loading ??= import('./diagnosis-runner').then(
        (loaded) => (runner = loaded.createDiagnosisRunner(parts)),
        () => (loading = undefined),
      )
      void loading.then(() => runner?.probe())
    },
    reset: (type: 'opened' | 'retried') => runner?.reset(type),
  }
  const connection = (parts.connection = createConnection(parts))
  let snapshot = buildSnapshot()

  /**
   * The outbox storage is attached when the client first connects or sends, not when it is created: React may create
   * a client it then throws away (StrictMode, a render that is not committed), and that one must not claim the storage.
   */
  let storageAttached = !options.outbox?.storage
  function attachStorage(): void {
    if (storageAttached) return
    // Throws STORAGE_ERROR while another live client holds the storage (and this one stays unattached).
    const save = options.outbox!.storage!.attach({
      outbox,
      session: () => connection.session.id,
      resume(id) {
        if (connection.session.id === null && isSessionId(id)) connection.session = { id, resumed: null }
      },
      overflow: (item) => reportFailed(item, lifelineError('QUEUE_FULL')),
      error: (error) => dispatch({ type: 'ERROR', error }),
      restored() {
        if (parts.disposed) return
        parts.restored = true
        delivery.flush()
        publish()
      },
      // Released by every holder (a React client replaced by one for a new URL), or disposed: the storage may go to
      // another client.
      live: () => !parts.disposed && !(retained && holders === 0),
    })
    storageAttached = true
    lifecycle.on('changed', save)
  }

  /** `connect()` and `retry()`. Nobody watches the network while idle, closed or failed: read it afresh first. */
  function start(type: 'CONNECT' | 'RETRY'): void {
    if (parts.disposed) return
    attachStorage()
    // Starting over: earlier findings (refusals, a settled diagnosis) no longer count.
    if (type === 'RETRY') diagnosis.reset('retried')
    const online = env.network.get()
    if (!runtime.running('watch') && online !== runtime.state.online) dispatch({ type: online ? 'ONLINE' : 'OFFLINE' })
    dispatch({ type })
  }

  function reportFailed(item: OutboxItem, error = item.error!): void {
    emitter.emit('messageFailed', { item, error })
  }

  function buildSnapshot(): ConnectionSnapshot {
    const { state } = runtime
    return {
      status: state.status,
      transport: connection.kind,
      attempt: state.attempt,
      nextRetryAt: state.nextRetryAt,
      lastClose: state.lastClose,
      lastError: state.lastError,
      online: state.online || state.status === 'open',
      latencyMs: parts.latency,
      outbox: outbox.stats(),
      session: connection.session,
    }
  }

  function publish(): void {
    if (parts.restored) lifecycle.emit('changed', undefined)
    const next = buildSnapshot()
    const changed = (Object.keys(next) as (keyof ConnectionSnapshot)[]).some((key) => next[key] !== snapshot[key])
    if (!changed) return
    snapshot = next
    for (const listener of listeners) listener()
  }

  function enqueue(data: OutboundData, channel?: string): string {
    if (parts.disposed) throw lifelineError('INVALID_MESSAGE', 'disposed')
    if (transport) throw lifelineError('NOT_SUPPORTED', 'receive-only')
    // Stored messages keep their place ahead of one sent before the first connect.
    attachStorage()
    return delivery.enqueue(data, channel)
  }

  const client: LifelineClient = {
    get url() {
      return parts.url
    },
    maxAttempts: config.maxAttempts,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    on: emitter.on,
    protocol,
    connect: () => start('CONNECT'),
    close(code = 1000, reason = '') {
      checkClose(code, reason)
      dispatch({ type: 'CLOSE', code, reason })
    },
    retry: () => start('RETRY'),
    send: (data) => enqueue(data),
    sendJson: (value) => client.send(jsonText(value, MAX_JSON_DEPTH)),
    outbox: { items: outbox.items, retry: delivery.retry, discard: delivery.discard },
    retain(lingerMs = 0) {
      holders++
      retained = true
      cancelLinger?.()
      cancelLinger = null
      // A holder that arrives gets an attempt, as a client of its own would: a failed client starts again.
      start(runtime.state.status === 'failed' ? 'RETRY' : 'CONNECT')
      let held = true
      return () => {
        if (!held) return
        held = false
        if (--holders > 0 || parts.disposed) return
        cancelLinger = later(() => {
          cancelLinger = null
          if (runtime.state.status !== 'closed' && runtime.state.status !== 'closing') client.close()
        }, lingerMs)
      }
    },
    dispose() {
      if (parts.disposed) return
      const { status } = runtime.state
      if (status === 'open' || status === 'connecting') dispatch({ type: 'CLOSE', code: 1000, reason: '' })
      parts.disposed = true
      connection.drop()
      fallback?.dispose()
      // Stops every activity (the delayed event, the heartbeat, the watch) and settles in `closed`; every timer left
      // (drain, linger, report) is in `timers`.
      runtime.stop()
      timers.clear()
      publish()
      listeners.clear()
      emitter.clear()
      lifecycle.clear()
    },
    now: () => clock.now(),
    getWebSocket() {
      const socket = connection.transport?.socket
      return socket
        ? new Proxy(socket, {
            get(target, key) {
              if (key === 'send' || key === 'close') return readOnly
              const value: unknown = Reflect.get(target, key)
              return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
            },
            set: readOnly,
          })
        : null
    },
    resources: () => ({
      timers: timers.size(),
      listeners: listeners.size + emitter.size() + (runtime.running('watch') ? 2 : 0),
      sockets: connection.transport ? 1 : 0,
    }),
  }

  // Policies of the parts that follow the transports: the diagnosis forgets its findings on open and probes a
  // WebSocket that failed before opening; the fallback counts both.
  lifecycle.on('opened', () => diagnosis.reset('opened'))
  if (fallback) {
    lifecycle.on('opened', (kind) => fallback.opened(kind))
    lifecycle.on('failed', ({ kind, openedFor }) => fallback.failed(kind, openedFor))
  }
  if (options.diagnose ?? (!!fallback || typeof (globalThis as { document?: unknown }).document !== 'undefined')) {
    lifecycle.on('failed', ({ kind, openedFor }) => {
      if (kind === 'websocket' && openedFor === null) diagnosis.probe()
    })
  }
  protocol.attach?.({
    enqueue,
    later,
    now: () => clock.now(),
    onSessionExpired: (listener) => emitter.on('sessionExpired', listener),
  })

  clientParts.set(client, parts)
  if (options.autoConnect !== false) client.connect()
  return client
}
