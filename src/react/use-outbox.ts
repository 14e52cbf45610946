'use client'
import { useContext, useSyncExternalStore } from 'react'
import { lifelineError, type LifelineClient, type OutboxItem } from '../core'
import { LifelineContext } from './context'

/** What {@link useOutbox} returns. */
export interface UseOutboxResult {
  /** Every message held (queued, sending, failed), oldest first. A new array only when something changed. */
  items: readonly OutboxItem[]
  /** Puts failed items (one by id, or all) back in the queue. */
  retry: (id?: string) => void
  /** Removes items (one by id, or all) without sending them; queued ones are reported as `MESSAGE_DISCARDED`. */
  discard: (id?: string) => void
}

const none: readonly OutboxItem[] = []
const noItems = () => none
const noSubscription = () => () => undefined
const notReady = (): void => {
  throw lifelineError('MISSING_PROVIDER', 'no client yet')
}

/**
 * The outbox of the nearest provider's client (or `client`): items with their state, and retry/discard actions.
 * Re-renders only when the items change.
 */
export function useOutbox(client?: LifelineClient | null): UseOutboxResult {
  const shared = useContext(LifelineContext)
  const found = client ?? shared
  // Server rendering under a provider that creates its client on mount: render an empty outbox.
  if (!found && typeof window !== 'undefined') throw lifelineError('MISSING_PROVIDER', 'No lifeline client or provider')
  const items = useSyncExternalStore(found?.subscribe ?? noSubscription, found?.outbox.items ?? noItems, noItems)
  return { items, retry: found?.outbox.retry ?? notReady, discard: found?.outbox.discard ?? notReady }
}
