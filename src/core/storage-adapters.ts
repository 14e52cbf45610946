import { lifelineError } from './errors'
import { outboxStorage, type OutboxStorage, type PersistedOutbox } from './persistence'

/** Options shared by the built-in adapters. */
export interface StorageAdapterOptions {
  /** The storage to use instead of the page's (tests, other realms). @default globalThis.localStorage / indexedDB */
  // The parts of Storage and IDBFactory in use, spelled out: the published types must not need the DOM lib.
  storage?:
    | { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void }
    | { open(name: string, version?: number): unknown }
    | undefined
}

const base64 = {
  encode(buffer: ArrayBuffer): string {
    let text = ''
    const bytes = new Uint8Array(buffer)
    for (let index = 0; index < bytes.length; index += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(index, index + 0x8000))
    }
    return btoa(text)
  },
  decode(text: string): ArrayBuffer {
    const binary = atob(text)
    const bytes = new Uint8Array(binary.length)
    for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index)
    return bytes.buffer
  },
}

/**
 * Keeps the outbox in `localStorage` under `key` (binary data base64-encoded). Synchronous and small: fine for a
 * few hundred short messages; prefer {@link indexedDbOutbox} for more, or for binary data. Use one key per tab.
 *
 * @example createLifeline({ url, protocol: lifelineProtocol(), outbox: { storage: localStorageOutbox('chat-outbox') } })
 */
export function localStorageOutbox(key: string, options: StorageAdapterOptions = {}): OutboxStorage {
  const store = () => {
    const storage = (options.storage ?? (globalThis as { localStorage?: Storage }).localStorage) as Storage | undefined
    if (!storage) throw lifelineError('STORAGE_ERROR', 'no localStorage')
    return storage
  }
  return outboxStorage({
    load() {
      const text = store().getItem(key)
      if (text === null) return null
      const value = JSON.parse(text) as PersistedOutbox
      if (!Array.isArray(value?.items)) return null
      for (const item of value.items as ({ data?: unknown } | null)[]) {
        const data = item?.data as { b64?: unknown } | null | undefined
        if (!item || typeof data !== 'object' || data === null || typeof data.b64 !== 'string') continue
        try {
          item.data = base64.decode(data.b64)
        } catch (_error) {
          // Not base64: the item keeps its `{ b64 }` data and is skipped as corrupted, not the whole outbox.
          continue
        }
      }
      return value
    },
    save(value) {
      if (!value.items.length && value.session === null) return store().removeItem(key)
      const items = value.items.map((item) =>
        typeof item.data === 'string' ? item : { ...item, data: { b64: base64.encode(item.data) } },
      )
      store().setItem(key, JSON.stringify({ ...value, items }))
    },
  })
}

const DB_NAME = 'react-lifeline'
const STORE = 'outbox'

/**
 * Keeps the outbox in IndexedDB (database `react-lifeline`, store `outbox`) under `key`. Asynchronous: sends wait for
 * the first load, so stored messages still go first. Binary data is stored as it is. Use one key per tab.
 *
 * @example createLifeline({ url, protocol: lifelineProtocol(), outbox: { storage: indexedDbOutbox('chat-outbox') } })
 */
export function indexedDbOutbox(key: string, options: StorageAdapterOptions = {}): OutboxStorage {
  let db: Promise<IDBDatabase> | null = null
  const open = (): Promise<IDBDatabase> =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const factory = (options.storage ?? globalThis.indexedDB) as IDBFactory | undefined
      if (!factory) throw lifelineError('STORAGE_ERROR', 'no IndexedDB')
      const request = factory.open(DB_NAME, 1)
      request.onupgradeneeded = () => request.result.createObjectStore(STORE)
      request.onsuccess = () => {
        const opened = request.result
        // Another tab upgrading the database: let it, and open again on the next call.
        opened.onversionchange = () => {
          opened.close()
          db = null
        }
        resolve(opened)
      }
      request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'))
      request.onblocked = () => reject(new Error('indexedDB.open blocked'))
    }).catch((error: unknown) => {
      db = null
      throw error
    }))
  const run = <T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> =>
    open().then(
      (database) =>
        new Promise<T>((resolve, reject) => {
          const transaction = database.transaction(STORE, mode)
          const request = action(transaction.objectStore(STORE))
          // Resolved on commit, not on the request: a save counts once it is durable.
          transaction.oncomplete = () => resolve(request.result)
          transaction.onerror = () => reject(transaction.error ?? request.error)
          transaction.onabort = () => reject(transaction.error ?? new Error('transaction aborted'))
        }),
    )
  return outboxStorage({
    load: () =>
      run('readonly', (store) => store.get(key) as IDBRequest<PersistedOutbox | undefined>).then(
        (value) => value ?? null,
      ),
    save: (value) =>
      run<unknown>('readwrite', (store) =>
        value.items.length || value.session !== null
          ? (store.put(value, key) as IDBRequest<unknown>)
          : (store.delete(key) as IDBRequest<unknown>),
      ).then(() => undefined),
  })
}
