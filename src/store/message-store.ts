import type { InboundMessage, LifelineClient } from '../core'
import { createFrameScheduler } from './frame-batcher'

/** The last inbound message of a client, published at most once per animation frame. */
export interface MessageStore {
  getState(): InboundMessage | null
  /** Attaches to the client on the first subscriber and detaches after the last. */
  subscribe(listener: () => void): () => void
}

/**
 * Creates a message store of the messages `filter` keeps (all by default). A burst of N messages inside one frame costs one render, not N; use the client's
 * `message` event (or the hooks' `onMessage`) to see every message.
 */
export function createMessageStore(
  client: LifelineClient,
  filter: (message: InboundMessage) => boolean = () => true,
): MessageStore {
  let last: InboundMessage | null = null
  let published: InboundMessage | null = null
  const listeners = new Set<() => void>()
  let detach: (() => void) | null = null
  const frame = createFrameScheduler(() => {
    published = last
    for (const listener of listeners) listener()
  })
  return {
    getState: () => published,
    subscribe(listener) {
      listeners.add(listener)
      detach ??= client.on('message', (message) => {
        if (!filter(message)) return
        last = message
        frame.schedule()
      })
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && detach) {
          detach()
          detach = null
          frame.cancel()
        }
      }
    },
  }
}
