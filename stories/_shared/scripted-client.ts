import {
  lifelineError,
  rawProtocol,
  resolveCloseMeaning,
  type CloseInfo,
  type ConnectionSnapshot,
  type LifelineClient,
  type LifelineErrorCode,
  type OutboxItem,
} from '../../src/core'
import { idleSnapshot } from '../../src/store'

/** The snapshot of a client that has not connected yet (the store's own). */
export { idleSnapshot }

/** A client whose snapshot and outbox a story scripts: no socket, no timer but the optional countdown loop. */
export interface ScriptedClient {
  /** Pass it to `LifelineProvider client={…}` or to a component's `client` prop. */
  readonly client: LifelineClient
  /** Publishes a new snapshot, merged over the current one. */
  set(change: Partial<ConnectionSnapshot>): void
  /** Replaces the outbox items (the snapshot's outbox counts follow). */
  setItems(items: readonly OutboxItem[]): void
}

/** Options of {@link createScriptedClient}. */
export interface ScriptedClientOptions {
  /** The snapshot, merged over {@link idleSnapshot}. @default {} */
  snapshot?: Partial<ConnectionSnapshot>
  /** Outbox items. @default [] */
  items?: readonly OutboxItem[]
  /**
   * Keep `nextRetryAt` in the future: once it passes, it is pushed back by the same wait, so a countdown in a static
   * story never sits at 0 s. The wait is `nextRetryAt - Date.now()` at creation; the loop runs while subscribed.
   * @default true
   */
  loop?: boolean
  /** Called with the name of every action a component takes (retry, outbox retry or discard). @default undefined */
  onAction?: (action: string, id?: string) => void
}

function countsOf(items: readonly OutboxItem[]): ConnectionSnapshot['outbox'] {
  const count = (state: OutboxItem['state']) => items.filter((item) => item.state === state).length
  return {
    queued: count('queued'),
    inFlight: count('sending'),
    failed: count('failed'),
    bytes: items.reduce((sum, item) => sum + item.bytes, 0),
  }
}

/**
 * A fake implementing the whole `LifelineClient` interface from a scripted snapshot, for stories that show a state
 * without a server (like test/components/fake-client.tsx, without vitest). Retry and discard on the outbox act on the
 * scripted items, so the queue stories stay interactive.
 */
export function createScriptedClient(options: ScriptedClientOptions = {}): ScriptedClient {
  let items: readonly OutboxItem[] = options.items ?? []
  let snapshot: ConnectionSnapshot = { ...idleSnapshot, ...options.snapshot, outbox: countsOf(items) }
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach((listener) => listener())
  const act = (action: string, id?: string) => options.onAction?.(action, id)

  const setItems = (next: readonly OutboxItem[]) => {
    items = next
    snapshot = { ...snapshot, outbox: countsOf(items) }
    notify()
  }

  // The countdown loop runs only while someone listens, so a client made and dropped by StrictMode leaks nothing.
  const wait = snapshot.nextRetryAt === null ? 0 : snapshot.nextRetryAt - Date.now()
  let timer: ReturnType<typeof setInterval> | null = null
  const tick = () => {
    if (snapshot.nextRetryAt !== null && snapshot.nextRetryAt <= Date.now()) {
      snapshot = { ...snapshot, nextRetryAt: Date.now() + wait }
      notify()
    }
  }

  const client: LifelineClient = {
    url: 'wss://example.test/live',
    maxAttempts: Infinity,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      if (timer === null && options.loop !== false && wait > 0) timer = setInterval(tick, 250)
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && timer !== null) {
          clearInterval(timer)
          timer = null
        }
      }
    },
    on: () => () => undefined,
    connect: () => act('connect'),
    close: () => act('close'),
    retry: () => act('retry'),
    send: () => 'scripted',
    sendJson: () => 'scripted',
    outbox: {
      items: () => items,
      retry(id) {
        act('outbox.retry', id)
        setItems(
          items.map((item) =>
            item.state === 'failed' && (id === undefined || item.id === id)
              ? { ...item, state: 'queued', error: null }
              : item,
          ),
        )
      },
      discard(id) {
        act('outbox.discard', id)
        setItems(id === undefined ? [] : items.filter((item) => item.id !== id))
      },
    },
    protocol: rawProtocol(),
    retain: () => () => undefined,
    dispose: () => undefined,
    getWebSocket: () => null,
    resources: () => ({ timers: timer === null ? 0 : 1, listeners: listeners.size, sockets: 0 }),
    now: () => Date.now(),
  }

  return {
    client,
    set(change) {
      snapshot = { ...snapshot, ...change }
      notify()
    },
    setItems,
  }
}

/** The `lastClose` of a close with `code` (its meaning from the default table). */
export function closed(code: number, reason = '', at = Date.now()): CloseInfo {
  return { code, reason, wasClean: code !== 1006, at, meaning: resolveCloseMeaning(code) }
}

/** A `lastError` with `code`. */
export const failure = (code: LifelineErrorCode, message?: string) => lifelineError(code, message)

/**
 * A `lastError` like the client's after a failed upgrade was probed: code `HANDSHAKE_FAILED` with `.diagnosis`
 * (built by hand, so the stories do not depend on where the diagnostics module is exported from).
 */
export function handshakeFailure(diagnosis: { kind: string; status: number | null; reason: string | null }) {
  return Object.assign(lifelineError('HANDSHAKE_FAILED', `The upgrade failed: ${diagnosis.kind}`), {
    diagnosis: { retryAfterMs: null, hint: '', ...diagnosis },
  })
}

/** An outbox item; `bytes` is the UTF-8 size of text data. */
export function outboxItem(id: string, data: OutboxItem['data'], change: Partial<OutboxItem> = {}): OutboxItem {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data).byteLength : 16
  return {
    id,
    data,
    bytes,
    state: 'queued',
    attempts: 0,
    createdAt: Date.now(),
    expiresAt: null,
    error: null,
    ...change,
  }
}

/** One state a story renders: its title and the snapshot (and items) that produce it. */
export interface ScriptedState {
  /** Shown above the rendered state. */
  title: string
  /** What the snapshot has that makes this state. */
  snapshot: Partial<ConnectionSnapshot>
  /** Outbox items, for the queue. */
  items?: readonly OutboxItem[]
}

/** Every state the banner has words for, relative to `now`. */
export function bannerStates(now = Date.now()): ScriptedState[] {
  return [
    { title: 'Offline', snapshot: { status: 'offline', online: false } },
    {
      title: 'Reconnecting, with the countdown',
      snapshot: { status: 'reconnecting', attempt: 2, nextRetryAt: now + 8000, lastClose: closed(1006) },
    },
    {
      title: 'Attempt running after a failure',
      snapshot: { status: 'connecting', attempt: 3, lastClose: closed(1006) },
    },
    { title: 'Degraded: connected over long-poll', snapshot: { status: 'open', transport: 'longpoll' } },
    { title: 'Refreshing the token (4001)', snapshot: { status: 'connecting', lastClose: closed(4001) } },
    {
      title: 'Session expired (4003)',
      snapshot: { status: 'reconnecting', attempt: 1, nextRetryAt: now + 3000, lastClose: closed(4003) },
    },
    {
      title: 'Rate limited (4002), with the wait',
      snapshot: {
        status: 'reconnecting',
        attempt: 1,
        nextRetryAt: now + 90_000,
        lastClose: closed(4002, '{"retryAfterMs":90000}'),
      },
    },
    {
      title: 'Failed: policy violation (1008)',
      snapshot: { status: 'failed', lastClose: closed(1008), lastError: failure('CONNECTION_CLOSED') },
    },
    {
      title: 'Failed: attempts spent',
      snapshot: { status: 'failed', attempt: 10, lastClose: closed(1006), lastError: failure('MAX_ATTEMPTS') },
    },
    {
      title: 'Failed: handshake refused (401)',
      snapshot: {
        status: 'failed',
        attempt: 2,
        lastError: handshakeFailure({ kind: 'unauthorized', status: 401, reason: 'unauthorized' }),
      },
    },
    {
      title: 'Failed: sign-in expired',
      snapshot: { status: 'failed', lastClose: closed(4001), lastError: failure('TOKEN_REFRESH_FAILED') },
    },
  ]
}

/** Every state of the countdown, relative to `now`. */
export function countdownStates(now = Date.now()): ScriptedState[] {
  return [
    { title: 'Waiting: first retry', snapshot: { status: 'reconnecting', attempt: 1, nextRetryAt: now + 2000 } },
    {
      title: 'Waiting: fourth retry, longer backoff',
      snapshot: { status: 'reconnecting', attempt: 4, nextRetryAt: now + 12_000, lastClose: closed(1006) },
    },
    {
      title: 'Waiting: rate limited for 2 minutes',
      snapshot: {
        status: 'reconnecting',
        attempt: 1,
        nextRetryAt: now + 125_000,
        lastClose: closed(4002, '{"retryAfterMs":125000}'),
      },
    },
    { title: 'Connecting: the attempt is running', snapshot: { status: 'connecting', attempt: 5 } },
    { title: 'Inactive: connected (renders nothing)', snapshot: { status: 'open', transport: 'websocket' } },
  ]
}

const sample = [
  outboxItem('m1', '{"type":"chat","text":"On my way, 5 minutes"}'),
  outboxItem('m2', '{"type":"chat","text":"Can you bring the slides?"}', { state: 'sending', attempts: 1 }),
  outboxItem('m3', '{"type":"cursor","x":312,"y":88}'),
]

/** Every state of the queue. */
export function queueStates(): ScriptedState[] {
  const offline = { status: 'offline', online: false } as const
  return [
    { title: 'Waiting: three messages, collapsed', snapshot: offline, items: sample },
    {
      title: 'Failed and waiting',
      snapshot: offline,
      items: [
        ...sample.slice(0, 2),
        outboxItem('m4', '{"type":"upload","name":"report.pdf","size":2400000}', {
          state: 'failed',
          error: failure('MESSAGE_TOO_LARGE'),
        }),
        outboxItem('m5', 'x'.repeat(300), { state: 'failed', error: failure('MESSAGE_REFUSED') }),
        outboxItem('m6', new Uint8Array([1, 2, 3])),
      ],
    },
    {
      title: 'Failed only',
      snapshot: { status: 'open', transport: 'websocket' },
      items: [outboxItem('m7', '{"type":"vote","id":7}', { state: 'failed', error: failure('MESSAGE_DISCARDED') })],
    },
    { title: 'Empty (renders nothing)', snapshot: { status: 'open', transport: 'websocket' }, items: [] },
  ]
}
