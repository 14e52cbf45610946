// R22 in real Chromium: WebSocket blocked by a proxy that lets plain HTTP through. The page's client must move to
// long-poll, keep messages flowing both ways with no gap or duplicate, and move back once the block lifts.
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, createTestServer, type FaultProxy, type TestServer } from '../../src/testing'
import type { FallbackHandle, FallbackView } from './fallback.page'
import { bundlePage, launchChromium, servePage, waitFor, type PageServer } from './support/node-chromium'

const view = (page: Page): Promise<FallbackView> =>
  page.evaluate(() => (globalThis as unknown as { lifeline: FallbackHandle }).lifeline.view())
const publish = (page: Page, count: number): Promise<void> =>
  page.evaluate((n) => (globalThis as unknown as { lifeline: FallbackHandle }).lifeline.publish(n), count)

describe('long-poll fallback in real Chromium (R22)', () => {
  let browser: Browser
  let pageServer: PageServer
  let server: TestServer
  let proxy: FaultProxy

  beforeAll(async () => {
    const script = await bundlePage(fileURLToPath(new URL('./fallback.page.ts', import.meta.url)))
    pageServer = await servePage(script)
    browser = await launchChromium()
    server = await createTestServer({ allowedOrigins: [pageServer.origin] })
    proxy = await createFaultProxy({ target: server.url })
  }, 20_000)

  afterAll(async () => {
    await browser?.close()
    await proxy?.close()
    await server?.close()
    await pageServer?.close()
  })

  it('flips transport to longpoll while WebSocket is blocked and back after, messages flowing both ways throughout', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      // Expected browser lines: the refused upgrade itself, the diagnosis probe's 426 (Chromium logs every non-2xx
      // fetch) and the page server's 404 for /favicon.ico. Anything else is an error.
      const expected = /WebSocket connection to .* failed|status of (426|404) /
      if (message.type() === 'error' && !expected.test(message.text())) consoleErrors.push(message.text())
    })
    const ws = `${proxy.url}/lifeline`
    await page.goto(`${pageServer.origin}/?ws=${encodeURIComponent(ws)}`)
    await waitFor(
      'open over WebSocket',
      async () => (await view(page)).transport === 'websocket' && (await view(page)).status === 'open',
    )

    let n = 0
    const timer = setInterval(() => {
      // 200 msgs/s from the backend for the whole test.
      for (let index = 0; index < 2; index++) void server.publish('feed', { n: ++n })
    }, 10)
    try {
      await publish(page, 20)
      proxy.blockWebSocket({ status: 403 })
      proxy.reset()
      const blockedAt = performance.now()
      await waitFor('long-poll', async () => {
        const current = await view(page)
        return current.transport === 'longpoll' && current.status === 'open'
      })
      const switchMs = performance.now() - blockedAt
      await publish(page, 20)
      const before = (await view(page)).received
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect((await view(page)).received, 'messages keep flowing over long-poll').toBeGreaterThan(before + 100)

      proxy.unblockWebSocket()
      proxy.restore()
      await waitFor('back on WebSocket', async () => {
        const current = await view(page)
        return current.transport === 'websocket' && current.status === 'open'
      })
      await publish(page, 20)
      expect(switchMs).toBeLessThan(3000)
    } finally {
      clearInterval(timer)
    }
    const published = n
    await waitFor('every message received', async () => (await view(page)).received === published)
    await waitFor('every publish applied', async () => server.applied('uplink').length === 60)
    const final = await view(page)
    expect(final).toMatchObject({ duplicated: 0, outOfOrder: 0, gaps: 0, errors: [] })
    expect(final.transports).toEqual(['websocket', 'longpoll', 'websocket'])
    expect(server.applied('uplink')).toEqual(Array.from({ length: 60 }, (_, index) => ({ n: index + 1 })))
    expect(consoleErrors, consoleErrors.join('\n')).toEqual([])
    await context.close()
  }, 30_000)
})
