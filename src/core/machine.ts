import { computeBackoff, spreadDelay, type BackoffOption } from './backoff'
import { parseRetryAfter, resolveCloseMeaning, type CloseCodeTable } from './close-codes'
import { lifelineError, type LifelineError } from './errors'
import type { CloseInfo, ConnectionStatus } from './types'

/** The machine's own state: the decision-relevant part of the snapshot. */
export interface MachineState {
  status: ConnectionStatus
  /** Consecutive failed attempts since the last stable open. */
  attempt: number
  /** Epoch ms of the next attempt while `reconnecting`. */
  nextRetryAt: number | null
  /** Epoch ms before which no attempt may be made (a server-imposed wait: 4002, 1013); 0 when none. */
  holdUntil: number
  /** The last backoff delay (for decorrelated jitter). */
  lastDelayMs: number
  lastClose: CloseInfo | null
  lastError: LifelineError | null
  /** What the network source says. */
  online: boolean
  /** Epoch ms of token refreshes inside the current window. */
  tokenRefreshes: readonly number[]
  /** Increments every time a transport is opened; timers and transports are keyed by it. */
  epoch: number
}

/** Everything that can happen to a connection. */
export type MachineEvent =
  | { type: 'CONNECT' }
  | { type: 'RETRY' }
  | { type: 'CLOSE'; code: number; reason: string }
  | { type: 'OPENED' }
  | { type: 'CLOSED'; code: number; reason: string; wasClean: boolean; stop?: boolean }
  | { type: 'ERROR'; error: LifelineError }
  | { type: 'FAIL'; error: LifelineError }
  | { type: 'CONNECT_TIMEOUT'; waitingForToken: boolean }
  | { type: 'HEARTBEAT_TIMEOUT' }
  | { type: 'RETRY_DUE' }
  | { type: 'STABLE' }
  | { type: 'CLOSE_TIMEOUT' }
  | { type: 'TOKEN_FAILED'; error: LifelineError }
  | { type: 'ONLINE' }
  | { type: 'OFFLINE' }
  | { type: 'VISIBLE' }
  | { type: 'HIDDEN' }
  /** The transport choice changed (long-poll fallback, or back to WebSocket): reconnect at once. */
  | { type: 'SWITCH' }
  /**
   * What probing a failed handshake found: recorded in `lastError`; `stop` gives up (a refusal that retrying cannot
   * fix), `holdMs` is a server-imposed wait the next attempt honours.
   */
  | { type: 'DIAGNOSED'; error: LifelineError; stop: boolean; holdMs: number | null }

/** Event names. */
export type MachineEventType = MachineEvent['type']

/** Side effects the runtime performs after a transition. */
export type Effect =
  | { type: 'openTransport' }
  | { type: 'closeTransport'; code: number; reason: string }
  | { type: 'dropTransport' }
  | { type: 'refreshToken' }
  | { type: 'flushOutbox' }
  | { type: 'failOutbound'; code: number }
  | { type: 'expireSession' }
  | { type: 'probe' }

/** Policies the machine needs, resolved from the options. */
export interface MachineConfig {
  minDelayMs: number
  maxDelayMs: number
  maxAttempts: number
  backoff: BackoffOption
  closeCodes: CloseCodeTable
  /** Whether a `getToken` was given. */
  canRefreshToken: boolean
  maxTokenRefreshes: number
  tokenRefreshWindowMs: number
  connectTimeoutMs: number
  closeTimeoutMs: number
  stableAfterMs: number
}

/** The machine's inputs besides state and event: time, randomness and policy. Passing them in keeps it pure. */
export interface MachineEnv {
  /** Epoch ms. */
  now: number
  random: () => number
  config: MachineConfig
}

/** The result of a transition. */
export interface Step {
  state: MachineState
  effects: readonly Effect[]
}

/** A delayed event the runtime arms on entering a state and disarms on leaving it. */
export interface TimerSpec {
  event: 'CONNECT_TIMEOUT' | 'RETRY_DUE' | 'STABLE' | 'CLOSE_TIMEOUT'
  delayMs: number
}

type Handler<E extends MachineEventType> = (
  state: MachineState,
  event: Extract<MachineEvent, { type: E }>,
  env: MachineEnv,
) => Step

/**
 * Work the runtime keeps going while a state lasts, started on entry and cleaned up on exit: `timer` arms the state's
 * delayed event (`after`), `heartbeat` pings the server, `watch` follows the network and page visibility.
 */
export type ActivityName = 'timer' | 'heartbeat' | 'watch'

type StateNode = {
  /** The delayed event of this state, if any. */
  after?: (state: MachineState, env: MachineEnv) => TimerSpec | null
  /** The activities running while in this state. */
  activities?: readonly ActivityName[]
  on: { [E in MachineEventType]?: Handler<E> }
}

/** The state before the first `connect()`. */
export function initialMachineState(online: boolean): MachineState {
  return {
    status: 'idle',
    attempt: 0,
    nextRetryAt: null,
    holdUntil: 0,
    lastDelayMs: 0,
    lastClose: null,
    lastError: null,
    online,
    tokenRefreshes: [],
    epoch: 0,
  }
}

const stay = (state: MachineState, ...effects: Effect[]): Step => ({ state, effects })

/** Opens a transport now, unless the network is down (then waits in `offline`) and `force` is off. */
function open(state: MachineState, force = false): Step {
  if (!state.online && !force) return stay({ ...state, status: 'offline', nextRetryAt: null })
  return stay(
    { ...state, status: 'connecting', nextRetryAt: null, holdUntil: 0, epoch: state.epoch + 1 },
    { type: 'openTransport' },
  )
}

/** Opens now if no server-imposed wait is pending, else waits for it. */
function openWhenAllowed(state: MachineState, env: MachineEnv): Step {
  return env.now >= state.holdUntil
    ? open(state)
    : stay({ ...state, status: state.online ? 'reconnecting' : 'offline', nextRetryAt: state.holdUntil })
}

function fail(state: MachineState, error: LifelineError, ...effects: Effect[]): Step {
  return stay({ ...state, status: 'failed', nextRetryAt: null, holdUntil: 0, lastError: error }, ...effects)
}

interface RetryOptions {
  /** Minimum wait; a server-imposed wait when > 0. */
  floorMs?: number
  /** A wait that replaces the computed backoff (server's `retryAfterMs`). */
  exactMs?: number | null
  /** A wide jitter window even for the first retry (announced restarts). */
  spread?: boolean
}

/** Schedules the next attempt by the backoff policy, or fails when `maxAttempts` is spent. */
function retry(state: MachineState, env: MachineEnv, options: RetryOptions, ...effects: Effect[]): Step {
  const { config } = env
  const attempt = state.attempt + 1
  if (attempt > config.maxAttempts) {
    const error = lifelineError('MAX_ATTEMPTS', `${config.maxAttempts} attempts`, state.lastError ?? undefined)
    return fail(state, error, ...effects)
  }
  const context = {
    attempt,
    minDelayMs: config.minDelayMs,
    maxDelayMs: config.maxDelayMs,
    previousDelayMs: state.lastDelayMs || config.minDelayMs,
    random: env.random,
  }
  // An announced restart spreads even the first retry widely; later ones grow as usual (and count toward maxAttempts).
  const computed = Math.max(options.spread ? spreadDelay(context) : 0, computeBackoff(config.backoff, context))
  const floor = options.floorMs ?? 0
  const delay = options.exactMs ?? Math.max(computed, floor)
  const next: MachineState = {
    ...state,
    attempt,
    lastDelayMs: delay,
    holdUntil: floor > 0 ? env.now + delay : 0,
    // Offline: no attempt is made; the `online` event resumes (still honouring a server-imposed wait).
    nextRetryAt: state.online ? env.now + delay : null,
    status: state.online ? 'reconnecting' : 'offline',
  }
  return stay(next, ...effects)
}

/** What a `CLOSED` event records in `lastClose`. */
function closeInfo(event: Extract<MachineEvent, { type: 'CLOSED' }>, env: MachineEnv): CloseInfo {
  const meaning = resolveCloseMeaning(event.code, env.config.closeCodes)
  return { code: event.code, reason: event.reason, wasClean: event.wasClean, at: env.now, meaning }
}

/** The close-code table applied: DESIGN §4. */
const closed: Handler<'CLOSED'> = (state, event, env) => {
  const { config, now } = env
  const lastClose = closeInfo(event, env)
  const { meaning } = lastClose
  const error = lifelineError('CONNECTION_CLOSED', `${event.code} ${meaning.name}`)
  const base: MachineState = { ...state, lastClose, lastError: state.lastError ?? error }
  const floorMs = meaning.floorMs ?? 0
  // `stop`: the app's `shouldReconnect` said no.
  const action = event.stop ? 'stop' : meaning.action
  switch (action) {
    case 'stop':
      return fail(base, error)
    case 'refresh-token':
    case 'session-expired': {
      const effects: Effect[] = meaning.action === 'session-expired' ? [{ type: 'expireSession' }] : []
      if (!config.canRefreshToken) {
        if (meaning.action === 'session-expired') return retry(base, env, { floorMs }, ...effects)
        return fail(base, lifelineError('TOKEN_REFRESH_FAILED', 'no getToken'))
      }
      const recent = state.tokenRefreshes.filter((at) => now - at < config.tokenRefreshWindowMs)
      if (recent.length >= config.maxTokenRefreshes) {
        return fail(base, lifelineError('TOKEN_REFRESH_FAILED', `refused ${recent.length + 1} times`), ...effects)
      }
      const refreshed = { ...base, tokenRefreshes: [...recent, now] }
      const step = open(refreshed)
      return stay(step.state, ...effects, { type: 'refreshToken' }, ...step.effects)
    }
    case 'rate-limit': {
      const wait = parseRetryAfter(event.reason)
      const exactMs = wait === null ? null : Math.min(Math.max(wait, config.minDelayMs), 300_000)
      return retry(base, env, { floorMs: exactMs ?? floorMs, exactMs })
    }
    case 'fail-outbound':
      return retry(base, env, { floorMs }, { type: 'failOutbound', code: event.code })
    case 'reconnect-spread':
      return retry(base, env, { spread: true, floorMs })
    case 'reconnect':
      // An open connection that ends abnormally (1006) is most often a server that crashed or was killed, dropping
      // every client at once: spread the first retry like an announced restart, so they do not return in one second.
      // Not inside an accept-then-drop loop (attempt > 0: never stable since): there the backoff already grows, and a
      // spread at every drop would only delay the long-poll fallback that such a loop calls for.
      return retry(base, env, {
        floorMs,
        spread: state.status === 'open' && event.code === 1006 && state.attempt === 0,
      })
    default:
      return action satisfies never
  }
}

/** A fresh connect after `idle` or `closed` starts the count over. */
const connectNow: Handler<'CONNECT'> = (state) => open({ ...state, attempt: 0, lastDelayMs: 0, tokenRefreshes: [] })
// Forced open: no server-imposed wait survives it.
const retryNow: Handler<'RETRY'> = (state) =>
  open({ ...state, attempt: 0, lastDelayMs: 0, tokenRefreshes: [], lastError: null }, true)
const toClosed: Handler<'CLOSE'> = (state) => stay({ ...state, status: 'closed', nextRetryAt: null, holdUntil: 0 })
const goOnline = (state: MachineState): Step => stay({ ...state, online: true })
const goOffline = (state: MachineState): Step => stay({ ...state, online: false })
const recordError: Handler<'ERROR'> = (state, event) => stay({ ...state, lastError: event.error })
const failHard: Handler<'FAIL'> = (state, event) => fail(state, event.error, { type: 'dropTransport' })
/** A diagnosis while waiting or connecting: the stop, the wait and the error it carries. */
const diagnosed: Handler<'DIAGNOSED'> = (state, event, env) => {
  const next = { ...state, lastError: event.error }
  if (event.stop) return fail(next, event.error, { type: 'dropTransport' })
  if (event.holdMs === null || state.status !== 'reconnecting' || state.nextRetryAt === null) return stay(next)
  const until = Math.max(state.nextRetryAt, env.now + event.holdMs)
  return stay({ ...next, nextRetryAt: until, holdUntil: until })
}

/**
 * The connection machine as data: for each status, the delayed event it arms and the events it handles. An event a
 * status does not list is ignored (state unchanged, no effects).
 */
export const machine: { readonly [S in ConnectionStatus]: StateNode } = {
  idle: {
    on: { CONNECT: connectNow, RETRY: retryNow, CLOSE: toClosed, ONLINE: goOnline, OFFLINE: goOffline },
  },
  connecting: {
    activities: ['timer', 'watch'],
    after: (_, env) => ({ event: 'CONNECT_TIMEOUT', delayMs: env.config.connectTimeoutMs }),
    on: {
      OPENED: (state) => stay({ ...state, status: 'open', lastError: null, holdUntil: 0 }, { type: 'flushOutbox' }),
      CLOSED: closed,
      ERROR: recordError,
      FAIL: failHard,
      CONNECT_TIMEOUT: (state, event, env) => {
        const error = event.waitingForToken
          ? lifelineError('TOKEN_REFRESH_FAILED', 'timed out')
          : lifelineError('CONNECT_TIMEOUT')
        return retry({ ...state, lastError: error }, env, {}, { type: 'dropTransport' })
      },
      TOKEN_FAILED: (state, event, env) =>
        retry({ ...state, lastError: event.error }, env, {}, { type: 'dropTransport' }),
      DIAGNOSED: diagnosed,
      CLOSE: (state) => stay({ ...state, status: 'closed' }, { type: 'dropTransport' }),
      OFFLINE: (state) => stay({ ...state, online: false, status: 'offline' }, { type: 'dropTransport' }),
      ONLINE: goOnline,
    },
  },
  open: {
    activities: ['timer', 'heartbeat', 'watch'],
    after: (_, env) => ({ event: 'STABLE', delayMs: env.config.stableAfterMs }),
    on: {
      CLOSED: closed,
      ERROR: recordError,
      FAIL: failHard,
      STABLE: (state) => stay({ ...state, attempt: 0, lastDelayMs: 0 }),
      HEARTBEAT_TIMEOUT: (state, _, env) =>
        retry({ ...state, lastError: lifelineError('HEARTBEAT_TIMEOUT') }, env, {}, { type: 'dropTransport' }),
      CLOSE: (state, event) =>
        stay({ ...state, status: 'closing' }, { type: 'closeTransport', code: event.code, reason: event.reason }),
      // The browser says the network went away: a live socket may still work, so prove it rather than drop it.
      OFFLINE: (state) => stay({ ...state, online: false }, { type: 'probe' }),
      ONLINE: goOnline,
      VISIBLE: (state) => stay(state, { type: 'probe' }),
      SWITCH: (state) => open(state, true),
    },
  },
  reconnecting: {
    activities: ['timer', 'watch'],
    after: (state, env) =>
      state.nextRetryAt === null ? null : { event: 'RETRY_DUE', delayMs: Math.max(0, state.nextRetryAt - env.now) },
    on: {
      RETRY_DUE: (state) => open(state),
      RETRY: retryNow,
      // CONNECT is ignored: a component mounting during an outage must not cut the backoff short.
      CLOSE: toClosed,
      ONLINE: (state, _, env) => openWhenAllowed({ ...state, online: true }, env),
      OFFLINE: (state) => stay({ ...state, online: false, status: 'offline', nextRetryAt: null }),
      VISIBLE: (state, _, env) => openWhenAllowed(state, env),
      SWITCH: (state, _, env) => openWhenAllowed(state, env),
      DIAGNOSED: diagnosed,
    },
  },
  offline: {
    activities: ['watch'],
    on: {
      ONLINE: (state, _, env) => openWhenAllowed({ ...state, online: true }, env),
      OFFLINE: goOffline,
      RETRY: retryNow,
      CLOSE: toClosed,
      DIAGNOSED: (state, event, env) => (event.stop ? diagnosed(state, event, env) : stay(state)),
    },
  },
  closing: {
    activities: ['timer', 'watch'],
    after: (_, env) => ({ event: 'CLOSE_TIMEOUT', delayMs: env.config.closeTimeoutMs }),
    on: {
      CLOSED: (state, event, env) => stay({ ...state, status: 'closed', lastClose: closeInfo(event, env) }),
      CLOSE_TIMEOUT: (state) => stay({ ...state, status: 'closed' }, { type: 'dropTransport' }),
      CONNECT: (state) => open(state),
      RETRY: retryNow,
      ONLINE: goOnline,
      OFFLINE: goOffline,
    },
  },
  closed: {
    on: { CONNECT: connectNow, RETRY: retryNow, ONLINE: goOnline, OFFLINE: goOffline },
  },
  failed: {
    on: { RETRY: retryNow, ONLINE: goOnline, OFFLINE: goOffline },
  },
}

/** The pure transition function: `(state, event) → { state, effects }`. */
export function transition(state: MachineState, event: MachineEvent, env: MachineEnv): Step {
  const handler = machine[state.status].on[event.type] as Handler<MachineEventType> | undefined
  return handler ? handler(state, event, env) : stay(state)
}

/** The delayed event armed while in `state`, if any. */
export function timerFor(state: MachineState, env: MachineEnv): TimerSpec | null {
  return machine[state.status].after?.(state, env) ?? null
}

/** The activities declared by the state `status`, in start order. */
export function activitiesFor(status: ConnectionStatus): readonly ActivityName[] {
  return machine[status].activities ?? []
}
