import type { SignalSource } from './environment'
import type { LifelineError } from './errors'
import type { LogSink } from './logger'
import {
  activitiesFor,
  timerFor,
  transition,
  type ActivityName,
  type Effect,
  type MachineEnv,
  type MachineEvent,
  type MachineState,
  type TimerSpec,
} from './machine'

/** How the runtime performs one activity a state declares (machine.ts, `activities`). */
export interface Activity {
  /** While the activity runs, a change of key restarts it (the delayed event of a new epoch or retry time). */
  key?(state: MachineState): string
  /** Starts the activity; returns its cleanup, if it started anything. */
  start(state: MachineState): (() => void) | void
}

/** What the interpreter needs from its client. */
export interface InterpreterHost {
  initial: MachineState
  /** Time, randomness and policy for the next transition. */
  env(): MachineEnv
  log: LogSink
  /** Performs an effect of a transition. */
  run(effect: Effect): void
  /** A transition recorded a new `lastError`. */
  error(error: LifelineError): void
  /** After every dispatch (and its cascade): the state may have changed. */
  changed(): void
  /** Runs `callback` after `ms`; returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  /** The event a state's delayed event sends when due (CONNECT_TIMEOUT carries what it was waiting for). */
  delayed(type: TimerSpec['event']): MachineEvent
  /** Watched by the `watch` activity. */
  network: SignalSource
  visibility: SignalSource
  /** The heartbeat activity, if the client has one (`timer` and `watch` are built in). */
  heartbeat?: Activity | undefined
}

/** Runs the machine: feeds events to the transition function, performs effects, keeps the activities in step. */
export interface Interpreter {
  readonly state: MachineState
  /** Handles `event` (queued if another is being handled: events run in order, never re-entrantly). */
  dispatch(event: MachineEvent): void
  /** Whether an activity is running. */
  running(name: ActivityName): boolean
  /** Stops every activity for good and settles in `closed`. */
  stop(): void
}

/** Creates an {@link Interpreter}. */
export function createInterpreter(host: InterpreterHost): Interpreter {
  const { log } = host
  let state = host.initial
  const queue: MachineEvent[] = []
  let dispatching = false
  let stopped = false
  const activities: { [Name in ActivityName]?: Activity | undefined } = {
    // The state's delayed event (connect timeout, retry, stable, close timeout), re-armed for a new epoch or retry time.
    timer: {
      key: (current) => `${current.status}:${current.epoch}:${current.nextRetryAt}`,
      start(current) {
        const spec = timerFor(current, host.env())
        if (spec) return host.later(() => dispatch(host.delayed(spec.event)), spec.delayMs)
      },
    },
    watch: {
      start() {
        const stopNetwork = host.network.subscribe((online) => dispatch({ type: online ? 'ONLINE' : 'OFFLINE' }))
        const stopVisibility = host.visibility.subscribe((visible) =>
          dispatch({ type: visible ? 'VISIBLE' : 'HIDDEN' }),
        )
        return () => {
          stopNetwork()
          stopVisibility()
        }
      },
    },
    heartbeat: host.heartbeat,
  }
  /** The running activities: the key each started with, and its cleanup. */
  const live = new Map<ActivityName, [key: string, cleanup: (() => void) | void]>()
  const keyOf = (name: ActivityName): string => activities[name]?.key?.(state) ?? ''

  /** Stops the activities the state no longer declares (or whose key moved on), then starts the missing ones. */
  function sync(): void {
    const declared = stopped ? [] : activitiesFor(state.status)
    for (const [name, [key, cleanup]] of live) {
      if (declared.includes(name) && key === keyOf(name)) continue
      live.delete(name)
      cleanup?.()
    }
    for (const name of declared) {
      const activity = activities[name]
      if (activity && !live.has(name)) live.set(name, [keyOf(name), activity.start(state)])
    }
  }

  function dispatch(event: MachineEvent): void {
    queue.push(event)
    if (dispatching) return
    dispatching = true
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const before = state
        const step = transition(state, next, host.env())
        state = step.state
        if (log && before.status !== state.status) log('debug', `${before.status} -> ${state.status} on ${next.type}`)
        for (const effect of step.effects) host.run(effect)
        if (state.lastError && state.lastError !== before.lastError) host.error(state.lastError)
        sync()
      }
    } finally {
      dispatching = false
    }
    host.changed()
  }

  return {
    get state() {
      return state
    },
    dispatch,
    running: (name) => live.has(name),
    stop() {
      stopped = true
      sync()
      state = { ...state, status: 'closed', nextRetryAt: null }
    },
  }
}
