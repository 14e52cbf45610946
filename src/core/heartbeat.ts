import type { Clock } from './environment'
import type { Activity } from './interpreter'
import type { LogSink } from './logger'

/** What a heartbeat needs from its client. */
export interface HeartbeatHost {
  /** Ms between pings. */
  intervalMs: number
  /** Ms a ping may go unanswered (and no frame heard) before {@link HeartbeatHost.timeout}. */
  timeoutMs: number
  clock: Clock
  /** Runs `callback` after `ms`; returns the cancel function. */
  later(callback: () => void, ms: number): () => void
  log: LogSink
  /** Writes a ping frame. */
  ping(): void
  /** A ping went unanswered for `timeoutMs`. */
  timeout(): void
  /** The last ping was answered after `latencyMs`. */
  answered(latencyMs: number): void
  /** A ping went unanswered while the link stayed alive (frames heard): the pong matcher does not match. */
  unmatched(): void
}

/** A running heartbeat. */
export interface Heartbeat {
  /** Any inbound frame: the link is alive. */
  heard(): void
  /** A pong arrived. */
  pong(): void
  /** Pings now unless a ping is already unanswered. */
  probe(): void
  /** Items were written: makes sure a ping follows them, whose pong confirms them. */
  confirm(): void
  /** Stops every timer. */
  stop(): void
}

/** Starts pinging every `intervalMs`; a ping unanswered for `timeoutMs` calls `host.timeout()`. */
export function startHeartbeat(host: HeartbeatHost): Heartbeat {
  const { intervalMs, timeoutMs, clock, later, log } = host
  let cancelTimeout: (() => void) | null = null
  let pingAt = 0
  let lastTick = clock.monotonic()
  let lastWall = clock.now()
  const ping = () => {
    pingAt = clock.monotonic()
    host.ping()
    cancelTimeout ??= later(() => {
      cancelTimeout = null
      host.timeout()
    }, timeoutMs)
  }
  let cancelTick = (): void => undefined
  const schedule = () => {
    cancelTick = later(() => {
      // A timer that fires far too late means the machine slept or the tab was frozen: the ping that follows is
      // the check. Either clock may have jumped; neither alone can cause a timeout, only a missing answer can.
      const monotonic = clock.monotonic()
      const drift = Math.max(monotonic - lastTick, clock.now() - lastWall) - intervalMs
      if (log && drift > timeoutMs) log('debug', `timer drift ${Math.round(drift)} ms; probing`)
      lastTick = monotonic
      lastWall = clock.now()
      // The last ping is still unanswered, yet no timeout fired: frames were heard, so the link is alive and what the
      // server answers is not recognised as a pong.
      if (pingAt) host.unmatched()
      ping()
      schedule()
    }, intervalMs)
  }
  schedule()
  return {
    heard() {
      cancelTimeout?.()
      cancelTimeout = null
    },
    pong() {
      if (!pingAt) return
      const latencyMs = Math.round(clock.monotonic() - pingAt)
      pingAt = 0
      host.answered(latencyMs)
    },
    probe: () => {
      if (!cancelTimeout) ping()
    },
    confirm: () => {
      if (!pingAt) ping()
    },
    stop() {
      cancelTick()
      cancelTimeout?.()
    },
  }
}

/** The heartbeat as the open state's activity (machine.ts): started on entry, stopped on exit. */
export interface HeartbeatActivity extends Activity {
  /** The running heartbeat, while the state lasts. */
  readonly current: Heartbeat | null
}

/** Creates the {@link HeartbeatActivity} of a client. */
export function heartbeatActivity(host: HeartbeatHost): HeartbeatActivity {
  let current: Heartbeat | null = null
  return {
    get current() {
      return current
    },
    start() {
      const beat = startHeartbeat(host)
      current = beat
      return () => {
        beat.stop()
        current = null
      }
    },
  }
}
