import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/core/options'
import { flowLimits, InboundQueue } from '../../src/server/limits'
import { resolveServerOptions } from '../../src/server/options'

/** A reader that records what the queue asked of it. */
function recorder(): { calls: string[]; pause(): void; resume(): void } {
  const calls: string[] = []
  return { calls, pause: () => calls.push('pause'), resume: () => calls.push('resume') }
}

describe('InboundQueue (flow control of a connection)', () => {
  const defaults = resolveServerOptions({ port: 0 })
  const limits = flowLimits(defaults)

  it('pauses the reader at 256 frames, resumes it at 64, and refuses one frame past the hard cap of 4,096', () => {
    const reader = recorder()
    const queue = new InboundQueue<number>(limits, reader)
    for (let index = 0; index < 255; index++) expect(queue.push(index, 10)).toBe(true)
    expect(reader.calls).toEqual([])
    queue.push(255, 10)
    expect(reader.calls).toEqual(['pause'])
    expect(queue.paused).toBe(true)
    for (let index = 256; index < 4096; index++) expect(queue.push(index, 10)).toBe(true)
    expect(queue.push(4096, 10)).toBe(false)
    expect(queue.length).toBe(4096)

    while (queue.length > 65) queue.shift()
    expect(reader.calls).toEqual(['pause'])
    expect(queue.shift()).toBe(4031)
    expect(reader.calls).toEqual(['pause', 'resume'])
    expect(queue.paused).toBe(false)
  })

  it('counts bytes too: pauses at 256 KiB, refuses past 4 MiB', () => {
    const reader = recorder()
    const queue = new InboundQueue<string>(limits, reader)
    expect(queue.push('a', 256 * 1024 - 1)).toBe(true)
    expect(reader.calls).toEqual([])
    queue.push('b', 1)
    expect(reader.calls).toEqual(['pause'])
    expect(queue.push('c', 4 * 1024 * 1024)).toBe(false)
    queue.shift()
    expect(reader.calls).toEqual(['pause', 'resume'])
  })

  it('keeps the documented numbers in agreement: a full default outbox, 100 resubscriptions and hello fit in one rate-limit burst, and the burst fits under the hard cap', () => {
    const client = resolveOptions({ url: 'ws://127.0.0.1:1/x' })
    const burst = defaults.rateLimit?.messages ?? 0
    expect(burst).toBe(2000)
    expect(defaults.rateLimit?.perMs).toBe(2000)
    expect(client.outbox.maxMessages + defaults.maxChannelsPerConnection + 1).toBeLessThanOrEqual(burst)
    expect(limits.maxFrames).toBeGreaterThanOrEqual(burst + limits.highFrames)
    expect(limits).toMatchObject({ highFrames: 256, lowFrames: 64, maxFrames: 4096, maxBytes: 4 * 1024 * 1024 })
    expect(flowLimits({ maxPayload: 64 * 1024, rateLimit: { messages: 10_000 } }).maxFrames).toBe(10_256)
    expect(flowLimits({ maxPayload: 4 * 1024 * 1024, rateLimit: null }).maxBytes).toBe(
      (256 + 64) * 1024 + 8 * 1024 * 1024,
    )
  })
})
