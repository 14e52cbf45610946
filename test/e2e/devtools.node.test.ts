// Issue 13 in real Chromium: <LifelineDevtools /> on a real connection. Through a real outage (the server killed and
// restarted) the panel shows the transitions, the close code, the attempts on the backoff chart and the resumed
// channel; each action does what it says on the real connection; an exported trace replays to the same component
// states (and the same timeline in a second panel).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestServer, type TestServer } from '../../src/testing'
import type { DevtoolsPageHandle } from './devtools.page'
import { useChromiumPage, waitFor } from './support/node-chromium'

type WithHandle = { lifeline: DevtoolsPageHandle }
type Status = ReturnType<DevtoolsPageHandle['status']>

const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

const status = (page: Page): Promise<Status> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.status())
const feed = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.feed())

/**
 * The live panel's timeline (the first devtools host on the page; a replay's sits in `[data-replay]`), oldest first,
 * as `from->to: cause`.
 */
const transitions = (page: Page, host = 'body > [data-lifeline-devtools]'): Promise<string[]> =>
  page.evaluate((selector) => {
    const root = document.querySelector(selector)?.shadowRoot
    if (!root) throw new Error(`no devtools at ${selector}`)
    return [...root.querySelectorAll('tr[data-transition]')]
      .map((row) => `${row.getAttribute('data-transition')}: ${row.querySelector('[data-cause]')?.textContent ?? ''}`)
      .reverse()
  }, host)

describe('LifelineDevtools in Chromium on a real connection (issue 13)', () => {
  const chromium = useChromiumPage(new URL('./devtools.page.tsx', import.meta.url))
  let context: BrowserContext | null = null
  let server: TestServer | null = null
  let consoleErrors: string[] = []

  afterEach(async () => {
    await context?.close()
    context = null
    await server?.close()
    server = null
  })

  async function openPage(query = ''): Promise<{ page: Page; test: TestServer }> {
    const test = (server = await createTestServer({ allowedOrigins: [chromium.pageServer.origin] }))
    const serverOrigin = test.url.replace(/^ws/, 'http').replace(/\/[^/]*$/, '')
    context = await chromium.browser.newContext({ viewport: { width: 1100, height: 800 } })
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }))
    const page = await context.newPage()
    consoleErrors = []
    page.on('console', (message) => {
      // Chromium logs every refused WebSocket and failed handshake probe while the server is down: the network.
      const text = message.text()
      const network =
        /^WebSocket connection to .* failed/.test(text) ||
        (text.startsWith('Failed to load resource:') && message.location().url.startsWith(serverOrigin))
      if (message.type() === 'error' && !network) consoleErrors.push(`${text} (${message.location().url})`)
    })
    page.on('pageerror', (error) => consoleErrors.push(error.message))
    await page.goto(`${chromium.pageServer.origin}/?ws=${encodeURIComponent(test.url)}${query}`)
    await page.waitForFunction(() => 'lifeline' in globalThis, undefined, { timeout: 5000 })
    await waitFor('the first connection', async () => (await status(page)).status === 'open')
    // The panel is a lazy chunk: open on mount once it has loaded.
    await page.getByRole('region', { name: 'Lifeline devtools' }).waitFor({ timeout: 5000 })
    return { page, test }
  }

  const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true }).click()
  /** A button of the panel (the banner has a Retry now of its own). */
  const action = (page: Page, name: string) =>
    page.getByRole('region', { name: 'Lifeline devtools' }).getByRole('button', { name, exact: true })

  it('an outage: transitions with the close code, attempts within their backoff ranges, the channel resumed; export and replay', async () => {
    const { page, test } = await openPage()
    await waitFor('the feed to subscribe', async () => (await feed(page)) === 'subscribed:')
    await test.publish('news', { n: 1 })
    await waitFor('the first message', async () => (await feed(page)) === 'subscribed:1')

    await test.kill()
    await waitFor('two attempts', async () => (await status(page)).attempt >= 2, 5000)
    await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.publish('queued while down'))
    await test.restart()
    await waitFor('the reconnection', async () => (await status(page)).status === 'open', 5000)
    await test.publish('news', { n: 2 })
    await waitFor('the message after the outage', async () => (await feed(page)) === 'subscribed:1,2')
    await waitFor('the outbox to drain', () => test.applied('outbox').length === 1)

    // Timeline: the drop of the open connection with its code and meaning, the attempts, and back to open.
    const timeline = await transitions(page)
    expect(timeline.find((row) => row.startsWith('open->reconnecting'))).toContain('close 1006 abnormal → reconnect')
    expect(timeline.filter((row) => row.startsWith('reconnecting->connecting')).length).toBeGreaterThanOrEqual(2)
    expect(timeline.at(-1)).toMatch(/^connecting->open/)

    // The attempts chart, drawn: each delay inside the band drawn for it (the first after a drop spread over
    // [200, min(1600, 10·200)], then full jitter over [200, min(1600, 200·2^attempt)]).
    const attempts = page.locator('[data-chart="attempts"] g')
    expect(await attempts.count()).toBeGreaterThanOrEqual(2)
    const points = await attempts.evaluateAll((groups) =>
      groups.map((group) => ({
        range: group.getAttribute('data-range') ?? '',
        delay: Number(group.getAttribute('data-delay')),
        band: group.querySelector('rect')?.getBoundingClientRect().height ?? 0,
        dot: group.querySelector('circle')?.getBoundingClientRect().width ?? 0,
      })),
    )
    expect(points.slice(0, 2).map((point) => point.range)).toEqual(['200-1600', '200-800'])
    for (const point of points) {
      const [low = NaN, high = NaN] = point.range.split('-').map(Number)
      expect(point.delay).toBeGreaterThanOrEqual(low - 1)
      expect(point.delay).toBeLessThanOrEqual(high + 1)
      expect(point.band).toBeGreaterThan(1)
      expect(point.dot).toBeGreaterThan(0)
    }
    expect(await page.getByRole('img', { name: /^Reconnect attempts: attempt 1 waited/ }).isVisible()).toBe(true)

    // axe on the page with the panel open in its shadow root, in each colour scheme the panel follows.
    await page.addScriptTag({ content: axeSource })
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme })
      const found = await page.evaluate(async () => {
        const axe = (globalThis as unknown as { axe: typeof import('axe-core') }).axe
        const results = await axe.run(document, { resultTypes: ['violations'] })
        return results.violations.map((v) => `${v.id}: ${v.nodes.map((node) => node.html).join(' | ')}`)
      })
      expect(found, `axe, ${colorScheme}`).toEqual([])
    }

    await tab(page, 'Channels')
    const channel = page.locator('tr[data-channel="news"]')
    expect(await channel.getAttribute('data-state')).toBe('subscribed')
    expect(await channel.locator('[data-resumed]').getAttribute('data-resumed')).toBe('true')

    await tab(page, 'Actions')
    await action(page, 'Export trace (JSON)').click()
    const exported = await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.exported)
    if (!exported) throw new Error('no trace exported')
    expect(exported).not.toContain('s3cret')
    expect(exported).not.toContain('queued while down')

    // The same components on replayTrace(trace) go through the states the live ones went through, in order.
    const live = await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.liveStates)
    const replayed = await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.replay())
    expect(replayed).toEqual(live)
    expect(live.some((state) => state.startsWith('reconnecting|'))).toBe(true)
    expect(live.some((state) => state.includes('|waiting|'))).toBe(true)
    // A panel on the replay rebuilds the same timeline.
    expect(await transitions(page, '[data-replay] > [data-lifeline-devtools]')).toEqual(timeline)

    expect(await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.errors)).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 30_000)

  it('each action on a real connection: close with a code, connect, drop the link, retry now, offline and online', async () => {
    // Waits of 10 s: a reconnection within 2 s came from the action, not from the backoff.
    const { page, test } = await openPage('&slow')
    await tab(page, 'Actions')

    await page.getByLabel('Close code').fill('4000')
    await action(page, 'Close with code').click()
    await waitFor('the close', async () => (await status(page)).status === 'closed', 2000)
    expect((await status(page)).lastClose).toEqual({ code: 4000, wasClean: true })
    await waitFor('the server to see it', () => test.connections === 0, 2000)

    const before = test.totalConnections
    await action(page, 'Connect').click()
    await waitFor('Connect to open', async () => (await status(page)).status === 'open', 2000)
    expect(test.totalConnections).toBe(before + 1)

    await action(page, 'Drop the link (no close frame)').click()
    expect(await status(page)).toMatchObject({ status: 'reconnecting', lastClose: { code: 1006, wasClean: false } })
    await waitFor('the server to lose the socket', () => test.connections === 0, 2000)

    await action(page, 'Retry now').click()
    await waitFor('Retry now to reconnect', async () => (await status(page)).status === 'open', 2000)
    expect(test.totalConnections).toBe(before + 2)

    await action(page, 'Go offline').click()
    expect(await status(page)).toMatchObject({ status: 'offline', online: false })
    await waitFor('the server to lose the socket', () => test.connections === 0, 2000)
    await action(page, 'Go back online').click()
    await waitFor('online to reconnect', async () => (await status(page)).status === 'open', 2000)
    expect(test.totalConnections).toBe(before + 3)

    await tab(page, 'Timeline')
    const timeline = await transitions(page)
    // Each action on the timeline, in order, with the close it caused.
    expect(timeline).toEqual([
      'open->closing: ',
      'closing->closed: close 4000 application → reconnect',
      'closed->connecting: ',
      'connecting->open: ',
      'open->reconnecting: close 1006 abnormal → reconnect; error CONNECTION_CLOSED',
      'reconnecting->connecting: ',
      'connecting->open: ',
      'open->reconnecting: close 1006 abnormal → reconnect; error CONNECTION_CLOSED',
      'reconnecting->offline: ',
      'offline->connecting: ',
      'connecting->open: ',
    ])
    expect(await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.errors)).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 20_000)
})
