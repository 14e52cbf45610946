import { createMemoryBroker } from '../../src/server'
import type { Broker, BrokerListener } from '../../src/server'

/**
 * A memory broker whose live delivery the test can feed directly (to show the server a gap) and whose history reads
 * start failing on demand: the broker going away in the middle of a subscription, after the stream opened.
 */
export function failingBroker(): {
  broker: Broker
  deliver(channel: string, seq: number): void
  failHistory(): void
  /** History reads work again. */
  recoverHistory(): void
} {
  const inner = createMemoryBroker()
  const listeners = new Map<string, Set<BrokerListener>>()
  let historyFails = false
  let epoch = ''
  const broker: Broker = {
    publish: async (channel, payload) => {
      const position = await inner.publish(channel, payload)
      epoch = position.epoch
      return position
    },
    subscribe: async (channel, listener) => {
      const set = listeners.get(channel) ?? new Set()
      listeners.set(channel, set)
      set.add(listener)
      const unsubscribe = await inner.subscribe(channel, listener)
      return () => {
        set.delete(listener)
        unsubscribe()
      }
    },
    history: (channel, since) =>
      historyFails
        ? Promise.reject(Object.assign(new Error('history read failed'), { code: 'BROKER_UNAVAILABLE' }))
        : inner.history(channel, since),
    reset: (channel) => inner.reset(channel),
    close: () => inner.close(),
  }
  return {
    broker,
    deliver(channel, seq) {
      for (const listener of listeners.get(channel) ?? []) listener({ channel, epoch, seq, payload: '"gap"' })
    },
    failHistory() {
      historyFails = true
    },
    recoverHistory() {
      historyFails = false
    },
  }
}
