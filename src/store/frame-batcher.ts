type FrameGlobals = {
  requestAnimationFrame?: (cb: () => void) => number
  cancelAnimationFrame?: (id: number) => void
  document?: { visibilityState?: string }
}

/** Flushes waiting for the next frame, in the order they were scheduled. Shared by every scheduler on the page. */
const due = new Set<() => void>()
let cancelTick: (() => void) | null = null

/**
 * Runs every due flush in one callback: a hundred stores updated in one frame become one React commit (updates made
 * in one task are batched), not a hundred.
 */
const tick = () => {
  cancelTick = null
  const flushes = [...due]
  due.clear()
  for (const flush of flushes) flush()
}

const requestTick = () => {
  if (cancelTick) return
  const g = globalThis as FrameGlobals
  if (g.requestAnimationFrame && g.cancelAnimationFrame && g.document?.visibilityState !== 'hidden') {
    const id = g.requestAnimationFrame(tick)
    cancelTick = () => g.cancelAnimationFrame!(id)
  } else {
    const id = setTimeout(tick, 16)
    cancelTick = () => clearTimeout(id)
  }
}

/**
 * Schedules `flush` at most once per animation frame; a timer where there is no frame loop or the page is hidden.
 * All schedulers share one frame callback, so stores updated in the same frame notify React in the same task.
 */
export function createFrameScheduler(flush: () => void): { schedule(): void; cancel(): void } {
  const run = () => flush()
  return {
    schedule() {
      if (due.has(run)) return
      due.add(run)
      requestTick()
    },
    cancel() {
      due.delete(run)
      if (due.size === 0 && cancelTick) {
        cancelTick()
        cancelTick = null
      }
    },
  }
}
