import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFrameScheduler } from '../../src/store/frame-batcher'

describe('createFrameScheduler', () => {
  const frames: (() => void)[] = []
  beforeEach(() => {
    frames.length = 0
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb))
    vi.stubGlobal('cancelAnimationFrame', (id: number) => {
      frames[id - 1] = () => undefined
    })
    vi.stubGlobal('document', { visibilityState: 'visible' })
  })
  afterEach(() => vi.unstubAllGlobals())

  it('flushes every scheduler due in a frame from one frame callback, in scheduling order', () => {
    const order: string[] = []
    const a = createFrameScheduler(() => order.push('a'))
    const b = createFrameScheduler(() => order.push('b'))
    const c = createFrameScheduler(() => order.push('c'))
    b.schedule()
    a.schedule()
    b.schedule()
    c.schedule()
    expect(frames).toHaveLength(1)
    frames[0]!()
    expect(order).toEqual(['b', 'a', 'c'])
  })

  it('a cancelled scheduler is skipped; the frame is cancelled when nothing is left', () => {
    const order: string[] = []
    const a = createFrameScheduler(() => order.push('a'))
    const b = createFrameScheduler(() => order.push('b'))
    a.schedule()
    b.schedule()
    a.cancel()
    frames[0]!()
    expect(order).toEqual(['b'])
    b.schedule()
    b.cancel()
    frames[1]!()
    expect(order).toEqual(['b'])
  })

  it('a flush that schedules again runs in the next frame, not the same one', () => {
    let runs = 0
    const again: { schedule(): void } = createFrameScheduler(() => {
      runs += 1
      if (runs < 3) again.schedule()
    })
    again.schedule()
    frames[0]!()
    expect(runs).toBe(1)
    frames[1]!()
    frames[2]!()
    expect(runs).toBe(3)
    expect(frames).toHaveLength(3)
  })

  it('uses a timer while the page is hidden', () => {
    vi.useFakeTimers()
    try {
      vi.stubGlobal('document', { visibilityState: 'hidden' })
      const flush = vi.fn()
      createFrameScheduler(flush).schedule()
      expect(frames).toHaveLength(0)
      vi.advanceTimersByTime(16)
      expect(flush).toHaveBeenCalledTimes(1)
    } finally {
      vi.useRealTimers()
    }
  })
})
