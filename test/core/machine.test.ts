import { describe, expect, it } from 'vitest'
import {
  defaultCloseCodes,
  initialMachineState,
  lifelineError,
  timerFor,
  transition,
  type ConnectionStatus,
  type MachineConfig,
  type MachineEnv,
  type MachineEvent,
  type MachineEventType,
  type MachineState,
} from '../../src/core'

const NOW = 1_700_000_000_000
const MIN = 500
const MAX = 30_000

const config: MachineConfig = {
  minDelayMs: MIN,
  maxDelayMs: MAX,
  maxAttempts: Infinity,
  backoff: 'full-jitter',
  closeCodes: defaultCloseCodes,
  canRefreshToken: true,
  maxTokenRefreshes: 3,
  tokenRefreshWindowMs: 30_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5000,
  stableAfterMs: 5000,
}

/** The fixed environment: a frozen clock, a mid-range random and the test config. */
function envAt(now = NOW, random = 0.5, overrides: Partial<MachineConfig> = {}): MachineEnv {
  return { now, random: () => random, config: { ...config, ...overrides } }
}
const env = envAt()

/** Just below 1: the top of every jitter range. */
const TOP = 1 - Number.EPSILON

function stateIn(status: ConnectionStatus, patch: Partial<MachineState> = {}): MachineState {
  return {
    ...initialMachineState(status !== 'offline'),
    status,
    attempt: status === 'reconnecting' || status === 'offline' ? 2 : 0,
    nextRetryAt: status === 'reconnecting' ? NOW + 1000 : null,
    epoch: status === 'idle' ? 0 : 1,
    ...patch,
  }
}

const error = lifelineError('TRANSPORT_ERROR', 'test error')

/** One sample of every event type. */
const events: { [E in MachineEventType]: Extract<MachineEvent, { type: E }> } = {
  CONNECT: { type: 'CONNECT' },
  RETRY: { type: 'RETRY' },
  CLOSE: { type: 'CLOSE', code: 1000, reason: 'bye' },
  OPENED: { type: 'OPENED' },
  CLOSED: { type: 'CLOSED', code: 1006, reason: '', wasClean: false },
  ERROR: { type: 'ERROR', error },
  FAIL: { type: 'FAIL', error },
  CONNECT_TIMEOUT: { type: 'CONNECT_TIMEOUT', waitingForToken: false },
  HEARTBEAT_TIMEOUT: { type: 'HEARTBEAT_TIMEOUT' },
  RETRY_DUE: { type: 'RETRY_DUE' },
  STABLE: { type: 'STABLE' },
  CLOSE_TIMEOUT: { type: 'CLOSE_TIMEOUT' },
  TOKEN_FAILED: { type: 'TOKEN_FAILED', error },
  ONLINE: { type: 'ONLINE' },
  OFFLINE: { type: 'OFFLINE' },
  VISIBLE: { type: 'VISIBLE' },
  HIDDEN: { type: 'HIDDEN' },
  SWITCH: { type: 'SWITCH' },
  DIAGNOSED: { type: 'DIAGNOSED', error, stop: false, holdMs: 5000 },
}
const eventTypes = Object.keys(events) as MachineEventType[]
const statuses: ConnectionStatus[] = [
  'idle',
  'connecting',
  'open',
  'reconnecting',
  'offline',
  'closing',
  'closed',
  'failed',
]

/** [next status, effect types] for every handled (status, event); anything not listed must be ignored. */
type Outcome = [ConnectionStatus, string[]]
const table: { [S in ConnectionStatus]: Partial<Record<MachineEventType, Outcome>> } = {
  idle: {
    CONNECT: ['connecting', ['openTransport']],
    RETRY: ['connecting', ['openTransport']],
    CLOSE: ['closed', []],
    ONLINE: ['idle', []],
    OFFLINE: ['idle', []],
  },
  connecting: {
    OPENED: ['open', ['flushOutbox']],
    CLOSED: ['reconnecting', []],
    ERROR: ['connecting', []],
    FAIL: ['failed', ['dropTransport']],
    CONNECT_TIMEOUT: ['reconnecting', ['dropTransport']],
    TOKEN_FAILED: ['reconnecting', ['dropTransport']],
    CLOSE: ['closed', ['dropTransport']],
    OFFLINE: ['offline', ['dropTransport']],
    ONLINE: ['connecting', []],
    DIAGNOSED: ['connecting', []],
  },
  open: {
    CLOSED: ['reconnecting', []],
    ERROR: ['open', []],
    FAIL: ['failed', ['dropTransport']],
    STABLE: ['open', []],
    HEARTBEAT_TIMEOUT: ['reconnecting', ['dropTransport']],
    CLOSE: ['closing', ['closeTransport']],
    OFFLINE: ['open', ['probe']],
    ONLINE: ['open', []],
    VISIBLE: ['open', ['probe']],
    SWITCH: ['connecting', ['openTransport']],
  },
  reconnecting: {
    RETRY_DUE: ['connecting', ['openTransport']],
    RETRY: ['connecting', ['openTransport']],
    CLOSE: ['closed', []],
    ONLINE: ['connecting', ['openTransport']],
    OFFLINE: ['offline', []],
    VISIBLE: ['connecting', ['openTransport']],
    SWITCH: ['connecting', ['openTransport']],
    DIAGNOSED: ['reconnecting', []],
  },
  offline: {
    ONLINE: ['connecting', ['openTransport']],
    OFFLINE: ['offline', []],
    RETRY: ['connecting', ['openTransport']],
    CLOSE: ['closed', []],
  },
  closing: {
    CLOSED: ['closed', []],
    CLOSE_TIMEOUT: ['closed', ['dropTransport']],
    CONNECT: ['connecting', ['openTransport']],
    RETRY: ['connecting', ['openTransport']],
    ONLINE: ['closing', []],
    OFFLINE: ['closing', []],
  },
  closed: {
    CONNECT: ['connecting', ['openTransport']],
    RETRY: ['connecting', ['openTransport']],
    ONLINE: ['closed', []],
    OFFLINE: ['closed', []],
  },
  failed: {
    RETRY: ['connecting', ['openTransport']],
    ONLINE: ['failed', []],
    OFFLINE: ['failed', []],
  },
}

const grid = statuses.flatMap((status) =>
  eventTypes.map((type) => ({ status, type, outcome: table[status][type] ?? null })),
)

const effectTypes = (effects: readonly { type: string }[]) => effects.map((effect) => effect.type)

describe('transition', () => {
  it('covers every status × every event type (8 × 19)', () => {
    expect(grid).toHaveLength(8 * 19)
  })

  it.each(grid)('$status + $type', ({ status, type, outcome }) => {
    const before = stateIn(status)
    const step = transition(before, events[type], env)
    if (outcome === null) {
      expect(step.state).toBe(before)
      expect(step.effects).toEqual([])
      return
    }
    const [next, effects] = outcome
    // Handled: a new state, or at least an effect (open + VISIBLE keeps the state and only probes).
    expect(step.state !== before || step.effects.length > 0).toBe(true)
    expect(step.state.status).toBe(next)
    expect(effectTypes(step.effects)).toEqual(effects)
  })

  it('never mutates the state it is given', () => {
    for (const { status, type } of grid) {
      const before = Object.freeze(stateIn(status))
      const copy = structuredClone(before)
      transition(before, events[type], env)
      expect(before).toEqual(copy)
    }
  })

  it('bumps the epoch exactly when it opens a transport', () => {
    for (const { status, type } of grid) {
      const before = stateIn(status)
      const step = transition(before, events[type], env)
      const opens = effectTypes(step.effects).includes('openTransport')
      expect(step.state.epoch, `${status} + ${type}`).toBe(before.epoch + (opens ? 1 : 0))
    }
  })

  it('sets nextRetryAt only while reconnecting', () => {
    for (const { status, type } of grid) {
      const step = transition(stateIn(status), events[type], env)
      if (step.state.status === 'reconnecting')
        expect(step.state.nextRetryAt, `${status} + ${type}`).toBeGreaterThan(NOW)
      else expect(step.state.nextRetryAt, `${status} + ${type}`).toBeNull()
    }
  })

  it('records the error of ERROR without leaving connecting or open', () => {
    for (const status of ['connecting', 'open'] as const) {
      const step = transition(stateIn(status), events.ERROR, env)
      expect(step.state.lastError).toBe(error)
    }
  })

  it('clears lastError and the hold on OPENED but keeps attempt (only STABLE resets it)', () => {
    const before = stateIn('connecting', { attempt: 4, lastError: error, holdUntil: NOW - 1 })
    const { state } = transition(before, events.OPENED, env)
    expect(state).toMatchObject({ status: 'open', attempt: 4, lastError: null, holdUntil: 0 })
  })

  it('resets attempt and the last delay on STABLE (R1: reset only after stable uptime)', () => {
    const before = stateIn('open', { attempt: 6, lastDelayMs: 20_000 })
    const { state } = transition(before, events.STABLE, env)
    expect(state).toMatchObject({ status: 'open', attempt: 0, lastDelayMs: 0 })
  })

  it('grows the backoff range across an accept-then-drop loop until STABLE', () => {
    let state = stateIn('connecting')
    const top = envAt(NOW, TOP)
    for (let attempt = 1; attempt <= 5; attempt++) {
      state = transition(state, events.OPENED, top).state
      state = transition(state, { type: 'CLOSED', code: 1006, reason: '', wasClean: false }, top).state
      expect(state.attempt).toBe(attempt)
      // The first drop of an open connection spreads over [MIN, 10·MIN] (a crash drops everyone at once); later drops
      // in the loop (never stable since) take the plain, growing backoff.
      const plain = Math.min(MAX, MIN * 2 ** attempt)
      expect(state.nextRetryAt! - NOW).toBeCloseTo(attempt === 1 ? Math.max(10 * MIN, plain) : plain, 0)
      state = transition(state, events.RETRY_DUE, top).state
    }
    state = transition(state, events.OPENED, top).state
    state = transition(state, events.STABLE, top).state
    state = transition(state, { type: 'CLOSED', code: 1006, reason: '', wasClean: false }, top).state
    expect(state.attempt).toBe(1)
    expect(state.nextRetryAt! - NOW).toBeLessThanOrEqual(MIN * 10)
  })

  it('resets attempt, backoff, hold, token cap and error on RETRY, from every state', () => {
    for (const status of statuses) {
      const before = stateIn(status, {
        attempt: 7,
        lastDelayMs: 9000,
        holdUntil: NOW + 60_000,
        tokenRefreshes: [NOW - 1, NOW - 2, NOW - 3],
        lastError: error,
      })
      const { state, effects } = transition(before, events.RETRY, env)
      if (status === 'connecting' || status === 'open') {
        expect(state, status).toBe(before)
        continue
      }
      expect(state, status).toMatchObject({
        status: 'connecting',
        attempt: 0,
        lastDelayMs: 0,
        holdUntil: 0,
        tokenRefreshes: [],
        lastError: null,
      })
      expect(effectTypes(effects)).toEqual(['openTransport'])
    }
  })

  it('opens on RETRY even while offline (the user asked), but waits in offline on CONNECT', () => {
    expect(transition(stateIn('offline'), events.RETRY, env).state.status).toBe('connecting')
    const idleOffline = stateIn('idle', { online: false })
    const step = transition(idleOffline, events.CONNECT, env)
    expect(step.state.status).toBe('offline')
    expect(step.effects).toEqual([])
  })
})

describe('transition: user close (CLOSE) from each state', () => {
  it.each<[ConnectionStatus, ConnectionStatus, string[]]>([
    ['idle', 'closed', []],
    ['connecting', 'closed', ['dropTransport']],
    ['open', 'closing', ['closeTransport']],
    ['reconnecting', 'closed', []],
    ['offline', 'closed', []],
    ['closing', 'closing', []],
    ['closed', 'closed', []],
    ['failed', 'failed', []],
  ])('from %s goes to %s with %j', (status, next, effects) => {
    const step = transition(
      stateIn(status, { holdUntil: NOW + 1000 }),
      { type: 'CLOSE', code: 4000, reason: 'done' },
      env,
    )
    expect(step.state.status).toBe(next)
    expect(effectTypes(step.effects)).toEqual(effects)
    expect(step.state.nextRetryAt).toBeNull()
  })

  it('passes the code and reason to closeTransport from open', () => {
    const step = transition(stateIn('open'), { type: 'CLOSE', code: 4000, reason: 'done' }, env)
    expect(step.effects).toEqual([{ type: 'closeTransport', code: 4000, reason: 'done' }])
  })

  it('ends closing in closed on the close handshake, with lastClose recorded and no retry', () => {
    const step = transition(stateIn('closing'), { type: 'CLOSED', code: 1000, reason: 'ok', wasClean: true }, env)
    expect(step.state.status).toBe('closed')
    expect(step.state.lastClose).toMatchObject({
      code: 1000,
      reason: 'ok',
      wasClean: true,
      at: NOW,
      meaning: { name: 'normal' },
    })
    expect(step.effects).toEqual([])
  })
})

/** Expected behaviour of each close code (R12). `delay`: [low, high] of nextRetryAt - now, or null for none. */
interface CloseCase {
  code: number
  status: ConnectionStatus
  delay: [number, number] | null
  effects: string[]
  hold?: boolean
  errorCode?: string
  /** The delay range when the connection was open, if it differs. */
  fromOpen?: [number, number]
}
const backoff1: [number, number] = [MIN, 2 * MIN]
const closeCases: CloseCase[] = [
  { code: 1000, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 1001, status: 'reconnecting', delay: [MIN, 10 * MIN], effects: [] },
  { code: 1002, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 1003, status: 'reconnecting', delay: backoff1, effects: ['failOutbound'] },
  { code: 1004, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 1005, status: 'reconnecting', delay: backoff1, effects: [] },
  // A crash drops every client at once: from open, the first retry spreads like an announced restart.
  { code: 1006, status: 'reconnecting', delay: backoff1, fromOpen: [MIN, 10 * MIN], effects: [] },
  { code: 1007, status: 'reconnecting', delay: backoff1, effects: ['failOutbound'] },
  { code: 1008, status: 'failed', delay: null, effects: [], errorCode: 'CONNECTION_CLOSED' },
  { code: 1009, status: 'reconnecting', delay: backoff1, effects: ['failOutbound'] },
  { code: 1010, status: 'failed', delay: null, effects: [], errorCode: 'CONNECTION_CLOSED' },
  { code: 1011, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 1012, status: 'reconnecting', delay: [MIN, 10 * MIN], effects: [] },
  { code: 1013, status: 'reconnecting', delay: [5000, 5000], effects: [], hold: true },
  { code: 1014, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 1015, status: 'failed', delay: null, effects: [], errorCode: 'CONNECTION_CLOSED' },
  { code: 4000, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 4001, status: 'connecting', delay: null, effects: ['refreshToken', 'openTransport'] },
  { code: 4002, status: 'reconnecting', delay: [5000, 5000], effects: [], hold: true },
  { code: 4003, status: 'connecting', delay: null, effects: ['expireSession', 'refreshToken', 'openTransport'] },
  { code: 4999, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 3000, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 2000, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 999, status: 'reconnecting', delay: backoff1, effects: [] },
  { code: 0, status: 'reconnecting', delay: backoff1, effects: [] },
]
const closeGrid = (['open', 'connecting'] as const).flatMap((from) =>
  closeCases.flatMap((row) => [0, TOP].map((random) => ({ from, random, ...row }))),
)

describe('transition: close codes (R12)', () => {
  it.each(closeGrid)(
    '$code from $from (random $random) → $status',
    ({ from, random, code, status, delay: anyDelay, fromOpen, effects, hold, errorCode }) => {
      const delay = from === 'open' && fromOpen ? fromOpen : anyDelay
      const before = stateIn(from)
      const { state, effects: actual } = transition(
        before,
        { type: 'CLOSED', code, reason: '', wasClean: true },
        envAt(NOW, random),
      )
      expect(state.status).toBe(status)
      expect(effectTypes(actual)).toEqual(effects)
      expect(state.lastClose).toMatchObject({ code, reason: '', wasClean: true, at: NOW, meaning: { code } })
      if (delay === null) {
        expect(state.nextRetryAt).toBeNull()
      } else {
        const wait = state.nextRetryAt! - NOW
        expect(wait).toBeGreaterThanOrEqual(delay[0])
        expect(wait).toBeLessThanOrEqual(delay[1])
        // The extremes of the random number reach the extremes of the range.
        expect(wait).toBeCloseTo(random === 0 ? delay[0] : delay[1], 6)
        expect(state.attempt).toBe(1)
      }
      expect(state.holdUntil).toBe(hold ? state.nextRetryAt : 0)
      if (errorCode) expect(state.lastError?.code).toBe(errorCode)
      if (actual.some((effect) => effect.type === 'failOutbound')) {
        expect(actual).toContainEqual({ type: 'failOutbound', code })
      }
    },
  )

  it('uses the backoff of the next attempt, not the first, for an ordinary close', () => {
    const { state } = transition(stateIn('open', { attempt: 3 }), events.CLOSED, envAt(NOW, TOP))
    expect(state.attempt).toBe(4)
    expect(state.nextRetryAt! - NOW).toBeCloseTo(MIN * 2 ** 4, 6)
  })

  it.each([1001, 1012])('spreads the first retry after %i over the wide window (announced restart)', (code) => {
    const { state } = transition(stateIn('open'), { type: 'CLOSED', code, reason: '', wasClean: true }, envAt(NOW, TOP))
    expect(state.attempt).toBe(1)
    expect(state.nextRetryAt! - NOW).toBeCloseTo(10 * MIN, 6)
  })

  it.each([1001, 1012])('counts %i toward maxAttempts (a server that keeps restarting cannot loop forever)', (code) => {
    const env = envAt(NOW, TOP, { maxAttempts: 3 })
    const closed = { type: 'CLOSED', code, reason: '', wasClean: true } as const
    expect(transition(stateIn('open', { attempt: 2 }), closed, env).state.attempt).toBe(3)
    expect(transition(stateIn('open', { attempt: 3 }), closed, env).state.status).toBe('failed')
  })

  it('caps the spread window at maxDelayMs', () => {
    const tight = envAt(NOW, TOP, { maxDelayMs: 2000 })
    const { state } = transition(stateIn('open'), { type: 'CLOSED', code: 1001, reason: '', wasClean: true }, tight)
    expect(state.nextRetryAt! - NOW).toBeCloseTo(2000, 6)
  })

  it('keeps the 1013 floor above a larger computed backoff', () => {
    const { state } = transition(
      stateIn('open', { attempt: 5 }),
      { type: 'CLOSED', code: 1013, reason: '', wasClean: true },
      envAt(NOW, TOP),
    )
    expect(state.nextRetryAt! - NOW).toBeCloseTo(Math.min(MAX, MIN * 2 ** 6), 6)
    expect(state.holdUntil).toBe(state.nextRetryAt)
  })

  it('keeps an earlier, more specific lastError (e.g. the transport error before a 1006)', () => {
    const before = stateIn('connecting', { lastError: error })
    const { state } = transition(before, events.CLOSED, env)
    expect(state.lastError).toBe(error)
  })

  it('stops with the user table overriding a default and extending an application code', () => {
    const closeCodes = {
      ...defaultCloseCodes,
      1011: { name: 'fatal', action: 'stop' as const },
      4100: { name: 'banned', action: 'stop' as const },
      4200: { name: 'slow', action: 'reconnect' as const, floorMs: 20_000 },
    }
    const custom = envAt(NOW, 0, { closeCodes })
    const close = (code: number) =>
      transition(stateIn('open'), { type: 'CLOSED', code, reason: '', wasClean: true }, custom).state
    expect(close(1011).status).toBe('failed')
    expect(close(4100)).toMatchObject({ status: 'failed', lastClose: { meaning: { name: 'banned' } } })
    expect(close(4200)).toMatchObject({ status: 'reconnecting', nextRetryAt: NOW + 20_000, holdUntil: NOW + 20_000 })
  })

  describe('4001 token refresh', () => {
    const close4001: MachineEvent = { type: 'CLOSED', code: 4001, reason: '', wasClean: true }

    it('fails with TOKEN_REFRESH_FAILED when there is no getToken', () => {
      const { state, effects } = transition(stateIn('open'), close4001, envAt(NOW, 0.5, { canRefreshToken: false }))
      expect(state.status).toBe('failed')
      expect(state.lastError?.code).toBe('TOKEN_REFRESH_FAILED')
      expect(effects).toEqual([])
    })

    it('refreshes and reconnects at once with getToken, recording the refresh', () => {
      const { state } = transition(stateIn('open'), close4001, env)
      expect(state).toMatchObject({ status: 'connecting', nextRetryAt: null, tokenRefreshes: [NOW] })
    })

    it('allows 3 refreshes in 30 s, fails the 4th, and allows it again once the window has passed', () => {
      let state = stateIn('open')
      for (const offset of [0, 1000, 2000]) {
        state = transition(state, close4001, envAt(NOW + offset)).state
        expect(state.status).toBe('connecting')
        state = transition(state, events.OPENED, envAt(NOW + offset)).state
      }
      const capped = transition(state, close4001, envAt(NOW + 29_999))
      expect(capped.state.status).toBe('failed')
      expect(capped.state.lastError?.code).toBe('TOKEN_REFRESH_FAILED')
      expect(capped.effects).toEqual([])

      const later = transition(state, close4001, envAt(NOW + 30_000))
      expect(later.state.status).toBe('connecting')
      expect(effectTypes(later.effects)).toEqual(['refreshToken', 'openTransport'])
      expect(later.state.tokenRefreshes).toEqual([NOW + 1000, NOW + 2000, NOW + 30_000])
    })

    it('refreshes while offline but waits in offline without opening', () => {
      const { state, effects } = transition(stateIn('open', { online: false }), close4001, env)
      expect(state.status).toBe('offline')
      expect(effectTypes(effects)).toEqual(['refreshToken'])
    })
  })

  describe('4003 session expired', () => {
    const close4003: MachineEvent = { type: 'CLOSED', code: 4003, reason: '', wasClean: true }

    it('expires the session and backs off without getToken', () => {
      const { state, effects } = transition(stateIn('open'), close4003, envAt(NOW, 0, { canRefreshToken: false }))
      expect(effectTypes(effects)).toEqual(['expireSession'])
      expect(state).toMatchObject({ status: 'reconnecting', nextRetryAt: NOW + MIN })
    })

    it('still expires the session when the refresh cap fails the connection', () => {
      const capped = stateIn('open', { tokenRefreshes: [NOW - 3, NOW - 2, NOW - 1] })
      const { state, effects } = transition(capped, close4003, env)
      expect(state.status).toBe('failed')
      expect(effectTypes(effects)).toEqual(['expireSession'])
    })
  })

  describe('maxAttempts', () => {
    it.each([0, 1, 3])('fails with MAX_ATTEMPTS when retry %i + 1 would be needed', (maxAttempts) => {
      const limited = envAt(NOW, 0.5, { maxAttempts })
      let state = stateIn('connecting')
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        state = transition(state, events.CLOSED, limited).state
        expect(state).toMatchObject({ status: 'reconnecting', attempt })
        state = transition(state, events.RETRY_DUE, limited).state
      }
      const { state: final } = transition(state, events.CLOSED, limited)
      expect(final).toMatchObject({ status: 'failed', attempt: maxAttempts, nextRetryAt: null })
      expect(final.lastError?.code).toBe('MAX_ATTEMPTS')
    })

    it('counts connect and heartbeat timeouts toward maxAttempts', () => {
      const limited = envAt(NOW, 0.5, { maxAttempts: 1 })
      const afterTimeout = transition(stateIn('connecting'), events.CONNECT_TIMEOUT, limited).state
      expect(afterTimeout.status).toBe('reconnecting')
      expect(transition(stateIn('open', { attempt: 1 }), events.HEARTBEAT_TIMEOUT, limited).state.lastError?.code).toBe(
        'MAX_ATTEMPTS',
      )
    })
  })

  it('types a connect timeout by whether the token was still awaited', () => {
    const token = transition(stateIn('connecting'), { type: 'CONNECT_TIMEOUT', waitingForToken: true }, env).state
    const socket = transition(stateIn('connecting'), { type: 'CONNECT_TIMEOUT', waitingForToken: false }, env).state
    expect(token.lastError?.code).toBe('TOKEN_REFRESH_FAILED')
    expect(socket.lastError?.code).toBe('CONNECT_TIMEOUT')
  })

  it('types a heartbeat timeout as HEARTBEAT_TIMEOUT', () => {
    expect(transition(stateIn('open'), events.HEARTBEAT_TIMEOUT, env).state.lastError?.code).toBe('HEARTBEAT_TIMEOUT')
  })
})

describe('transition: 4002 rate limit (R14)', () => {
  const rateLimited = (reason: string, at = env) =>
    transition(stateIn('open'), { type: 'CLOSED', code: 4002, reason, wasClean: true }, at).state

  it('waits exactly retryAfterMs from the JSON reason', () => {
    const state = rateLimited('{"retryAfterMs":12000}')
    expect(state).toMatchObject({ status: 'reconnecting', nextRetryAt: NOW + 12_000, holdUntil: NOW + 12_000 })
  })

  it.each(['ONLINE', 'VISIBLE'] as const)('does not open early on %s before the hold ends', (type) => {
    const held = rateLimited('{"retryAfterMs":12000}')
    for (const offset of [0, 6000, 11_999]) {
      const step = transition(held, { type }, envAt(NOW + offset))
      expect(step.state).toMatchObject({ status: 'reconnecting', nextRetryAt: NOW + 12_000 })
      expect(step.effects).toEqual([])
    }
    const due = transition(held, { type }, envAt(NOW + 12_000))
    expect(due.state.status).toBe('connecting')
    expect(effectTypes(due.effects)).toEqual(['openTransport'])
  })

  it('keeps the hold through offline and back: ONLINE before it ends re-arms the countdown instead of opening', () => {
    let state = rateLimited('{"retryAfterMs":12000}')
    state = transition(state, events.OFFLINE, envAt(NOW + 1000)).state
    expect(state).toMatchObject({ status: 'offline', nextRetryAt: null, holdUntil: NOW + 12_000 })
    const step = transition(state, events.ONLINE, envAt(NOW + 2000))
    expect(step.state).toMatchObject({ status: 'reconnecting', nextRetryAt: NOW + 12_000 })
    expect(step.effects).toEqual([])
    expect(timerFor(step.state, envAt(NOW + 2000))).toEqual({ event: 'RETRY_DUE', delayMs: 10_000 })
  })

  it('ignores CONNECT while reconnecting, so a component mounting mid-outage cannot cut a wait short', () => {
    const held = rateLimited('{"retryAfterMs":12000}')
    for (const offset of [0, 11_999, 12_000]) {
      const step = transition(held, { type: 'CONNECT' }, envAt(NOW + offset))
      expect(step.state).toBe(held)
      expect(step.effects).toEqual([])
    }
  })

  it('opens on the user RETRY before the hold ends (by design)', () => {
    const step = transition(rateLimited('{"retryAfterMs":12000}'), events.RETRY, envAt(NOW + 1))
    expect(step.state).toMatchObject({ status: 'connecting', holdUntil: 0 })
  })

  it('opens on RETRY_DUE, the hold timer itself', () => {
    const held = rateLimited('{"retryAfterMs":12000}')
    expect(timerFor(held, env)).toEqual({ event: 'RETRY_DUE', delayMs: 12_000 })
    expect(transition(held, events.RETRY_DUE, envAt(NOW + 12_000)).state.status).toBe('connecting')
  })

  it.each([
    ['retryAfterMs 1e12', '{"retryAfterMs":1e12}', [300_000, 300_000]],
    ['retryAfterMs 0', '{"retryAfterMs":0}', [MIN, MIN]],
    ['retryAfterMs 1', '{"retryAfterMs":1}', [MIN, MIN]],
    ['retryAfterMs -5', '{"retryAfterMs":-5}', [5000, 5000]],
    ['retryAfterMs NaN (invalid JSON)', '{"retryAfterMs":NaN}', [5000, 5000]],
    ['retryAfterMs "abc"', '{"retryAfterMs":"abc"}', [5000, 5000]],
    ['retryAfterMs "12000" (a string)', '{"retryAfterMs":"12000"}', [5000, 5000]],
    ['retryAfterMs null', '{"retryAfterMs":null}', [5000, 5000]],
    ['retryAfterMs missing', '{"other":1}', [5000, 5000]],
    ['a non-JSON reason', 'slow down', [5000, 5000]],
    ['truncated JSON', '{"retryAfterMs":12', [5000, 5000]],
    ['an empty reason', '', [5000, 5000]],
  ] as const)('clamps a hostile %s into a sane wait', (_, reason, [low, high]) => {
    for (const random of [0, TOP]) {
      const state = rateLimited(reason, envAt(NOW, random))
      const wait = state.nextRetryAt! - NOW
      expect(Number.isFinite(wait)).toBe(true)
      expect(wait).toBeGreaterThanOrEqual(low)
      expect(wait).toBeLessThanOrEqual(high)
      expect(state.holdUntil).toBe(state.nextRetryAt)
    }
  })

  it('applies the 5 s floor above the backoff but lets a longer backoff win', () => {
    const state = transition(
      stateIn('open', { attempt: 5 }),
      { type: 'CLOSED', code: 4002, reason: '', wasClean: true },
      envAt(NOW, TOP),
    ).state
    expect(state.nextRetryAt! - NOW).toBeCloseTo(Math.min(MAX, MIN * 2 ** 6), 6)
  })
})

describe('transition: online, offline and visibility (R27)', () => {
  it('makes no attempt while offline: CONNECT and a scheduled retry wait in offline', () => {
    const connect = transition(stateIn('idle', { online: false }), events.CONNECT, env)
    expect(connect.state.status).toBe('offline')
    expect(connect.effects).toEqual([])
    const closed = transition(stateIn('open', { online: false }), events.CLOSED, env)
    expect(closed.state).toMatchObject({ status: 'offline', nextRetryAt: null, attempt: 1 })
    expect(closed.effects).toEqual([])
    expect(timerFor(closed.state, env)).toBeNull()
  })

  it('drops a connecting attempt when the network goes away', () => {
    const step = transition(stateIn('connecting'), events.OFFLINE, env)
    expect(step.state).toMatchObject({ status: 'offline', online: false })
    expect(effectTypes(step.effects)).toEqual(['dropTransport'])
  })

  it('keeps an open socket on OFFLINE and probes it instead', () => {
    const step = transition(stateIn('open'), events.OFFLINE, env)
    expect(step.state).toMatchObject({ status: 'open', online: false })
    expect(effectTypes(step.effects)).toEqual(['probe'])
  })

  it.each(['offline', 'reconnecting'] as const)(
    'opens at once on ONLINE in %s, skipping the remaining backoff',
    (status) => {
      const before = stateIn(status, {
        online: status !== 'offline',
        nextRetryAt: status === 'reconnecting' ? NOW + 25_000 : null,
      })
      const step = transition(before, events.ONLINE, env)
      expect(step.state).toMatchObject({ status: 'connecting', online: true, nextRetryAt: null })
      expect(effectTypes(step.effects)).toEqual(['openTransport'])
    },
  )

  it('runs a pending retry now on VISIBLE', () => {
    const step = transition(stateIn('reconnecting', { nextRetryAt: NOW + 25_000 }), events.VISIBLE, env)
    expect(step.state.status).toBe('connecting')
    expect(effectTypes(step.effects)).toEqual(['openTransport'])
  })

  it('ignores HIDDEN everywhere', () => {
    for (const status of statuses) {
      const before = stateIn(status)
      expect(transition(before, events.HIDDEN, env).state).toBe(before)
    }
  })
})

describe('handshake diagnoses and transport switches', () => {
  it('a diagnosis that says stop fails from reconnecting, connecting and offline, with its error', () => {
    for (const status of ['reconnecting', 'connecting', 'offline'] as const) {
      const step = transition(stateIn(status), { ...events.DIAGNOSED, stop: true, holdMs: null }, env)
      expect(step.state.status).toBe('failed')
      expect(step.state.lastError).toBe(error)
      expect(step.state.nextRetryAt).toBeNull()
      expect(effectTypes(step.effects)).toEqual(['dropTransport'])
    }
  })

  it("a rate limit's wait pushes the pending retry out and holds it; a shorter wait leaves it", () => {
    const later = transition(stateIn('reconnecting', { nextRetryAt: NOW + 1000 }), events.DIAGNOSED, env).state
    expect(later.nextRetryAt).toBe(NOW + 5000)
    expect(later.holdUntil).toBe(NOW + 5000)
    expect(later.lastError).toBe(error)
    const sooner = transition(stateIn('reconnecting', { nextRetryAt: NOW + 9000 }), events.DIAGNOSED, env).state
    expect(sooner.nextRetryAt).toBe(NOW + 9000)
  })

  it('a diagnosis arriving while open changes nothing (it is about an attempt that is over)', () => {
    const before = stateIn('open')
    expect(transition(before, { ...events.DIAGNOSED, stop: true }, env).state).toBe(before)
  })

  it('SWITCH while open reconnects at once without counting an attempt; while waiting it honours a held wait', () => {
    const open = transition(stateIn('open', { attempt: 0 }), events.SWITCH, env)
    expect(open.state.status).toBe('connecting')
    expect(open.state.attempt).toBe(0)
    const held = transition(
      stateIn('reconnecting', { holdUntil: NOW + 3000, nextRetryAt: NOW + 3000 }),
      events.SWITCH,
      env,
    )
    expect(held.state.status).toBe('reconnecting')
    expect(held.effects).toEqual([])
  })
})

describe('timerFor', () => {
  it.each<[ConnectionStatus, Partial<MachineState>, ReturnType<typeof timerFor>]>([
    ['idle', {}, null],
    ['connecting', {}, { event: 'CONNECT_TIMEOUT', delayMs: 10_000 }],
    ['open', {}, { event: 'STABLE', delayMs: 5000 }],
    ['reconnecting', { nextRetryAt: NOW + 1234 }, { event: 'RETRY_DUE', delayMs: 1234 }],
    ['reconnecting', { nextRetryAt: NOW - 50 }, { event: 'RETRY_DUE', delayMs: 0 }],
    ['reconnecting', { nextRetryAt: null }, null],
    ['offline', {}, null],
    ['closing', {}, { event: 'CLOSE_TIMEOUT', delayMs: 5000 }],
    ['closed', {}, null],
    ['failed', {}, null],
  ])('arms the delayed event of %s (%j)', (status, patch, expected) => {
    expect(timerFor(stateIn(status, patch), env)).toEqual(expected)
  })
})
