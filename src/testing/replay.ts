import {
  lifelineError,
  rawProtocol,
  type ClientEvents,
  type CloseInfo,
  type ConnectionSnapshot,
  type LifelineClient,
  type LifelineError,
  type LifelineErrorCode,
  type OutboxItem,
} from '../core'
import type { DevtoolsTrace, TraceError, TraceItem, TraceSnapshot } from '../devtools'

/** Options of {@link replayTrace}. */
export interface ReplayOptions {
  /**
   * Shift every recorded time (retry times, close times, item times) so that each step happens now: a countdown then
   * shows the time that was left when it was recorded. `false` keeps the recorded epoch times.
   * @default true
   */
  rebase?: boolean
  /** Epoch ms, for `rebase`. @default Date.now */
  now?: () => number
}

/** A fake client that steps through a recorded trace; hand `client` to a provider or component. */
export interface ReplayedTrace {
  /** Implements `LifelineClient`; actions (close, retry, outbox retry/discard) are recorded in `actions`, not applied. */
  readonly client: LifelineClient
  /** The step shown (0: the first recorded snapshot). */
  readonly index: number
  /** Number of recorded steps. */
  readonly length: number
  /** Shows the next step; returns `false` at the end. */
  step(): boolean
  /** Shows step `index` (clamped). */
  seek(index: number): void
  /** Steps every `intervalMs` (or at the recorded pace when omitted, at most 2 s a step) until the end. Returns stop. */
  play(intervalMs?: number): () => void
  /** Actions the components took on the client, by name (`retry`, `close:4000`, `outbox.discard:<id>`, ...). */
  readonly actions: readonly string[]
}

/** Thrown for a trace this version cannot read; `code` is stable. */
export class ReplayError extends Error {
  readonly code = 'REPLAY_INVALID_TRACE'
  constructor(message: string) {
    super(message)
    this.name = 'ReplayError'
  }
}

function errorOf(error: TraceError | null): LifelineError | null {
  if (!error) return null
  const rebuilt = lifelineError(error.code as LifelineErrorCode, error.message)
  rebuilt.name = error.name
  return error.diagnosis ? Object.assign(rebuilt, { diagnosis: { hint: '', ...error.diagnosis } }) : rebuilt
}

function snapshotOf(recorded: TraceSnapshot, shift: number, closeAt: (at: number) => number): ConnectionSnapshot {
  const close = recorded.lastClose
  const lastClose: CloseInfo | null = close
    ? { ...close, at: closeAt(close.at), meaning: { ...close.meaning } as CloseInfo['meaning'] }
    : null
  return {
    ...recorded,
    nextRetryAt: recorded.nextRetryAt === null ? null : recorded.nextRetryAt + shift,
    lastClose,
    lastError: errorOf(recorded.lastError),
    outbox: { ...recorded.outbox },
    session: { ...recorded.session },
  }
}

function itemOf(item: TraceItem, shift: number): OutboxItem {
  const out: OutboxItem = {
    id: item.id,
    data: '[redacted]',
    bytes: item.bytes,
    state: item.state,
    attempts: item.attempts,
    createdAt: item.createdAt + shift,
    expiresAt: item.expiresAt === null ? null : item.expiresAt + shift,
    error: errorOf(item.error),
  }
  return item.channel === undefined ? out : { ...out, channel: item.channel }
}

/**
 * Replays a trace exported from `<LifelineDevtools />`: a scripted client that publishes each recorded snapshot (and
 * outbox) in turn, and emits `open`, `close` and `error` when a step brings them, so components and the devtools
 * themselves can be driven through a recorded incident in a test or a story. Payloads were never recorded: outbox
 * items carry `'[redacted]'`.
 *
 * @example const replay = replayTrace(trace); render(<ConnectionBanner client={replay.client} />); replay.step()
 */
export function replayTrace(trace: DevtoolsTrace, options: ReplayOptions = {}): ReplayedTrace {
  if (trace?.version !== 1 || !Array.isArray(trace.steps) || trace.steps.length === 0) {
    throw new ReplayError('not a version 1 devtools trace with at least one step')
  }
  const now = options.now ?? Date.now
  const rebase = options.rebase ?? true
  const steps = trace.steps
  const listeners = new Set<() => void>()
  const events = new Map<keyof ClientEvents, Set<(payload: never) => void>>()
  const actions: string[] = []
  let index = 0
  let snapshot: ConnectionSnapshot
  let items: readonly OutboxItem[] = []
  /**
   * A close keeps the time it was first shown at: rebased with the shift of that step, not of every later one (a
   * close whose `at` changed would look like a new close to whoever compares them, the devtools' timeline included).
   */
  const closes = new Map<number, number>()
  const closeAt = (shift: number) => (at: number) => {
    if (!rebase) return at
    const known = closes.get(at)
    if (known !== undefined) return known
    closes.set(at, at + shift)
    return at + shift
  }

  const emit = <K extends keyof ClientEvents>(type: K, payload: ClientEvents[K]) => {
    events.get(type)?.forEach((listener) => (listener as (value: ClientEvents[K]) => void)(payload))
  }
  const show = (target: number) => {
    const recorded = steps[target]
    if (!recorded) return
    const shift = rebase ? now() - recorded.at : 0
    const before = index === target ? null : steps[index]?.snapshot
    index = target
    snapshot = snapshotOf(recorded.snapshot, shift, closeAt(shift))
    // The items in force: this step's, else the last step before it that recorded them.
    const withItems = steps
      .slice(0, target + 1)
      .reverse()
      .find((step) => step.items)
    items = (withItems?.items ?? []).map((item) => itemOf(item, shift))
    listeners.forEach((listener) => listener())
    if (!before) return
    if (snapshot.status === 'open' && before.status !== 'open') emit('open', undefined)
    if (snapshot.lastClose && recorded.snapshot.lastClose?.at !== before.lastClose?.at)
      emit('close', snapshot.lastClose)
    if (snapshot.lastError && recorded.snapshot.lastError?.message !== before.lastError?.message) {
      emit('error', snapshot.lastError)
    }
  }
  show(0)

  const client: LifelineClient = {
    url: trace.url,
    maxAttempts: Infinity,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    on(type, listener) {
      const set = events.get(type) ?? new Set()
      events.set(type, set)
      set.add(listener as (payload: never) => void)
      return () => set.delete(listener as (payload: never) => void)
    },
    connect: () => actions.push('connect'),
    close: (code) => actions.push(code === undefined ? 'close' : `close:${code}`),
    retry: () => actions.push('retry'),
    send: () => {
      actions.push('send')
      return 'replayed'
    },
    sendJson: () => {
      actions.push('send')
      return 'replayed'
    },
    outbox: {
      items: () => items,
      retry: (id) => actions.push(id === undefined ? 'outbox.retry' : `outbox.retry:${id}`),
      discard: (id) => actions.push(id === undefined ? 'outbox.discard' : `outbox.discard:${id}`),
    },
    protocol: { ...rawProtocol(), name: trace.protocol },
    retain: () => () => undefined,
    dispose: () => listeners.clear(),
    getWebSocket: () => null,
    now: () => now(),
    resources: () => ({ timers: 0, listeners: listeners.size, sockets: 0 }),
  }

  return {
    client,
    get index() {
      return index
    },
    length: steps.length,
    step() {
      if (index >= steps.length - 1) return false
      show(index + 1)
      return true
    },
    seek(target) {
      show(Math.max(0, Math.min(steps.length - 1, Math.trunc(target))))
    },
    play(intervalMs) {
      let timer: ReturnType<typeof setTimeout> | null = null
      const next = () => {
        const current = steps[index]
        const following = steps[index + 1]
        if (!current || !following) return
        const wait = intervalMs ?? Math.min(2000, Math.max(0, following.at - current.at))
        timer = setTimeout(() => {
          show(index + 1)
          next()
        }, wait)
      }
      next()
      return () => {
        if (timer !== null) clearTimeout(timer)
        timer = null
      }
    },
    actions,
  }
}
