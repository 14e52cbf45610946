import { createStore, type StoreApi } from 'zustand/vanilla'
import type { ConnectionSnapshot, LifelineClient } from '../core'

const stores = new WeakMap<LifelineClient, StoreApi<ConnectionSnapshot>>()

/**
 * The zustand vanilla store mirroring a client's snapshot. One store per client (cached on the client object, so
 * it is collected with it); it follows the client for the client's whole life.
 */
export function getConnectionStore(client: LifelineClient): StoreApi<ConnectionSnapshot> {
  let store = stores.get(client)
  if (!store) {
    const created = createStore<ConnectionSnapshot>(() => client.getSnapshot())
    client.subscribe(() => created.setState(client.getSnapshot(), true))
    stores.set(client, (store = created))
  }
  return store
}

/** The snapshot of a client that is not connected (server rendering, `url: null`). */
export const idleSnapshot: ConnectionSnapshot = Object.freeze({
  status: 'idle',
  transport: null,
  attempt: 0,
  nextRetryAt: null,
  lastClose: null,
  lastError: null,
  online: true,
  latencyMs: null,
  outbox: { queued: 0, inFlight: 0, failed: 0, bytes: 0 },
  session: { id: null, resumed: null },
})
