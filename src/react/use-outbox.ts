'use client'
import { useSyncExternalStore } from 'react'
import type { LifelineClient, OutboxItem } from '../core'
import { useClientOrIdle } from './context'

/** What {@link useOutbox} returns. */
export interface UseOutboxResult {
  /** Every message held (queued, sending, failed), oldest first. A new array only when something changed. */
  items: readonly OutboxItem[]
  /** Puts failed items (one by id, or all) back in the queue. */
  retry: (id?: string) => void
  /** Removes items (one by id, or all) without sending them; queued ones are reported as `MESSAGE_DISCARDED`. */
  discard: (id?: string) => void
}

/**
 * The outbox of the nearest provider's client (or `client`): items with their state, and retry/discard actions.
 * Re-renders only when the items change.
 */
export function useOutbox(client?: LifelineClient | null): UseOutboxResult {
  const { subscribe, outbox } = useClientOrIdle(client)
  const items = useSyncExternalStore(subscribe, outbox.items, outbox.items)
  return { items, retry: outbox.retry, discard: outbox.discard }
}
