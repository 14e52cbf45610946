// A browser's fetch throws "Illegal invocation" when called with a `this` other than the window (WebIDL), which Node's
// fetch does not check: eventSource() must call the fetch it is given as a plain function. Found by
// test/e2e/event-source.node.test.ts in real Chromium; this is the same check in Node, against the real server.
import { afterEach, describe, expect, it } from 'vitest'
import { createLifeline, eventSource, type LifelineClient } from '../../src/core'
import { cleanup, startServer } from '../server/helpers'
import { FAST, waitForStatus } from './helpers'

const clients: LifelineClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose()
  await cleanup()
})

/** Node's fetch with the browser's receiver check. */
function browserLikeFetch(this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (this !== undefined && this !== globalThis) {
    return Promise.reject(new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation"))
  }
  return fetch(input, init)
}

describe('eventSource() and the fetch it is given', () => {
  it('calls environment.fetch without a receiver, as a browser requires of window.fetch', async () => {
    const server = await startServer()
    const url = `${server.url.replace(/^ws/, 'http')}/events?ch=news`
    const client = createLifeline({ url, ...FAST, transport: eventSource(), environment: { fetch: browserLikeFetch } })
    clients.push(client)
    await waitForStatus(client, 'open', 3000).catch((error: unknown) => {
      throw new Error(`${String(error)}; lastError: ${String(client.getSnapshot().lastError?.cause)}`)
    })
    expect(client.getSnapshot().lastError).toBeNull()
  })
})
