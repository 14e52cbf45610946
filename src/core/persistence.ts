import { lifelineError, type LifelineError, type LifelineErrorCode } from './errors'
import type { Outbox, OutboxItem, OutboxItemState } from './outbox'
import { measureMessage } from './validate'

/** Version of {@link PersistedOutbox}. A stored value of another version is ignored (and later overwritten). */
export const OUTBOX_STORAGE_VERSION = 1

/** One outbox item as stored. Binary data is kept as an `ArrayBuffer`; `Blob` items are not persisted. */
export interface PersistedItem {
  id: string
  data: string | ArrayBuffer
  channel?: string
  bytes: number
  /** `sending` items are stored as `queued`: after a reload they are resent (the server dedupes by id). */
  state: Exclude<OutboxItemState, 'sending'>
  attempts: number
  createdAt: number
  expiresAt: number | null
  /** Why a `failed` item failed. */
  error?: { code: LifelineErrorCode; message: string }
}

/** What a storage adapter stores: the items and the session to resume, never a token. */
export interface PersistedOutbox {
  v: typeof OUTBOX_STORAGE_VERSION
  /** The session id to resume after a reload, so that the server dedupes items it had already applied. */
  session: string | null
  items: PersistedItem[]
}

/**
 * Where an outbox is kept: read once when the client is created, written after changes (coalesced, one write at a
 * time, the newest state each time). Either method may return a promise. Stored data is treated as untrusted.
 */
export interface OutboxStorageAdapter {
  load(): PersistedOutbox | null | undefined | Promise<PersistedOutbox | null | undefined>
  save(value: PersistedOutbox): void | Promise<void>
}

/** What the client hands to its outbox storage. Internal: created by the client. */
export interface OutboxStorageHost {
  outbox: Outbox
  /** The session id to store. */
  session(): string | null
  /** A stored session id to resume (ignored once the client has one of its own). */
  resume(id: string): void
  /** A stored item that no longer fits the outbox limits. */
  overflow(item: OutboxItem): void
  /** Records a storage failure in `lastError` (the outbox keeps working in memory). */
  error(error: LifelineError): void
  /** Loading finished (or failed): sends may flow. */
  restored(): void
  /**
   * Whether the client still holds the storage: `false` once it is disposed, or released by every holder (a React
   * client replaced by one for a new URL). Another client may then take the storage over.
   */
  live(): boolean
}

/** The value of the `outbox.storage` option, made by {@link outboxStorage}, `localStorageOutbox` or `indexedDbOutbox`. */
export interface OutboxStorage {
  /**
   * Called by a client when it first starts; returns the function the client calls after every change. One live client
   * at a time: a second one gets `STORAGE_ERROR`; one that starts after the first was released takes the storage over
   * (loading what the first one saved).
   */
  attach(host: OutboxStorageHost): () => void
}

/**
 * Persists an outbox through your own adapter (a file, a native bridge, a server). Sends wait for the first `load`,
 * so stored messages keep their place ahead of new ones. One key serves one tab: two tabs sharing stored items would
 * both resend them. One options object can serve many clients over time (a React provider whose URL changes), one live
 * client at a time.
 *
 * @example outbox: { storage: outboxStorage({ load: () => myStore.get('outbox'), save: (v) => myStore.set('outbox', v) }) }
 */
export function outboxStorage(adapter: OutboxStorageAdapter): OutboxStorage {
  let owner: OutboxStorageHost | null = null
  return {
    attach(host) {
      if (owner?.live()) throw lifelineError('STORAGE_ERROR', 'one outbox storage serves one live client')
      owner = host
      let ready = false
      let savedItems = host.outbox.items()
      let savedSession = host.session()
      let busy = false
      let again = false

      const write = () => {
        // Changes from here on are not in this value: they ask for one more save.
        again = false
        const value: PersistedOutbox = {
          v: OUTBOX_STORAGE_VERSION,
          session: host.session(),
          items: host.outbox
            .items()
            .filter((item) => typeof item.data === 'string' || item.data instanceof ArrayBuffer)
            .map((item) => ({
              id: item.id,
              data: item.data as string | ArrayBuffer,
              ...(item.channel !== undefined && { channel: item.channel }),
              bytes: item.bytes,
              state: item.state === 'failed' ? 'failed' : 'queued',
              attempts: item.attempts,
              createdAt: item.createdAt,
              expiresAt: item.expiresAt,
              ...(item.error && { error: { code: item.error.code, message: item.error.message } }),
            })),
        }
        Promise.resolve()
          .then(() => adapter.save(value))
          .catch((error: unknown) => host.error(lifelineError('STORAGE_ERROR', 'save failed', error)))
          .finally(() => {
            busy = again
            again = false
            // Changes made while saving: one more save, of the newest state.
            if (busy) queueMicrotask(write)
          })
      }
      /** Once per microtask at most, one save in flight at a time, the newest state each time. */
      const sync = () => {
        // Taken over by another client: this one's changes are no longer stored.
        if (!ready || owner !== host) return
        const items = host.outbox.items()
        const session = host.session()
        if (items === savedItems && session === savedSession) return
        savedItems = items
        savedSession = session
        if (busy) {
          again = true
          return
        }
        busy = true
        queueMicrotask(write)
      }
      /**
       * Problems found while loading are reported a microtask later: a synchronous load runs inside `createLifeline`,
       * before anyone could listen (and before the client connects, while it has no `lastError` to record).
       */
      const later = (report: () => void) => queueMicrotask(report)
      const done = (value?: PersistedOutbox | null) => {
        if (value?.v === OUTBOX_STORAGE_VERSION && Array.isArray(value.items)) {
          const items = value.items.flatMap((item): OutboxItem[] => {
            const bytes = isPersistedItem(item) ? measure(item.data) : null
            if (bytes === null) return []
            return [
              {
                ...item,
                // A stored size is not trusted: the limits count real bytes.
                bytes,
                state: item.state === 'failed' ? 'failed' : 'queued',
                error:
                  item.state === 'failed'
                    ? lifelineError(item.error?.code ?? 'MESSAGE_DISCARDED', item.error?.message)
                    : null,
              },
            ]
          })
          const overflow = host.outbox.restore(items)
          if (overflow.length) later(() => overflow.forEach((item) => host.overflow(item)))
          if (typeof value.session === 'string') host.resume(value.session)
        }
        ready = true
        host.restored()
      }
      const failed = (error: unknown) => {
        later(() => host.error(lifelineError('STORAGE_ERROR', 'load failed', error)))
        done()
      }
      try {
        const loaded = adapter.load()
        if (loaded instanceof Promise) loaded.then(done, failed)
        else done(loaded)
      } catch (error) {
        failed(error)
      }
      return sync
    },
  }
}

/** The size of stored data, or `null` when it cannot be sent (a lone surrogate). */
function measure(data: string | ArrayBuffer): number | null {
  try {
    return measureMessage(data)
  } catch (_error) {
    return null
  }
}

/** Stored data is untrusted: a malformed item is skipped, never a crash. */
function isPersistedItem(item: PersistedItem): boolean {
  return (
    typeof item === 'object' &&
    item !== null &&
    typeof item.id === 'string' &&
    (typeof item.data === 'string' || item.data instanceof ArrayBuffer) &&
    (item.channel === undefined || typeof item.channel === 'string') &&
    Number.isFinite(item.bytes) &&
    Number.isFinite(item.attempts) &&
    Number.isFinite(item.createdAt) &&
    (item.expiresAt === null || Number.isFinite(item.expiresAt))
  )
}
