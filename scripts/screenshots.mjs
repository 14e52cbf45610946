#!/usr/bin/env node
// `npm run screenshots`: the README's pictures of the components, taken from the stories.
//   1. `storybook build` into storybook-static/ (skip with --no-build to reuse the last build),
//   2. serves it on 127.0.0.1 (a free port),
//   3. opens each story's iframe in headless Chromium (playwright-core, the system Chromium; nothing is downloaded)
//      at 800 px wide and saves the component in each main state to docs/images/<name>.png, then the devtools
//      panel on its Timeline tab, light and dark (docs/images/devtools-timeline-*.png).
// The AllStates stories render from scripted snapshots, so no server is needed and the pictures are reproducible
// (bar the seconds of a countdown).
import { spawnSync } from 'node:child_process'
import { createReadStream, mkdirSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { findChromium } from './find-chromium.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const staticDir = join(root, 'storybook-static')
const outDir = join(root, 'docs', 'images')
const tmp = join(root, '.tmp')
const WIDTH = 800
const PADDING = 8

const say = (line) => process.stdout.write(`[screenshots] ${line}\n`)

/**
 * What to capture: a story, the cell of its state grid, the element inside it (a CSS selector; the first match), the
 * `data-state` it must reach first, and optionally how long to wait after that.
 */
const shots = [
  {
    name: 'banner-reconnecting',
    story: 'components-connectionbanner--all-states',
    cell: 'Reconnecting, with the countdown',
    selector: '[data-lifeline="banner"]',
    state: 'reconnecting',
  },
  {
    name: 'banner-offline',
    story: 'components-connectionbanner--all-states',
    cell: 'Offline',
    selector: '[data-lifeline="banner"]',
    state: 'offline',
  },
  {
    name: 'banner-degraded',
    story: 'components-connectionbanner--all-states',
    cell: 'Degraded: connected over long-poll',
    selector: '[data-lifeline="banner"]',
    state: 'degraded',
  },
  {
    name: 'banner-failed',
    story: 'components-connectionbanner--all-states',
    cell: 'Failed: attempts spent',
    selector: '[data-lifeline="banner"]',
    state: 'failed',
  },
  {
    name: 'reconnect-countdown',
    story: 'components-reconnectcountdown--all-states',
    cell: 'Waiting: fourth retry, longer backoff',
    selector: '[data-lifeline="countdown"]',
    state: 'waiting',
    // Some of the wait gone, so the progress bar shows.
    settleMs: 3000,
  },
  {
    name: 'offline-queue',
    story: 'components-offlinequeue--all-states',
    cell: 'Failed and waiting',
    selector: '[data-lifeline="queue"]',
    state: 'failed',
  },
]

/**
 * The devtools panel, open on its Timeline tab, stepped to the end of the story's recorded incident (the server dies,
 * two retries fail, it resumes), in each theme. The story renders the light theme; the dark picture sets the panel's
 * own `data-theme` (inside its shadow root) to the same stylesheet's dark palette.
 */
const panelShots = [
  { name: 'devtools-timeline-light', theme: 'light' },
  { name: 'devtools-timeline-dark', theme: 'dark' },
]
const panelStory = 'devtools-lifelinedevtools--replayed-incident'

async function shootPanel(page, origin) {
  await page.goto(`${origin}/iframe.html?id=${panelStory}&viewMode=story`)
  const step = page.getByRole('button', { name: 'Step', exact: true })
  await step.waitFor({ timeout: 15_000 })
  for (let clicks = 0; clicks < 50 && (await step.isEnabled()); clicks += 1) await step.click()
  if (await step.isEnabled()) throw new Error('devtools: the incident did not reach its last step')
  const panel = page.getByRole('region', { name: 'Lifeline devtools' })
  await panel.getByRole('tab', { name: 'Timeline', exact: true }).click()
  await panel.locator('tr[data-transition]').first().waitFor({ timeout: 5000 })
  // Taller than its default 320 px, so the whole incident's timeline fits: resized from the keyboard, then unfocused.
  const handle = panel.getByRole('separator', { name: 'Resize the devtools panel' })
  for (let press = 0; press < 5; press += 1) await handle.press('ArrowUp')
  await handle.evaluate((element) => element.blur())
  for (const shot of panelShots) {
    await panel.locator('xpath=..').evaluate((root, theme) => root.setAttribute('data-theme', theme), shot.theme)
    const path = join(outDir, `${shot.name}.png`)
    await panel.screenshot({ path })
    const box = await panel.boundingBox()
    say(
      `${shot.name}.png (${Math.round(box?.width ?? 0)}×${Math.round(box?.height ?? 0)}, ${statSync(path).size} bytes)`,
    )
  }
}

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

/** A static file server for storybook-static/ on 127.0.0.1; resolves with its origin and a close function. */
function serve(dir) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname)
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path))
    let size = -1
    try {
      if (file.startsWith(dir + sep)) size = statSync(file).isFile() ? statSync(file).size : -1
    } catch (error) {
      if (error.code !== 'ENOENT') throw error
    }
    if (size < 0) {
      response.writeHead(404, { 'Content-Type': 'text/plain' })
      return response.end('not found')
    }
    response.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Content-Length': size })
    createReadStream(file).pipe(response)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () =>
      resolve({
        origin: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    )
  })
}

async function main() {
  if (!process.argv.includes('--no-build')) {
    say('storybook build …')
    const started = performance.now()
    const built = spawnSync('npm', ['run', 'build-storybook', '--silent'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) throw new Error(`storybook build failed (${built.status ?? built.signal})`)
    say(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  mkdirSync(outDir, { recursive: true })
  const dirs = { TMPDIR: join(tmp, 'tmp'), XDG_CONFIG_HOME: join(tmp, 'config'), XDG_CACHE_HOME: join(tmp, 'cache') }
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true })

  const site = await serve(staticDir)
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    env: { ...process.env, ...dirs, HOME: join(tmp, 'home') },
  })
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1 })
    // The light theme, whatever the machine prefers, and no transitions caught half way.
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' })
    let loaded = ''
    for (const shot of shots) {
      if (loaded !== shot.story) {
        await page.goto(`${site.origin}/iframe.html?id=${shot.story}&viewMode=story`)
        // The story's own captions stay in the layout but not in the pictures.
        await page.addStyleTag({ content: '.states-cell h2 { visibility: hidden }' })
        loaded = shot.story
      }
      const cell = page.locator(`[data-story-state="${shot.cell}"]`)
      const element = cell.locator(shot.selector).first()
      await element.locator(`xpath=self::*[@data-state="${shot.state}"]`).waitFor({ timeout: 15_000 })
      if (shot.settleMs) await page.waitForTimeout(shot.settleMs)
      const box = await element.boundingBox()
      if (!box) throw new Error(`${shot.name}: ${shot.selector} is not visible`)
      const x = Math.max(0, box.x - PADDING)
      const y = Math.max(0, box.y - PADDING)
      const path = join(outDir, `${shot.name}.png`)
      await page.screenshot({
        path,
        fullPage: true,
        clip: { x, y, width: Math.min(WIDTH - x, box.width + 2 * PADDING), height: box.height + 2 * PADDING },
      })
      say(`${shot.name}.png (${Math.round(box.width)}×${Math.round(box.height)}, ${statSync(path).size} bytes)`)
    }
    await shootPanel(page, site.origin)
  } finally {
    await browser.close()
    await site.close()
  }
}

main().catch((error) => {
  process.stderr.write(`[screenshots] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
