// useEventSource in real Chromium against the real reference server (docs/protocol.md §9): a token through getToken
// travels in the Authorization header and never in a URL; a 1,000-message burst arrives whole; the server is killed
// (every socket destroyed) and restarted on the same port over the broker that outlived it, with messages published
// while it was down and after: the page's history is complete, in order, without duplicates, and it shows
// `session.resumed === true`. Restarted without the history (broker reset: a new epoch), it shows the gap. axe finds
// nothing open or reconnecting.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestServer, type TestServer } from '../../src/testing'
import type { EventSourcePageHandle, EventSourceView } from './event-source.page'
import { useChromiumPage, waitFor } from './support/node-chromium'

const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const stylesheet = readFileSync(fileURLToPath(new URL('../../src/components/styles.css', import.meta.url)), 'utf8')

const TOKEN = 'e2e-secret-token-5f1c'
const CHANNEL = 'ticker'
const BURST = 1000
const WHILE_DOWN = 50
const AFTER_RESTART = 50

type WithHandle = { eventPage: EventSourcePageHandle }
const view = (page: Page): Promise<EventSourceView> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).eventPage.view())

async function publish(server: TestServer, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++) await server.publish(CHANNEL, n)
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, index) => from + index)
const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf(':') + 1))

async function expectNoAxeViolations(page: Page, state: string): Promise<void> {
  const found = await page.evaluate(async () => {
    // The banner fades in: judge the colours it settles on.
    await Promise.all(document.getAnimations().map((animation) => animation.finished))
    const axe = (globalThis as unknown as { axe: typeof import('axe-core') }).axe
    const results = await axe.run(document, { resultTypes: ['violations'] })
    return results.violations.map((v) => `${v.id}: ${v.nodes.map((node) => node.html).join(' | ')}`)
  })
  expect(found, `axe, ${state}`).toEqual([])
}

describe('useEventSource in Chromium against the reference server', () => {
  const chromium = useChromiumPage(new URL('./event-source.page.tsx', import.meta.url))
  let context: BrowserContext | null = null
  let server: TestServer | null = null

  afterEach(async () => {
    await context?.close()
    context = null
    await server?.close()
    server = null
  })

  it('burst, kill and restart over the same broker: complete, in order, resumed; a lost history shows the gap', async () => {
    const test = (server = await createTestServer({
      allowedOrigins: [chromium.pageServer.origin],
      tokens: { [TOKEN]: 'alice' },
    }))
    const serverOrigin = test.url.replace(/^ws/, 'http').replace(/\/[^/]*$/, '')
    const eventsUrl = `${test.url.replace(/^ws/, 'http')}/events?ch=${CHANNEL}`
    context = await chromium.browser.newContext()
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }))
    await context.addInitScript((token) => {
      ;(globalThis as unknown as { __eventToken: string }).__eventToken = token
    }, TOKEN)
    const page = await context.newPage()
    const urls: string[] = []
    const streamAuth: Array<string | undefined> = []
    page.on('request', (request) => {
      urls.push(request.url())
      if (request.url().startsWith(eventsUrl) && request.method() === 'GET') {
        streamAuth.push(request.headers().authorization)
      }
    })
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      // Chromium logs every refused request while the server is down: the network, not the page.
      const text = message.text()
      const network = text.startsWith('Failed to load resource:') && message.location().url.startsWith(serverOrigin)
      if (message.type() === 'error' && !network) consoleErrors.push(text)
    })
    page.on('pageerror', (error) => consoleErrors.push(error.message))

    await page.goto(`${chromium.pageServer.origin}/?url=${encodeURIComponent(eventsUrl)}`)
    await page.waitForFunction(() => 'eventPage' in globalThis, undefined, { timeout: 5000 })
    await page.addStyleTag({ content: stylesheet })
    await page.addScriptTag({ content: axeSource })
    await waitFor(
      'the stream',
      async () => (await view(page)).status === 'open' && test.server.stats().eventStreams === 1,
    ).catch(async (error: unknown) => {
      // Says why: a stream that never opens has its reason in lastError (the page's fetch, the server's status).
      throw new Error(`${String(error)}; page: ${JSON.stringify({ ...(await view(page)), history: [] })}`)
    })
    await expectNoAxeViolations(page, 'open')

    // The burst, as fast as the server publishes it.
    const burstStart = performance.now()
    await publish(test, 0, BURST)
    const publishedMs = performance.now() - burstStart
    await waitFor('the burst', async () => (await view(page)).history.length === BURST, 10_000)
    const burstMs = performance.now() - burstStart

    // Killed: every socket destroyed. Messages published meanwhile wait in the broker, which outlives the server.
    await test.kill()
    await waitFor('reconnecting', async () => (await view(page)).status === 'reconnecting', 3000)
    await publish(test, BURST, WHILE_DOWN)
    // The banner shows after 1 s of trouble.
    await page.waitForSelector('[data-lifeline="banner"]:not([data-state="hidden"])', { timeout: 3000 })
    await expectNoAxeViolations(page, 'reconnecting')
    const restartedAt = performance.now()
    await test.restart()
    await waitFor('the stream again', async () => (await view(page)).status === 'open', 5000)
    const reconnectMs = performance.now() - restartedAt
    await publish(test, BURST + WHILE_DOWN, AFTER_RESTART)
    const total = BURST + WHILE_DOWN + AFTER_RESTART
    await waitFor('every message', async () => (await view(page)).history.length >= total, 5000)
    // Anything repeated would arrive right behind.
    await new Promise((resolve) => setTimeout(resolve, 200))

    const resumedView = await view(page)
    expect(resumedView.history.map((entry) => entry.data)).toEqual(range(0, total))
    expect(resumedView.history.every((entry) => entry.type === 'message')).toBe(true)
    const seqs = resumedView.history.map((entry) => seqOf(entry.id))
    expect(seqs).toEqual(range(seqs[0] ?? 0, total))
    expect(resumedView.resumed).toBe(true)
    expect(await page.getAttribute('[data-testid="resumed"]', 'data-resumed')).toBe('true')
    expect(resumedView.resumedText).toBe('resumed: nothing missed')
    // lastMessage is published at most once per frame: what the effect saw is in order, unrepeated, and ends last.
    const effectSeen = resumedView.lastMessageHistory.map((entry) => entry.data as number)
    expect(effectSeen.every((value, index) => index === 0 || value > (effectSeen[index - 1] ?? -1))).toBe(true)
    expect(effectSeen.at(-1)).toBe(total - 1)

    // Restarted without the history: the resume point's epoch is gone, and the page shows the gap.
    await test.kill()
    await waitFor('reconnecting', async () => (await view(page)).status === 'reconnecting', 3000)
    await test.restart({ loseHistory: true })
    await waitFor('the gap', async () => (await view(page)).resumed === false, 5000)
    expect(await page.getAttribute('[data-testid="resumed"]', 'data-resumed')).toBe('false')
    expect((await view(page)).resumedText).toBe('gap: history was lost')
    await test.publish(CHANNEL, 'after the gap')
    await waitFor('a message after the gap', async () => (await view(page)).history.at(-1)?.data === 'after the gap')
    expect((await view(page)).history).toHaveLength(total + 1)

    // The token went in a header on every stream request, never in a URL.
    expect(streamAuth.length).toBeGreaterThanOrEqual(3)
    expect(streamAuth.every((value) => value === `Bearer ${TOKEN}`)).toBe(true)
    expect(urls.filter((url) => url.includes(TOKEN) || url.includes(encodeURIComponent(TOKEN)))).toEqual([])
    expect(consoleErrors).toEqual([])
    expect(await page.evaluate(() => (globalThis as unknown as WithHandle).eventPage.errors)).toEqual([])

    console.info(
      `event-source e2e: ${JSON.stringify({
        burst: BURST,
        publishedMs: Math.round(publishedMs),
        burstInPageMs: Math.round(burstMs),
        whileDown: WHILE_DOWN,
        afterRestart: AFTER_RESTART,
        reconnectMs: Math.round(reconnectMs),
        lastMessageEffectRuns: effectSeen.length,
        streamRequests: streamAuth.length,
      })}`,
    )
  }, 30_000)
})
