// The page driven by outbox-reload.node.test.ts: bundled by esbuild, served on 127.0.0.1, reloaded for real.
// One client per page load, its outbox kept in IndexedDB under `?key=`; the test drives it through `window.lifeline`.
import { createLifeline, indexedDbOutbox, lifelineProtocol, type PersistedOutbox } from '../../src/core'

/** What the test reads from the page (plain data: it crosses `page.evaluate`). */
export interface PageView {
  status: string
  queued: number
  inFlight: number
  failed: number
  session: string | null
  resumed: boolean | null
  /** Outbox item ids, oldest first. */
  ids: string[]
}

/** The raw IndexedDB record (`null` when there is none), and its JSON as a whole for the no-token check. */
export interface StoredView {
  value: PersistedOutbox | null
  json: string
}

/** The page's handle, as `window.lifeline`. */
export interface PageHandle {
  view(): PageView
  publish(channel: string, values: unknown[]): string[]
  stored(): Promise<StoredView>
  /** Uncaught errors and unhandled rejections seen by this page load. */
  errors: string[]
}

const params = new URLSearchParams(location.search)
const url = params.get('ws')
const key = params.get('key')
if (!url || !key) throw new Error('outbox-reload page needs ?ws=<url>&key=<storage key>')

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))

const protocol = lifelineProtocol()
const client = createLifeline({
  url,
  protocol,
  minDelayMs: 50,
  maxDelayMs: 250,
  // Fetched, as an app would: the token must reach the server in `hello` but never IndexedDB.
  getToken: () => fetch('/token').then((response) => response.text()),
  outbox: { storage: indexedDbOutbox(key) },
})

/** Reads the record straight from IndexedDB, without ever creating the database (that is the library's job). */
function readStored(): Promise<StoredView> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('react-lifeline')
    request.onupgradeneeded = () => request.transaction?.abort()
    request.onerror = () => {
      // Aborted upgrade: no database yet.
      if (request.error?.name === 'AbortError') resolve({ value: null, json: 'null' })
      else reject(request.error ?? new Error('indexedDB.open failed'))
    }
    request.onsuccess = () => {
      const database = request.result
      if (!database.objectStoreNames.contains('outbox')) {
        database.close()
        resolve({ value: null, json: 'null' })
        return
      }
      const get = database.transaction('outbox', 'readonly').objectStore('outbox').get(key!)
      get.onsuccess = () => {
        database.close()
        const value = (get.result as PersistedOutbox | undefined) ?? null
        resolve({ value, json: JSON.stringify(value) })
      }
      get.onerror = () => {
        database.close()
        reject(get.error ?? new Error('get failed'))
      }
    }
  })
}

const handle: PageHandle = {
  view() {
    const snapshot = client.getSnapshot()
    return {
      status: snapshot.status,
      queued: snapshot.outbox.queued,
      inFlight: snapshot.outbox.inFlight,
      failed: snapshot.outbox.failed,
      session: snapshot.session.id,
      resumed: snapshot.session.resumed,
      ids: client.outbox.items().map((item) => item.id),
    }
  },
  publish: (channel, values) => values.map((value) => protocol.publish(channel, value)),
  stored: readStored,
  errors,
}
;(globalThis as { lifeline?: PageHandle }).lifeline = handle
