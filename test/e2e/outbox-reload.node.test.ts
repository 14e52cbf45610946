// Real Chromium, driven from Node with playwright-core: vitest browser mode cannot reload its own page, and a reload is
// the point here (a new JS realm, a new client, the same origin and so the same IndexedDB).
import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestServer, type TestServer, type TestServerOptions } from '../../src/testing'
import type { PageHandle, PageView, StoredView } from './outbox-reload.page'
import { useChromiumPage, waitFor } from './support/node-chromium'

const TOKEN = 'tok-9f3c1e7a-never-stored'
const CHANNEL = 'chat'
const OFFLINE_COUNT = 50

type WithHandle = { lifeline: PageHandle }

const view = (page: Page): Promise<PageView> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.view())
const stored = (page: Page): Promise<StoredView> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.stored())
const publish = (page: Page, values: unknown[]): Promise<string[]> =>
  page.evaluate(([channel, list]) => (globalThis as unknown as WithHandle).lifeline.publish(channel, list), [
    CHANNEL,
    values,
  ] as const)
const pageErrors = (page: Page): Promise<string[]> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.errors)
const loaded = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => 'lifeline' in globalThis, undefined, { timeout: 5000 })

/** No id applied twice, and every applied message is the one expected, in order. */
function expectAppliedOnce(server: TestServer, expected: unknown[]): void {
  const entries = server.received.filter((entry) => entry.channel === CHANNEL)
  expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length)
  expect(server.applied(CHANNEL)).toEqual(expected)
}

describe('outbox persisted in IndexedDB across a real page reload (Chromium)', () => {
  const chromium = useChromiumPage(new URL('./outbox-reload.page.ts', import.meta.url), { '/token': TOKEN })
  let context: BrowserContext | null = null
  let server: TestServer | null = null

  afterEach(async () => {
    await context?.close()
    context = null
    await server?.close()
    server = null
  })

  /** A test server that only lets the page's origin in, and only with TOKEN. */
  async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
    server = await createTestServer({
      allowedOrigins: [chromium.pageServer.origin],
      tokens: { [TOKEN]: 'alice' },
      ...options,
    })
    return server
  }

  async function openPage(ws: string, key: string): Promise<Page> {
    context = await chromium.browser.newContext()
    const page = await context.newPage()
    await page.goto(`${chromium.pageServer.origin}/?ws=${encodeURIComponent(ws)}&key=${encodeURIComponent(key)}`)
    await loaded(page)
    await waitFor('the first connection', async () => (await view(page)).status === 'open')
    return page
  }

  /** Reloads, and waits until the new page's client has put the stored items back in its outbox. */
  async function reload(page: Page, restoredCount: number): Promise<PageView> {
    await page.reload()
    await loaded(page)
    await waitFor(`${String(restoredCount)} items restored after the reload`, async () => {
      const current = await view(page)
      return current.queued === restoredCount
    })
    return view(page)
  }

  function expectNoToken(record: StoredView): void {
    expect(record.json).not.toContain(TOKEN)
    expect(record.json).not.toContain('token')
  }

  it('applies sends queued offline exactly once, in order, after a reload and a reconnect', async () => {
    const test = await startServer()
    const page = await openPage(test.url, 'outbox-reload-queued')
    const online = ['online-1', 'online-2', 'online-3']
    await publish(page, online)
    await waitFor('the online sends applied', async () => {
      const current = await view(page)
      return test.applied(CHANNEL).length === online.length && current.queued + current.inFlight === 0
    })

    await test.kill()
    await waitFor('the client to notice the server is gone', async () => (await view(page)).status !== 'open')
    const offline = Array.from({ length: OFFLINE_COUNT }, (_, index) => ({ text: `offline-${String(index)}` }))
    const ids = await publish(page, offline)
    const before = await view(page)
    expect(before).toMatchObject({ queued: OFFLINE_COUNT, inFlight: 0, failed: 0 })
    expect(before.ids).toEqual(ids)
    expect(before.session).not.toBeNull()

    await waitFor(
      'IndexedDB to hold every offline send',
      async () => (await stored(page)).value?.items.length === OFFLINE_COUNT,
    )
    const record = await stored(page)
    expectNoToken(record)
    expect(record.value?.items.map((item) => item.id)).toEqual(ids)
    expect(record.value?.items.every((item) => item.state === 'queued' && item.channel === CHANNEL)).toBe(true)
    expect(record.value?.session).toBe(before.session)

    const after = await reload(page, OFFLINE_COUNT)
    expect(after.ids).toEqual(ids)
    expect(after.status).not.toBe('open')
    // Sent after the reload: it must queue behind the restored items, not overtake them.
    await publish(page, ['after-reload'])

    await test.restart()
    await waitFor(
      'the restored sends to be applied and acknowledged',
      async () => {
        const current = await view(page)
        return current.status === 'open' && current.queued + current.inFlight + current.failed === 0
      },
      10_000,
    )
    expectAppliedOnce(test, [...online, ...offline, 'after-reload'])
    expect(await view(page)).toMatchObject({ session: before.session, resumed: true, ids: [] })
    await waitFor('IndexedDB to be emptied', async () => (await stored(page)).value?.items.length === 0)
    expectNoToken(await stored(page))
    expect(await pageErrors(page)).toEqual([])
  }, 20_000)

  it('applies a send that was in flight at reload time once, thanks to the stored session', async () => {
    // The server applies the marked message, then crashes before its ack can leave: the page never learns it landed.
    // `terminateClients()` destroys the socket synchronously, before the connection writes the ack. Once only.
    let crashed = false
    const test = await startServer({
      onPublished(event) {
        if (crashed || (event.data as { marker?: string } | null)?.marker !== 'in-flight') return
        crashed = true
        server?.terminateClients()
        void server?.kill()
      },
    })
    const page = await openPage(test.url, 'outbox-reload-in-flight')
    await publish(page, ['warm-up'])
    await waitFor('the warm-up send applied', () => test.applied(CHANNEL).length === 1)

    const inFlight = { marker: 'in-flight', text: 'applied, never acked' }
    const [inFlightId] = await publish(page, [inFlight])
    await waitFor('the server to apply the in-flight send and crash', () => !test.listening)
    await waitFor('the client to lose the connection', async () => (await view(page)).status !== 'open')
    expectAppliedOnce(test, ['warm-up', inFlight])
    const offline = ['queued-1', 'queued-2', 'queued-3']
    const offlineIds = await publish(page, offline)
    const before = await view(page)
    expect(before).toMatchObject({ queued: 1 + offline.length, inFlight: 0, failed: 0 })
    expect(before.ids).toEqual([inFlightId, ...offlineIds])

    await waitFor(
      'IndexedDB to hold the unacknowledged send',
      async () => (await stored(page)).value?.items.length === 4,
    )
    const record = await stored(page)
    expectNoToken(record)
    expect(record.value?.items.map((item) => item.id)).toEqual([inFlightId, ...offlineIds])
    expect(record.value?.session).toBe(before.session)

    const after = await reload(page, 1 + offline.length)
    expect(after.ids).toEqual([inFlightId, ...offlineIds])
    expect(after.session).toBe(before.session)

    await test.restart()
    await waitFor(
      'the resent items to be acknowledged',
      async () => {
        const current = await view(page)
        return current.status === 'open' && current.queued + current.inFlight + current.failed === 0
      },
      10_000,
    )
    // Resent under the resumed session: acknowledged again, applied once.
    expectAppliedOnce(test, ['warm-up', inFlight, ...offline])
    expect(await view(page)).toMatchObject({ session: before.session, resumed: true })
    await waitFor('IndexedDB to be emptied', async () => (await stored(page)).value?.items.length === 0)
    expectNoToken(await stored(page))
    expect(await pageErrors(page)).toEqual([])
  }, 20_000)
})
