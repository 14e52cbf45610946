/** Schedules `flush` at most once per animation frame; a timer where there is no frame loop or the page is hidden. */
export function createFrameScheduler(flush: () => void): { schedule(): void; cancel(): void } {
  let cancel: (() => void) | null = null
  const run = () => {
    cancel = null
    flush()
  }
  return {
    schedule() {
      if (cancel) return
      const g = globalThis as { requestAnimationFrame?: (cb: () => void) => number; cancelAnimationFrame?: (id: number) => void; document?: { visibilityState?: string } }
      if (g.requestAnimationFrame && g.cancelAnimationFrame && g.document?.visibilityState !== 'hidden') {
        const id = g.requestAnimationFrame(run)
        cancel = () => g.cancelAnimationFrame!(id)
      } else {
        const id = setTimeout(run, 16)
        cancel = () => clearTimeout(id)
      }
    },
    cancel() {
      cancel?.()
      cancel = null
    },
  }
}
