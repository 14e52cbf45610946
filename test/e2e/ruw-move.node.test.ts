// Issue 14, the one-line move in real Chromium: ruw-move.page.tsx, an app written for react-use-websocket, bundled as
// it is ("before") and with only its import line changed to react-lifeline's compat entry ("after"), against a real
// `ws` server that is killed and restarted, then sends a burst. The "after" app must reconnect by itself and see every
// message of the burst in its lastMessage history, in order; what the "before" app does is measured and printed.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createEchoServer, type EchoServer } from '../../src/testing'
import type { AppHandle, AppView } from './ruw-move.page'
import { launchChromium, servePage, waitFor, type PageServer } from './support/node-chromium'

const BURST = 100_000
/**
 * A history that stops growing for this long is stuck. Long: while Chromium delivers the burst's message events (about
 * 10 s for 100,000 on 2 busy cores), the compat entry's renders wait behind them and the history hardly grows.
 */
const STALL_MS = 15_000
/** Once the last message of the burst is in the history, what is missing by then stays missing. */
const SETTLED_MS = 1000
const OPEN = 1
const BEFORE_IMPORT = "from 'react-use-websocket'"
const AFTER_IMPORT = "from 'react-lifeline/compat/react-use-websocket'"
const pagePath = fileURLToPath(new URL('./ruw-move.page.tsx', import.meta.url))
const compatPath = fileURLToPath(new URL('../../src/compat/react-use-websocket.ts', import.meta.url))

type Variant = 'before' | 'after'
type WithHandle = { app: AppHandle }

/** The page source for a variant: the "after" one differs by its import line only. */
function source(variant: Variant): string {
  const text = readFileSync(pagePath, 'utf8')
  if (variant === 'before') return text
  const lines = text.split('\n')
  const index = lines.findIndex((line) => line.endsWith(BEFORE_IMPORT))
  if (index < 0 || lines.filter((line) => line.includes(BEFORE_IMPORT)).length !== 1) {
    throw new Error('ruw-move.page.tsx must import react-use-websocket on exactly one line')
  }
  lines[index] = (lines[index] ?? '').replace(BEFORE_IMPORT, AFTER_IMPORT)
  return lines.join('\n')
}

/**
 * Bundles a variant as an app's production build would be (React's production build). The package name resolves to
 * the source here, as it would to dist/ in an app.
 */
async function bundle(variant: Variant): Promise<string> {
  const result = await build({
    stdin: { contents: source(variant), resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'tsx' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    plugins: [
      {
        name: 'react-lifeline',
        setup(plugin) {
          plugin.onResolve({ filter: /^react-lifeline\/compat\/react-use-websocket$/ }, () => ({ path: compatPath }))
        },
      },
    ],
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error(`esbuild produced nothing for the ${variant} page`)
  return output.text
}

/** What one run measured. */
interface Figures {
  variant: Variant
  /** From the restart to the app's readyState OPEN again; null if it never reconnected within 15 s. */
  reconnectMs: number | null
  /** The texts sent before the kill, while down and after the reconnect, as the app's history has them. */
  texts: string[]
  burst: number
  received: number
  /** The last number the history saw (BURST - 1 when the end of the burst arrived). */
  lastSeen: number
  outOfOrder: number
  firstOutOfOrder: string | null
  burstMs: number
  /** Whether the last message arrived (false: the history stopped short and stalled). */
  complete: boolean
  pageErrors: string[]
  /** [ms since the burst began, messages in the history], about once a second. */
  progress: [number, number][]
}

describe('the one-line move from react-use-websocket, in Chromium (issue 14)', () => {
  let browser: Browser
  const pages = new Map<Variant, PageServer>()
  let context: BrowserContext | null = null
  let server: EchoServer | null = null

  beforeAll(async () => {
    for (const variant of ['before', 'after'] as const) pages.set(variant, await servePage(await bundle(variant)))
    browser = await launchChromium()
  }, 20_000)

  afterAll(async () => {
    await browser?.close()
    for (const page of pages.values()) await page.close()
  })

  afterEach(async () => {
    await context?.close()
    context = null
    await server?.close()
    server = null
  })

  const view = (page: Page): Promise<AppView> => page.evaluate(() => (globalThis as unknown as WithHandle).app.view())
  const send = (page: Page, texts: string[]): Promise<void> =>
    page.evaluate((list) => (globalThis as unknown as WithHandle).app.send(list), texts)
  const now = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as WithHandle).app.now())

  async function run(variant: Variant): Promise<Figures> {
    const echo = (server = await createEchoServer())
    context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${pages.get(variant)?.origin ?? ''}/?ws=${encodeURIComponent(echo.url)}`)
    await page.waitForFunction(() => 'app' in globalThis, undefined, { timeout: 5000 })
    await waitFor('the first connection', async () => (await view(page)).readyState === OPEN && echo.connections === 1)

    // The server killed and restarted: a message before, two while down, one after.
    await send(page, ['before the kill'])
    await waitFor('the echo', async () => (await view(page)).history.texts.length === 1)
    // Past the compat client's drain + settle window (250 ms): a raw server has no acknowledgements, so a message
    // sent just before the link drops is sent again after the reconnect (at least once; see the migration guide).
    await new Promise((resolve) => setTimeout(resolve, 500))
    await echo.kill()
    await waitFor('the app to see the connection lost', async () => (await view(page)).readyState !== OPEN)
    await send(page, ['while down 1', 'while down 2'])
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await echo.restart()
    const restartedAt = await now(page)
    let reconnectMs: number | null = null
    try {
      await waitFor('the reconnection', async () => (await view(page)).readyState === OPEN, 15_000)
      const opened = [...(await view(page)).states].reverse().find((entry) => entry.state === OPEN)
      reconnectMs = Math.round((opened?.at ?? NaN) - restartedAt)
      await send(page, ['after the restart'])
      await waitFor('the echo after the restart', async () => (await view(page)).history.texts.length >= 2, 3000)
      // Whatever was queued while down has had its chance to arrive.
      await new Promise((resolve) => setTimeout(resolve, 300))
    } catch {
      // Measured, not asserted here: reconnectMs stays null, the texts say what arrived.
    }
    const texts = (await view(page)).history.texts

    // The burst, as fast as the server can send it.
    const startedAt = performance.now()
    const sent = echo.send('0') === 1
    for (let index = 1; index < BURST && sent; index++) echo.send(String(index))
    let last = -1
    let progressAt = performance.now()
    let sampledAt = performance.now()
    const progress: [number, number][] = []
    for (;;) {
      const { history } = await view(page)
      if (history.count === BURST) break
      if (performance.now() - sampledAt >= 1000) {
        sampledAt = performance.now()
        progress.push([Math.round(sampledAt - startedAt), history.count])
      }
      if (history.count !== last) {
        last = history.count
        progressAt = performance.now()
      } else if (performance.now() - progressAt > (history.next === BURST ? SETTLED_MS : STALL_MS)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const { history } = await view(page)
    const complete = history.count === BURST
    const burstMs = Math.round((complete ? performance.now() : progressAt) - startedAt)
    const pageErrors = await page.evaluate(() => (globalThis as unknown as WithHandle).app.errors)
    const figures: Figures = {
      variant,
      reconnectMs,
      texts,
      burst: BURST,
      received: history.count,
      lastSeen: history.next - 1,
      outOfOrder: history.outOfOrder,
      firstOutOfOrder: history.firstOutOfOrder,
      burstMs,
      complete,
      pageErrors: [...new Set(pageErrors)],
      progress,
    }
    console.info(`ruw-move ${variant}: ${JSON.stringify(figures)}`)
    return figures
  }

  it('the "after" page differs from the "before" page by its import line only', () => {
    const before = source('before').split('\n')
    const after = source('after').split('\n')
    expect(after.length).toBe(before.length)
    const changed = after.flatMap((line, index) => (line === before[index] ? [] : [[before[index], line]]))
    expect(changed).toEqual([
      [
        "import useWebSocket, { ReadyState } from 'react-use-websocket'",
        "import useWebSocket, { ReadyState } from 'react-lifeline/compat/react-use-websocket'",
      ],
    ])
  })

  it(`before (react-use-websocket 4.13.0): kill/restart and a ${String(BURST)}-message burst, measured`, async () => {
    const figures = await run('before')
    // Only what holds run after run is asserted: react-use-websocket reconnects too (shouldReconnect, a fixed 5 s) and
    // its history works. How much of the burst it loses varies from run to run: printed, not asserted.
    expect(figures.reconnectMs).not.toBeNull()
    expect(figures.received).toBeGreaterThan(0)
  }, 60_000)

  it(`after (compat entry): reconnects by itself, keeps what was sent while down, sees all ${String(BURST)} in order`, async () => {
    const figures = await run('after')
    expect(figures.reconnectMs).not.toBeNull()
    // reconnectInterval's default, 5 s, is the longest wait: drawn from [2.5 s, 5 s].
    expect(figures.reconnectMs).toBeLessThan(5500)
    expect(figures.texts).toEqual(['before the kill', 'while down 1', 'while down 2', 'after the restart'])
    expect(figures).toMatchObject({
      received: BURST,
      lastSeen: BURST - 1,
      outOfOrder: 0,
      firstOutOfOrder: null,
      complete: true,
    })
    expect(figures.pageErrors).toEqual([])
  }, 90_000)
})
