'use client'
import { useContext, useEffect, useState } from 'react'
import type { LifelineClient } from '../core'
import { LifelineContext } from '../react'

/** What {@link useCountdown} returns. */
export interface Countdown {
  /** Milliseconds left until the target (never below 0), or `null` when there is no target. */
  remainingMs: number | null
  /** The whole wait: from when this target was first seen to the target, in ms, or `null` when there is none. */
  totalMs: number | null
}

interface Tracked {
  target: number | null
  /** Epoch ms when the target was first seen. */
  since: number
  now: number
}

/**
 * Time left until `target` (epoch ms, e.g. the snapshot's `nextRetryAt`), re-rendering once a second on the second
 * boundary of the remaining time, so a display in whole seconds changes exactly when it should. Render the result as
 * plain text: never put it in a live region (screen readers would read every tick).
 *
 * Time is read from `client.now()`, the clock `nextRetryAt` is on (the client's `environment.clock`): `client`, else
 * the nearest `LifelineProvider`'s, else `Date.now()` when there is none.
 * @example const { remainingMs } = useCountdown(useConnection((s) => s.nextRetryAt))
 */
export function useCountdown(target: number | null, client?: LifelineClient | null): Countdown {
  const shared = useContext(LifelineContext)
  const clock = client ?? shared ?? Date
  const [tracked, setTracked] = useState<Tracked>(() => {
    const now = clock.now()
    return { target, since: now, now }
  })
  let current = tracked
  if (tracked.target !== target) {
    // A new wait starts now (state derived during render: no frame shows the old target's numbers).
    const now = clock.now()
    current = { target, since: now, now }
    setTracked(current)
  }
  useEffect(() => {
    if (target === null) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const tick = () => {
      const now = clock.now()
      setTracked((previous) => (previous.target === target ? { ...previous, now } : previous))
      const left = target - now
      if (left > 0) timer = setTimeout(tick, left % 1000 || 1000)
    }
    tick()
    return () => clearTimeout(timer)
  }, [target, clock])
  if (target === null) return { remainingMs: null, totalMs: null }
  return { remainingMs: Math.max(0, target - current.now), totalMs: Math.max(0, target - current.since) }
}

/**
 * The default `formatDuration` of every component's labels: whole seconds rounded up (`5 s`), minutes past 60 s
 * (`2 min 5 s`). Override it through `labels.formatDuration` for other languages or styles.
 */
export function formatDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const rest = seconds % 60
  return `${Math.floor(seconds / 60)} min` + (rest ? ` ${rest} s` : '')
}
