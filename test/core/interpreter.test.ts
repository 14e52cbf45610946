import { describe, expect, it, vi } from 'vitest'
import {
  defaultCloseCodes,
  initialMachineState,
  machine,
  type ConnectionStatus,
  type MachineConfig,
} from '../../src/core'
import { createInterpreter, type InterpreterHost } from '../../src/core/interpreter'
import { activitiesFor } from '../../src/core/machine'

const config: MachineConfig = {
  minDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Infinity,
  backoff: 'full-jitter',
  closeCodes: defaultCloseCodes,
  canRefreshToken: false,
  maxTokenRefreshes: 3,
  tokenRefreshWindowMs: 30_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5000,
  stableAfterMs: 5000,
}

describe('machine activities', () => {
  it.each(Object.keys(machine) as ConnectionStatus[])(
    '%s declares `timer` exactly when it has a delayed event',
    (status) => {
      expect(activitiesFor(status).includes('timer')).toBe(machine[status].after !== undefined)
    },
  )

  it.each<[ConnectionStatus, boolean]>([
    ['idle', false],
    ['connecting', true],
    ['open', true],
    ['reconnecting', true],
    ['offline', true],
    ['closing', true],
    ['closed', false],
    ['failed', false],
  ])('%s watches the platform: %s', (status, watched) => {
    expect(activitiesFor(status).includes('watch')).toBe(watched)
  })
})

describe('createInterpreter', () => {
  function setup() {
    const unsubscribe = vi.fn()
    const heartbeatCleanup = vi.fn()
    const host: InterpreterHost = {
      initial: initialMachineState(true),
      env: () => ({ now: 0, random: () => 0.5, config }),
      log: null,
      run: vi.fn(),
      error: vi.fn(),
      changed: vi.fn(),
      later: vi.fn(() => vi.fn()),
      delayed: (type) => (type === 'CONNECT_TIMEOUT' ? { type, waitingForToken: false } : { type }),
      network: { get: () => true, subscribe: vi.fn(() => unsubscribe) },
      visibility: { get: () => true, subscribe: vi.fn(() => unsubscribe) },
      heartbeat: { start: vi.fn(() => heartbeatCleanup) },
    }
    return { host, interpreter: createInterpreter(host), unsubscribe, heartbeatCleanup }
  }

  it('starts the activities a state declares and cleans up those it leaves', () => {
    const { host, interpreter, unsubscribe, heartbeatCleanup } = setup()
    interpreter.dispatch({ type: 'CONNECT' })
    expect(interpreter.state.status).toBe('connecting')
    expect(interpreter.running('watch')).toBe(true)
    expect(interpreter.running('timer')).toBe(true)
    expect(interpreter.running('heartbeat')).toBe(false)
    interpreter.dispatch({ type: 'OPENED' })
    expect(interpreter.running('heartbeat')).toBe(true)
    expect(host.network.subscribe).toHaveBeenCalledOnce()
    interpreter.dispatch({ type: 'CLOSED', code: 1006, reason: '', wasClean: false })
    expect(heartbeatCleanup).toHaveBeenCalledOnce()
    expect(interpreter.running('heartbeat')).toBe(false)
    expect(unsubscribe).not.toHaveBeenCalled()
    interpreter.stop()
    expect(unsubscribe).toHaveBeenCalledTimes(2)
    expect(interpreter.running('watch')).toBe(false)
    expect(interpreter.state.status).toBe('closed')
  })

  it('re-arms the timer when the epoch changes, not otherwise', () => {
    const { host, interpreter } = setup()
    interpreter.dispatch({ type: 'CONNECT' })
    expect(host.later).toHaveBeenCalledTimes(1)
    interpreter.dispatch({ type: 'ONLINE' })
    expect(host.later).toHaveBeenCalledTimes(1)
    interpreter.dispatch({ type: 'OPENED' })
    interpreter.dispatch({ type: 'SWITCH' })
    expect(host.later).toHaveBeenCalledTimes(3)
  })
})
