import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../src/core'
import { createMemoryBroker } from '../../src/server'
import type { BrokerMessage, MemoryBrokerOptions } from '../../src/server'
import { describeBrokerContract } from '../support/broker-contract'

describeBrokerContract('memory', (options) => createMemoryBroker(options))

function setup(options: MemoryBrokerOptions = {}) {
  const clock = { now: 0 }
  const broker = createMemoryBroker({ now: () => clock.now, ...options })
  return { broker, clock }
}

describe('createMemoryBroker', () => {
  it('numbers each channel from seq 1 in its own epoch and fans out in order', async () => {
    const { broker } = setup()
    const seen: BrokerMessage[] = []
    const unsubscribe = await broker.subscribe('a', (message) => seen.push(message))
    const first = await broker.publish('a', '1')
    const second = await broker.publish('a', '2')
    const other = await broker.publish('b', '1')
    expect(second).toEqual({ epoch: first.epoch, seq: 2 })
    expect(other.seq).toBe(1)
    expect(other.epoch).not.toBe(first.epoch)
    expect(seen).toEqual([
      { channel: 'a', epoch: first.epoch, seq: 1, payload: '1' },
      { channel: 'a', epoch: first.epoch, seq: 2, payload: '2' },
    ])
    unsubscribe()
    unsubscribe()
    await broker.publish('a', '3')
    expect(seen).toHaveLength(2)
  })

  it('returns exactly the messages after `since`, or resumed:false with none', async () => {
    const { broker } = setup()
    const { epoch } = await broker.publish('h', '1')
    await broker.publish('h', '2')
    await broker.publish('h', '3')
    const after1 = await broker.history('h', { epoch, seq: 1 })
    expect(after1).toMatchObject({ resumed: true, head: { epoch, seq: 3 } })
    expect(after1.messages.map((message) => message.seq)).toEqual([2, 3])
    expect(await broker.history('h', { epoch, seq: 3 })).toMatchObject({ resumed: true, messages: [] })
    expect(await broker.history('h', undefined)).toEqual({ resumed: false, messages: [], head: { epoch, seq: 3 } })
    expect(await broker.history('h', { epoch: 'other', seq: 1 })).toMatchObject({ resumed: false, messages: [] })
    expect(await broker.history('h', { epoch, seq: 4 })).toMatchObject({ resumed: false, messages: [] })
  })

  it('keeps at most maxMessages and maxBytes per channel, oldest dropped first', async () => {
    const { broker } = setup({ maxMessages: 3, maxBytes: 10 })
    const { epoch } = await broker.publish('c', '"aa"')
    for (let index = 0; index < 4; index += 1) await broker.publish('c', '1')
    // seqs 3…5 kept by count (3 bytes).
    expect((await broker.history('c', { epoch, seq: 2 })).messages.map((message) => message.seq)).toEqual([3, 4, 5])
    expect((await broker.history('c', { epoch, seq: 1 })).resumed).toBe(false)
    await broker.publish('c', '"12345678"')
    // 10 bytes: only the last message fits with one more byte.
    expect((await broker.history('c', { epoch, seq: 5 })).resumed).toBe(true)
    expect((await broker.history('c', { epoch, seq: 4 })).resumed).toBe(false)
  })

  it('expires messages after windowMs and forgets idle channels without subscribers a window later', async () => {
    const { broker, clock } = setup({ windowMs: 1000 })
    const { epoch } = await broker.publish('w', '1')
    clock.now = 800
    await broker.publish('w', '2')
    clock.now = 1500
    expect((await broker.history('w', { epoch, seq: 0 })).resumed).toBe(false)
    expect((await broker.history('w', { epoch, seq: 1 })).messages.map((message) => message.seq)).toEqual([2])
    clock.now = 5000
    // Idle for longer than the window: the channel and its epoch are gone.
    await broker.publish('other', '1')
    expect((await broker.history('w', { epoch, seq: 2 })).head).toEqual({
      epoch: expect.not.stringMatching(epoch) as string,
      seq: 0,
    })
  })

  it('keeps a channel with a subscriber, and its head for a window after the last one left', async () => {
    const { broker, clock } = setup({ windowMs: 1000 })
    const unsubscribe = await broker.subscribe('kept', () => undefined)
    const { epoch } = await broker.publish('kept', '1')
    clock.now = 10_000
    await broker.publish('other', '1')
    expect((await broker.history('kept', { epoch, seq: 1 })).resumed).toBe(true)
    unsubscribe()
    clock.now = 10_900
    await broker.publish('other', '2')
    expect((await broker.history('kept', { epoch, seq: 1 })).resumed).toBe(true)
  })

  it('drops the history of the least recently active channels first past maxTotalBytes', async () => {
    const { broker } = setup({ maxTotalBytes: 10 })
    const old = await broker.publish('old', '"12"')
    const recent = await broker.publish('recent', '"12"')
    await broker.publish('new', '"12"')
    expect((await broker.history('old', { epoch: old.epoch, seq: 0 })).resumed).toBe(false)
    expect((await broker.history('recent', { epoch: recent.epoch, seq: 0 })).resumed).toBe(true)
    // The head survives: a client at the head still resumes.
    expect((await broker.history('old', { epoch: old.epoch, seq: 1 })).resumed).toBe(true)
  })

  it('forgets the least recently active channel without subscribers past maxChannels', async () => {
    const { broker } = setup({ maxChannels: 2 })
    await broker.subscribe('watched', () => undefined)
    const idle = await broker.publish('idle', '1')
    await broker.publish('third', '1')
    expect((await broker.history('idle', { epoch: idle.epoch, seq: 1 })).resumed).toBe(false)
  })

  it('starts a new epoch at seq 1 after reset(channel) and reset()', async () => {
    const { broker } = setup()
    const a = await broker.publish('a', '1')
    const b = await broker.publish('b', '1')
    await broker.reset('a')
    const a2 = await broker.publish('a', '2')
    expect(a2.seq).toBe(1)
    expect(a2.epoch).not.toBe(a.epoch)
    expect((await broker.publish('b', '2')).epoch).toBe(b.epoch)
    await broker.reset()
    expect(await broker.publish('b', '3')).toEqual({ epoch: expect.not.stringMatching(b.epoch) as string, seq: 1 })
  })

  it('keeps delivering to the other listeners when one throws, reporting the error', async () => {
    const errors: unknown[] = []
    const { broker } = setup({ onListenerError: (error) => errors.push(error) })
    const seen: number[] = []
    await broker.subscribe('x', () => {
      throw new Error('listener bug')
    })
    await broker.subscribe('x', (message) => seen.push(message.seq))
    await broker.publish('x', '1')
    expect(seen).toEqual([1])
    expect(errors).toEqual([new Error('listener bug')])
  })

  it('rejects every call with BROKER_CLOSED after close()', async () => {
    const { broker } = setup()
    await broker.close()
    await broker.close()
    await expect(broker.publish('a', '1')).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
    await expect(broker.subscribe('a', () => undefined)).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
    await expect(broker.history('a', undefined)).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
    await expect(broker.reset()).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
  })

  it('lists every bad option in one InvalidOptionsError', () => {
    expect(() => createMemoryBroker({ windowMs: -1, maxMessages: 1.5 })).toThrow(InvalidOptionsError)
    try {
      createMemoryBroker({ windowMs: -1, maxMessages: 1.5 })
    } catch (error) {
      expect((error as InvalidOptionsError).issues.map((issue) => issue.field)).toEqual(['windowMs', 'maxMessages'])
    }
  })
})
