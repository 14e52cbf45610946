// R28 in real Chromium: the drop-in components follow a real connection through a real outage (the server killed and
// restarted), with their text, ARIA and timing checked against the client's snapshot, and axe run in every state.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { createFaultProxy, createTestServer, type FaultProxy, type TestServer } from '../../src/testing'
import type { PageHandle, PageView, TimelineEntry } from './components.page'
import { useChromiumPage, waitFor } from './support/node-chromium'

const CHANNEL = 'chat'
const SHOW_AFTER_MS = 1000
const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const stylesheet = readFileSync(fileURLToPath(new URL('../../src/components/styles.css', import.meta.url)), 'utf8')

type WithHandle = { lifeline: PageHandle }

const view = (page: Page): Promise<PageView> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.view())
const timeline = (page: Page): Promise<TimelineEntry[]> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.timeline)
const publish = (page: Page, values: unknown[]): Promise<string[]> =>
  page.evaluate(([channel, list]) => (globalThis as unknown as WithHandle).lifeline.publish(channel, list), [
    CHANNEL,
    values,
  ] as const)
const pageErrors = (page: Page): Promise<string[]> =>
  page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.errors)

/** "Retrying in 3 s." → 3000; the default formatDuration shows whole seconds, rounded up. */
function shownMs(text: string | null): number {
  const match = /(?:(\d+) min)? ?(?:(\d+) s)?\.?$/.exec(text ?? '')
  if (!text || !match || (!match[1] && !match[2])) throw new Error(`no time in ${JSON.stringify(text)}`)
  return (Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 1000
}

/**
 * The shown time is within 1 s of `nextRetryAt` (read in the same task). Whole seconds rounded up are 0 to 1 s above
 * the remaining time; 100 ms more for the timer and the render that replace the number on the second boundary.
 */
function expectWithinOneSecond(text: string | null, remainingMs: number | null): void {
  expect(remainingMs).not.toBeNull()
  const difference = shownMs(text) - (remainingMs ?? 0)
  expect(difference, `${String(text)} shown with ${String(remainingMs)} ms left`).toBeGreaterThanOrEqual(-100)
  expect(difference, `${String(text)} shown with ${String(remainingMs)} ms left`).toBeLessThanOrEqual(1100)
}

describe('components through a real outage (Chromium, R28)', () => {
  const chromium = useChromiumPage(new URL('./components.page.tsx', import.meta.url))
  let context: BrowserContext | null = null
  let server: TestServer | null = null
  let consoleErrors: string[] = []
  let proxy: FaultProxy | null = null

  afterEach(async () => {
    await context?.close()
    context = null
    await proxy?.close()
    proxy = null
    await server?.close()
    server = null
  })

  async function openPage(
    { origins = [chromium.pageServer.origin], query = '' }: { origins?: string[]; query?: string } = {},
    through?: (test: TestServer) => Promise<string>,
  ): Promise<{ page: Page; test: TestServer }> {
    const test = (server = await createTestServer({ allowedOrigins: origins }))
    const ws = through ? await through(test) : test.url
    // The lifeline server (or the proxy in front of it) as an HTTP origin: where the handshake probes go.
    const serverOrigin = ws.replace(/^ws/, 'http').replace(/\/[^/]*$/, '')
    context = await chromium.browser.newContext()
    // The page server has no icon: answer Chromium's request for one rather than log a 404 as a console error.
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }))
    const page = await context.newPage()
    consoleErrors = []
    page.on('console', (message) => {
      // Chromium itself logs every refused WebSocket, every failed or non-2xx handshake probe (the client's diagnosis
      // asks the lifeline server over HTTP), and a probe the server does not allow for this origin (CORS): the
      // network, not the page.
      const text = message.text()
      const network =
        /^WebSocket connection to .* failed/.test(text) ||
        (text.startsWith('Failed to load resource:') && message.location().url.startsWith(serverOrigin)) ||
        text.startsWith(`Access to fetch at '${serverOrigin}/`)
      if (message.type() === 'error' && !network) consoleErrors.push(`${text} (${message.location().url})`)
    })
    page.on('pageerror', (error) => consoleErrors.push(error.message))
    await page.goto(`${chromium.pageServer.origin}/?ws=${encodeURIComponent(ws)}${query}`)
    await page.waitForFunction(() => 'lifeline' in globalThis, undefined, { timeout: 5000 })
    await page.addStyleTag({ content: stylesheet })
    await page.addScriptTag({ content: axeSource })
    if (origins.includes(chromium.pageServer.origin)) {
      await waitFor('the first connection', async () => (await view(page)).status === 'open')
    }
    return { page, test }
  }

  /** axe on the whole page, light and dark theme (the stylesheet is loaded: colour contrast is checked too). */
  async function expectNoAxeViolations(page: Page, state: string): Promise<void> {
    for (const theme of ['light', 'dark']) {
      const found = await page.evaluate(async (name) => {
        document.documentElement.dataset.theme = name
        // The banner fades in over 150 ms: judge the colours it settles on, not a frame of the fade.
        await Promise.all(document.getAnimations().map((animation) => animation.finished))
        const axe = (globalThis as unknown as { axe: typeof import('axe-core') }).axe
        const results = await axe.run(document, { resultTypes: ['violations'] })
        return results.violations.map((v) => `${v.id}: ${v.nodes.map((node) => node.html).join(' | ')}`)
      }, theme)
      expect(found, `axe, ${state}, ${theme} theme`).toEqual([])
    }
  }

  it('banner after showAfterMs, countdown on nextRetryAt, queue fills offline and drains, Retry now reconnects at once', async () => {
    const { page, test } = await openPage()
    expect(await view(page)).toMatchObject({ bannerState: 'hidden', countdownState: 'inactive', queueState: 'empty' })
    await expectNoAxeViolations(page, 'connected')

    await test.kill()
    await waitFor('the client to lose the connection', async () => (await view(page)).status !== 'open')
    const values = ['first while down', 'second while down', 'third while down']
    await publish(page, values)

    // The queue lists what was published while down, at once (it is not delayed like the banner).
    const down = await view(page)
    expect(down.queueState).toBe('waiting')
    expect(down.queueSummary).toMatch(/^3 messages waiting to send \(\d+ B\)\.$/)
    // Previews read the JSON as words: a string as itself, not in quotes.
    expect(down.queueItems).toEqual(values.map((value) => ({ state: 'queued', preview: value })))

    await waitFor('the banner to show', async () => (await view(page)).bannerState !== 'hidden', 3000)
    const entries = await timeline(page)
    const troubledAt = entries.find((entry) => entry.kind === 'troubled' && entry.troubled)?.at ?? NaN
    const banner = entries.filter((entry) => entry.kind === 'banner')
    // Hidden from the first render until showAfterMs after the trouble began, then reconnecting: never anything before.
    expect(banner.map((entry) => entry.kind === 'banner' && entry.state)).toEqual(['hidden', 'reconnecting'])
    const shownAfter = (banner[1]?.at ?? NaN) - troubledAt
    expect(shownAfter).toBeGreaterThanOrEqual(SHOW_AFTER_MS - 20)
    expect(shownAfter).toBeLessThanOrEqual(SHOW_AFTER_MS + 300)

    const shown = await view(page)
    expect(shown.bannerText).toBe('Connection lost. Reconnecting…')
    expect(shown.polite).toBe('Connection lost. Reconnecting…')
    expect(shown.assertive).toBe('')

    // Sample the countdowns through waits and attempts: each shown number within 1 s of nextRetryAt.
    let samples = 0
    for (let tick = 0; tick < 40 && samples < 6; tick += 1) {
      const current = await view(page)
      if (current.status === 'reconnecting' && current.countdownState === 'waiting') {
        expectWithinOneSecond(current.countdownTime, current.remainingMs)
        // Side by side, the time is said once (by the countdown) and Retry now offered once (by the banner).
        expect(current.bannerCountdown).toBeNull()
        expect(current.retryingIn).toEqual(['countdown-time'])
        expect(current.retryButtons).toEqual(['banner-retry'])
        expect(current.countdownAttempt).toBe(`Attempt ${String(current.attempt)} of 20`)
        // The ticking number is never in a live region.
        expect(current.polite).not.toMatch(/\d/)
        samples += 1
      }
      await new Promise((resolve) => setTimeout(resolve, 330))
    }
    expect(samples).toBe(6)
    await expectNoAxeViolations(page, 'reconnecting, three messages queued')

    // Just after an attempt failed (a fresh wait of 3 to 4 s), bring the server back and press Retry now like a user:
    // the connection must not wait for nextRetryAt.
    await waitFor(
      'a fresh wait after a failed attempt',
      async () => {
        const current = await view(page)
        return current.status === 'reconnecting' && (current.remainingMs ?? 0) > 2700
      },
      10_000,
    )
    await test.restart()
    const beforeClick = await view(page)
    expect(beforeClick.status).toBe('reconnecting')
    expect(beforeClick.remainingMs).toBeGreaterThan(1500)
    await page.click('[data-lifeline="banner-retry"]', { timeout: 2000 })
    await waitFor('the connection to open after Retry now', async () => (await view(page)).status === 'open', 1500)
    const afterRetry = await timeline(page)
    const clickAt = afterRetry.find((entry) => entry.kind === 'click' && entry.target === 'banner-retry')?.at ?? NaN
    const healthyAt = [...afterRetry].reverse().find((entry) => entry.kind === 'troubled' && !entry.troubled)?.at ?? NaN
    expect(healthyAt - clickAt).toBeLessThan(1000)
    expect(healthyAt - clickAt).toBeLessThan((beforeClick.remainingMs ?? 0) - 500)

    // Healthy: the banner hides at once and says so politely; the queue drains, applied once each, in order.
    const open = await view(page)
    expect(open.bannerState).toBe('hidden')
    expect(open.countdownState).toBe('inactive')
    expect(open.polite).toBe('Reconnected.')
    await waitFor('the queue to empty', async () => (await view(page)).queueState === 'empty', 5000)
    expect((await view(page)).queueItems).toEqual([])
    expect(test.applied(CHANNEL)).toEqual(values)
    await expectNoAxeViolations(page, 'reconnected')

    expect(await pageErrors(page)).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 40_000)

  it('axe finds nothing in any state of any component, light and dark, with the real layout and stylesheet', async () => {
    context = await chromium.browser.newContext()
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }))
    const page = await context.newPage()
    consoleErrors = []
    page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())))
    page.on('pageerror', (error) => consoleErrors.push(error.message))
    await page.goto(`${chromium.pageServer.origin}/?scripted`)
    await page.waitForFunction(() => 'lifeline' in globalThis, undefined, { timeout: 5000 })
    await page.addStyleTag({ content: stylesheet })
    await page.addScriptTag({ content: axeSource })
    const names = await page.evaluate(() => (globalThis as unknown as WithHandle).lifeline.cases)
    expect(names.length).toBeGreaterThan(20)
    const seen = new Set<string>()
    for (const name of [null, ...names]) {
      await page.evaluate((entry) => (globalThis as unknown as WithHandle).lifeline.showCase(entry), name)
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)))
      const current = await view(page)
      seen.add(`banner ${current.bannerState}`).add(`countdown ${current.countdownState}`)
      seen.add(`queue ${current.queueState}`)
      await expectNoAxeViolations(page, name ?? 'healthy')
    }
    expect([...seen].sort()).toEqual(
      [
        ...['hidden', 'offline', 'reconnecting', 'degraded', 'refreshing', 'expired', 'throttled', 'failed'].map(
          (state) => `banner ${state}`,
        ),
        ...['waiting', 'connecting', 'inactive'].map((state) => `countdown ${state}`),
        ...['empty', 'waiting', 'failed'].map((state) => `queue ${state}`),
      ].sort(),
    )

    // A phone-sized viewport: every part stays inside its component (a part drawn outside would sit on the page's
    // background, not the theme's), and axe still finds nothing.
    await page.setViewportSize({ width: 320, height: 800 })
    for (const name of names) {
      await page.evaluate((entry) => (globalThis as unknown as WithHandle).lifeline.showCase(entry), name)
      const outside = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('[data-lifeline]')]
          .filter((element) => {
            const root = element.closest(
              '[data-lifeline="banner"], [data-lifeline="countdown"], [data-lifeline="queue"]',
            )
            return root && element.getBoundingClientRect().right > root.getBoundingClientRect().right + 0.5
          })
          .map((element) => element.dataset.lifeline),
      )
      expect(outside, `parts outside their component at 320 px, ${name}`).toEqual([])
    }
    await expectNoAxeViolations(page, 'a 320 px viewport')

    // The banner fades in and its buttons transition, unless the user asked for reduced motion.
    const motion = () =>
      page.evaluate(async () => {
        ;(globalThis as unknown as WithHandle).lifeline.showCase('offline')
        await new Promise((resolve) => requestAnimationFrame(resolve))
        const banner = getComputedStyle(document.querySelector('[data-lifeline="banner"]') as Element)
        const button = getComputedStyle(document.querySelector('[data-lifeline="banner-retry"]') as Element)
        return [banner.animationName, button.transitionDuration]
      })
    expect(await motion()).toEqual(['lifeline-enter', '0.15s, 0.15s'])
    await page.emulateMedia({ reducedMotion: 'reduce' })
    expect(await motion()).toEqual(['none', '0s'])
    expect(consoleErrors).toEqual([])
  }, 40_000)

  it('idle components add no space to a flex row or a grid with a 16 px gap, with or without the stylesheet', async () => {
    context = await chromium.browser.newContext()
    const page = await context.newPage()
    await page.goto(`${chromium.pageServer.origin}/?scripted&layout`)
    await page.waitForFunction(() => 'lifeline' in globalThis, undefined, { timeout: 5000 })
    const show = (name: string | null) =>
      page.evaluate(async (entry) => {
        ;(globalThis as unknown as WithHandle).lifeline.showCase(entry)
        await new Promise((resolve) => requestAnimationFrame(resolve))
      }, name)
    /** The space between the two markers around the three components, in each container. */
    const spacing = () =>
      page.evaluate(() =>
        Object.fromEntries(
          ['flex', 'grid'].map((display) => {
            const marker = (name: string) =>
              document.querySelector(`[data-layout="${display}"] [data-marker="${name}"]`)!.getBoundingClientRect()
            return [display, Math.round(marker('after').left - marker('before').right)]
          }),
        ),
      )
    await show(null)
    expect(await spacing(), 'unstyled').toEqual({ flex: 16, grid: 16 })
    await page.addStyleTag({ content: stylesheet })
    expect(await spacing(), 'with the stylesheet').toEqual({ flex: 16, grid: 16 })

    // Shown, they do take their place; healthy again, none, while the banner's live region (still mounted) says so.
    await show('reconnecting with a countdown')
    const shown = await spacing()
    expect(shown.flex).toBeGreaterThan(3 * 16 + 50)
    expect(shown.grid).toBeGreaterThan(3 * 16 + 50)
    await show(null)
    expect(await spacing(), 'recovered').toEqual({ flex: 16, grid: 16 })
    const announced = await page.evaluate(() =>
      [...document.querySelectorAll('[data-lifeline="banner-announcer"] [role="status"]')].map(
        (node) => node.textContent,
      ),
    )
    expect(announced).toEqual(['Reconnected.', 'Reconnected.'])
  }, 20_000)

  it('rate limited (4002) says the wait; a stop code (1008) fails at once, assertively; Retry now recovers', async () => {
    const { page, test } = await openPage()

    test.closeClients(4002, JSON.stringify({ retryAfterMs: 6000 }))
    await waitFor('the throttled banner', async () => (await view(page)).bannerState === 'throttled', 3000)
    const throttled = await view(page)
    expect(throttled.bannerText).toMatch(/^The server is busy and asked us to wait [67] s\.$/)
    expect(throttled.polite).toBe(throttled.bannerText)
    expectWithinOneSecond(throttled.countdownTime, throttled.remainingMs)
    expect(throttled.retryingIn).toEqual(['countdown-time'])
    await expectNoAxeViolations(page, 'throttled')
    await waitFor('the reconnection after the wait', async () => (await view(page)).status === 'open', 10_000)

    test.closeClients(1008)
    // A terminal failure cannot be a blip: shown at once, announced assertively, with the meaning of the close code.
    await waitFor('the failed banner', async () => (await view(page)).bannerState === 'failed', 500)
    const failed = await view(page)
    expect(failed.bannerText).toBe('Connection failed. The server refused it. Try again later.')
    expect(failed.assertive).toBe(failed.bannerText)
    expect(failed.polite).toBe('')
    expect(failed.countdownState).toBe('inactive')
    await expectNoAxeViolations(page, 'failed')

    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-lifeline'))).toBe('banner-retry')
    await page.keyboard.press('Enter')
    await waitFor('the connection to open after Retry now', async () => (await view(page)).status === 'open', 2000)
    expect((await view(page)).bannerState).toBe('hidden')

    expect(await pageErrors(page)).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 40_000)

  it('a handshake refused for this origin fails with the diagnosis in words, assertively', async () => {
    const { page } = await openPage({ origins: ['https://elsewhere.example'] })
    await waitFor('the failed banner', async () => (await view(page)).bannerState === 'failed', 15_000)
    const failed = await view(page)
    expect(failed.status).toBe('failed')
    expect(failed.bannerText).toBe('Connection failed. The server refused this site. Contact support.')
    expect(failed.assertive).toBe(failed.bannerText)
    await expectNoAxeViolations(page, 'failed with a diagnosis')
    expect(await pageErrors(page)).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 30_000)

  it('connected through the long-poll fallback says so (degraded, no Retry), and hides once back on WebSocket', async () => {
    const { page } = await openPage({ query: '&fallback' }, async (test) => {
      proxy = await createFaultProxy({ target: test.url })
      return `${proxy.url}/lifeline`
    })
    proxy?.blockWebSocket({ status: 403 })
    proxy?.reset()
    await waitFor('the degraded banner', async () => (await view(page)).bannerState === 'degraded', 10_000)
    const degraded = await view(page)
    expect(degraded).toMatchObject({ status: 'open', transport: 'longpoll' })
    expect(degraded.bannerText).toBe('Connected in slow mode. Updates may be delayed.')
    expect(degraded.polite).toBe(degraded.bannerText)
    expect(await page.$('[data-lifeline="banner-retry"]')).toBeNull()
    await expectNoAxeViolations(page, 'degraded')

    proxy?.unblockWebSocket()
    proxy?.restore()
    await waitFor(
      'back on WebSocket, banner hidden',
      async () => {
        const current = await view(page)
        return current.transport === 'websocket' && current.bannerState === 'hidden'
      },
      10_000,
    )
    expect((await view(page)).polite).toBe('Reconnected.')
    expect(await pageErrors(page)).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 30_000)
})
