// The Broker contract (src/server/broker.ts) as one suite, run against every broker: the memory broker in the unit
// project and the Redis broker (single server and Cluster) in the cluster project. Fan-out may be asynchronous, so
// deliveries are awaited; channel names are unique per test so that brokers sharing one Redis do not meet.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Broker, BrokerMessage } from '../../src/server'

/** Options every broker under test understands. */
export interface ContractOptions {
  maxMessages?: number
  maxBytes?: number
  onListenerError?: (error: unknown, channel: string) => void
}

export type BrokerFactory = (options: ContractOptions) => Broker | Promise<Broker>

/** A channel name no other test uses. */
export const uniqueChannel = (name: string): string => `${name}-${randomBytes(6).toString('hex')}`

export function describeBrokerContract(label: string, factory: BrokerFactory): void {
  describe(`Broker contract: ${label}`, () => {
    const brokers: Broker[] = []
    const make = async (options: ContractOptions = {}): Promise<Broker> => {
      const broker = await factory(options)
      brokers.push(broker)
      return broker
    }
    afterEach(async () => {
      await Promise.all(brokers.splice(0).map((broker) => broker.close()))
    })

    it('numbers each channel from seq 1 in its own epoch and fans out in order', async () => {
      const broker = await make()
      const [a, b] = [uniqueChannel('a'), uniqueChannel('b')]
      const seen: BrokerMessage[] = []
      const unsubscribe = await broker.subscribe(a, (message) => seen.push(message))
      const first = await broker.publish(a, '1')
      const second = await broker.publish(a, '2')
      const other = await broker.publish(b, '1')
      expect(first.seq).toBe(1)
      expect(second).toEqual({ epoch: first.epoch, seq: 2 })
      expect(other.seq).toBe(1)
      expect(other.epoch).not.toBe(first.epoch)
      await vi.waitFor(() => expect(seen).toHaveLength(2))
      expect(seen).toEqual([
        { channel: a, epoch: first.epoch, seq: 1, payload: '1' },
        { channel: a, epoch: first.epoch, seq: 2, payload: '2' },
      ])
      unsubscribe()
      unsubscribe()
      await broker.publish(a, '3')
      // A later subscriber of another channel is delivered to, so the unsubscribed one had its chance.
      const marker: number[] = []
      await broker.subscribe(b, (message) => marker.push(message.seq))
      await broker.publish(b, '2')
      await vi.waitFor(() => expect(marker).toEqual([2]))
      expect(seen).toHaveLength(2)
    })

    it('returns exactly the messages after `since`, or resumed:false with none', async () => {
      const broker = await make()
      const h = uniqueChannel('h')
      const { epoch } = await broker.publish(h, '1')
      await broker.publish(h, '2')
      await broker.publish(h, '3')
      const after1 = await broker.history(h, { epoch, seq: 1 })
      expect(after1).toMatchObject({ resumed: true, head: { epoch, seq: 3 } })
      expect(after1.messages).toEqual([
        { channel: h, epoch, seq: 2, payload: '2' },
        { channel: h, epoch, seq: 3, payload: '3' },
      ])
      expect(await broker.history(h, { epoch, seq: 3 })).toMatchObject({ resumed: true, messages: [] })
      expect(await broker.history(h, undefined)).toEqual({ resumed: false, messages: [], head: { epoch, seq: 3 } })
      expect(await broker.history(h, { epoch: 'other', seq: 1 })).toMatchObject({ resumed: false, messages: [] })
      expect(await broker.history(h, { epoch, seq: 4 })).toMatchObject({ resumed: false, messages: [] })
      expect(await broker.history(h, { epoch, seq: -1 })).toMatchObject({ resumed: false, messages: [] })
    })

    it('gives a channel never published a head at seq 0 that its first message continues', async () => {
      const broker = await make()
      const fresh = uniqueChannel('fresh')
      const { head } = await broker.history(fresh, undefined)
      expect(head.seq).toBe(0)
      expect(await broker.publish(fresh, '1')).toEqual({ epoch: head.epoch, seq: 1 })
      expect((await broker.history(fresh, head)).messages.map((message) => message.seq)).toEqual([1])
    })

    it('keeps at most maxMessages and maxBytes per channel, oldest dropped first', async () => {
      const broker = await make({ maxMessages: 3, maxBytes: 10 })
      const c = uniqueChannel('c')
      const { epoch } = await broker.publish(c, '"aa"')
      for (let index = 0; index < 4; index += 1) await broker.publish(c, '1')
      expect((await broker.history(c, { epoch, seq: 2 })).messages.map((message) => message.seq)).toEqual([3, 4, 5])
      expect(await broker.history(c, { epoch, seq: 1 })).toMatchObject({ resumed: false, messages: [] })
      await broker.publish(c, '"12345678"')
      // 10 bytes: only the last message fits.
      expect((await broker.history(c, { epoch, seq: 5 })).resumed).toBe(true)
      expect((await broker.history(c, { epoch, seq: 4 })).resumed).toBe(false)
      // The head survives: a client at the head still resumes.
      expect(await broker.history(c, { epoch, seq: 6 })).toMatchObject({ resumed: true, messages: [] })
    })

    it('starts a new epoch at seq 1 after reset(channel) and reset()', async () => {
      const broker = await make()
      const [a, b] = [uniqueChannel('a'), uniqueChannel('b')]
      const a1 = await broker.publish(a, '1')
      const b1 = await broker.publish(b, '1')
      await broker.reset(a)
      const a2 = await broker.publish(a, '2')
      expect(a2.seq).toBe(1)
      expect(a2.epoch).not.toBe(a1.epoch)
      expect((await broker.history(a, a1)).resumed).toBe(false)
      expect((await broker.publish(b, '2')).epoch).toBe(b1.epoch)
      await broker.reset()
      const b3 = await broker.publish(b, '3')
      expect(b3.seq).toBe(1)
      expect(b3.epoch).not.toBe(b1.epoch)
    })

    it('keeps delivering to the other listeners when one throws, reporting the error', async () => {
      const errors: unknown[] = []
      const broker = await make({ onListenerError: (error) => errors.push(error) })
      const x = uniqueChannel('x')
      const seen: number[] = []
      await broker.subscribe(x, () => {
        throw new Error('listener bug')
      })
      await broker.subscribe(x, (message) => seen.push(message.seq))
      await broker.publish(x, '1')
      await vi.waitFor(() => expect(seen).toEqual([1]))
      expect(errors).toEqual([new Error('listener bug')])
    })

    it('rejects every call with BROKER_CLOSED after close()', async () => {
      const broker = await make()
      await broker.close()
      await broker.close()
      await expect(broker.publish('a', '1')).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
      await expect(broker.subscribe('a', () => undefined)).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
      await expect(broker.history('a', undefined)).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
      await expect(broker.reset()).rejects.toMatchObject({ code: 'BROKER_CLOSED' })
    })
  })
}
