import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createChannelRegistry, type ChannelObserver, type ChannelRegistry } from '../../src/core'

interface Setup {
  registry: ChannelRegistry
  /** What the registry asked the connection to write, as `sub <ch>` / `unsub <ch>`. */
  frames: string[]
}

function setup(): Setup {
  const frames: string[] = []
  const registry = createChannelRegistry(
    {
      sub: (ch) => frames.push(`sub ${ch}`),
      unsub: (ch) => frames.push(`unsub ${ch}`),
      later(callback, ms) {
        const handle = setTimeout(callback, ms)
        return () => clearTimeout(handle)
      },
      now: () => 7,
    },
    { lingerMs: 1000 },
  )
  return { registry, frames }
}

/** An observer that logs every callback as one line, with the channel name it was given. */
function observer(): Required<ChannelObserver> & { log: string[] } {
  const log: string[] = []
  return {
    log,
    status: (status, name) => log.push(`${name} status ${status.state} ${String(status.resumed)}`),
    gap: (gap, name) => log.push(`${name} gap ${gap.reason} (${gap.channel})`),
    message: (message, name) => log.push(`${name} msg ${message.epoch}:${message.seq} (${message.channel})`),
    dropped: (name) => log.push(`${name} dropped`),
  }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('channel registry: observe', () => {
  it('mirrors every status, gap and message the listeners get, then reports the drop after the linger', () => {
    const { registry, frames } = setup()
    const seen = observer()
    registry.observe(seen)
    const listened: string[] = []
    const leave = registry.join('room', {
      status: (status) => listened.push(`status ${status.state}`),
      gap: (gap) => listened.push(`gap ${gap.reason}`),
      message: (message) => listened.push(`msg ${message.seq} ${String(message.data)} at ${message.receivedAt}`),
    })
    registry.subscribed('room', false, 'e1', 0)
    registry.message('room', 'e1', 1, 'a')
    registry.message('room', 'e1', 1, 'a')
    registry.message('room', 'e1', 3, 'c')
    registry.refused('room', 'FORBIDDEN')
    expect(listened).toEqual([
      'status pending',
      'status subscribed',
      'msg 1 a at 7',
      'gap seq-skipped',
      'msg 3 c at 7',
      'status error',
    ])
    expect(seen.log).toEqual([
      'room status pending null',
      'room status subscribed null',
      'room msg e1:1 (room)',
      'room gap seq-skipped (room)',
      'room msg e1:3 (room)',
      'room status error null',
    ])

    leave()
    vi.advanceTimersByTime(999)
    expect(seen.log.at(-1)).toBe('room status error null')
    vi.advanceTimersByTime(1)
    expect(frames).toEqual(['sub room', 'unsub room'])
    expect(seen.log.at(-1)).toBe('room dropped')
    expect(seen.log).toHaveLength(7)
  })

  it('holds no subscription: observing alone subscribes nothing and keeps nothing subscribed', () => {
    const { registry, frames } = setup()
    const seen = observer()
    registry.observe(seen)
    expect(frames).toEqual([])
    expect(registry.size()).toBe(0)
    registry.join('room', {})()
    expect(registry.size()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(frames).toEqual(['sub room', 'unsub room'])
    expect(registry.names()).toEqual([])
  })

  it('tells an observer added later where each held channel stands, and nothing else', () => {
    const { registry } = setup()
    registry.join('a', {})
    registry.subscribed('a', false, 'e1', 4)
    registry.join('b', {})
    const seen = observer()
    registry.observe(seen)
    expect(seen.log).toEqual(['a status subscribed null', 'b status pending null'])
  })

  it('stops calling an observer once it unsubscribes (idempotent), other observers go on', () => {
    const { registry } = setup()
    const first = observer()
    const second = observer()
    const stop = registry.observe(first)
    registry.observe(second)
    registry.join('room', {})
    stop()
    stop()
    registry.subscribed('room', false, 'e1', 0)
    registry.message('room', 'e1', 1, 'a')
    expect(first.log).toEqual(['room status pending null'])
    expect(second.log).toEqual(['room status pending null', 'room status subscribed null', 'room msg e1:1 (room)'])
  })

  it('a throwing observer breaks neither the listeners nor the other observers; its error is rethrown on a microtask', () => {
    const { registry } = setup()
    const failure = new Error('observer failed')
    const rethrows: Array<() => void> = []
    const microtask = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => rethrows.push(callback))
    try {
      registry.observe({
        status() {
          throw failure
        },
        message() {
          throw failure
        },
      })
      const seen = observer()
      registry.observe(seen)
      const messages: number[] = []
      registry.join('room', { message: (message) => messages.push(message.seq) })
      registry.subscribed('room', false, 'e1', 0)
      expect(registry.message('room', 'e1', 1, 'a')).toBe(true)
      expect(messages).toEqual([1])
      expect(seen.log).toEqual(['room status pending null', 'room status subscribed null', 'room msg e1:1 (room)'])
    } finally {
      microtask.mockRestore()
    }
    expect(rethrows).toHaveLength(3)
    for (const rethrow of rethrows) expect(rethrow).toThrow(failure)
  })
})
