// Every docs page of the built Storybook (the Introduction and the components' autodocs pages) opened in real Chromium:
// it renders with no console error, no uncaught exception and no failed request, and each component's prop table lists
// its props with the description from their JSDoc (react-docgen, through .storybook/docgen-props.ts).
import { spawnSync } from 'node:child_process'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './support/node-chromium'

const root = fileURLToPath(new URL('../../', import.meta.url))
/** LIFELINE_STORYBOOK_STATIC reuses a build (e.g. CI's `npm run build-storybook` output) instead of building here. */
const prebuilt = process.env.LIFELINE_STORYBOOK_STATIC
const staticDir = prebuilt ?? join(root, '.tmp', 'storybook-docs-test')
const BUILD_TIMEOUT_MS = 240_000
const PAGE_TIMEOUT_MS = 30_000

/** Each component's documented props, and words its JSDoc description starts with. */
const propTables: Record<string, Record<string, string>> = {
  'components-connectionbanner--docs': {
    client: 'The client to report on',
    showAfterMs: 'How long trouble must last before the banner shows',
    labels: 'Texts, merged over',
  },
  'components-reconnectcountdown--docs': {
    client: 'The client to report on',
    maxAttempts: 'The maximum in "attempt n of max"',
    labels: 'Texts, merged over',
  },
  'components-offlinequeue--docs': {
    client: 'The client whose outbox to show',
    labels: 'Texts, merged over',
    defaultExpanded: 'Whether the list starts shown',
    formatItem: "An item's preview",
  },
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

function serveStatic(dir: string): Promise<{ origin: string; server: Server }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?', 1)[0] ?? '/')
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found')
      return
    }
    response.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(response)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({ origin: `http://127.0.0.1:${String(port)}`, server })
    })
  })
}

/** Opens a docs page and returns what went wrong while it rendered: console errors, exceptions, failed requests. */
async function openDocs(page: Page, origin: string, id: string): Promise<string[]> {
  const problems: string[] = []
  page.on('console', (message) => {
    // Chromium asks for /favicon.ico by itself (the page names no icon): not the page's doing.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) {
      problems.push(`console: ${message.text()} (${message.location().url})`)
    }
  })
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`))
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico'))
      problems.push(`HTTP ${String(response.status())}: ${response.url()}`)
  })
  await page.goto(`${origin}/iframe.html?viewMode=docs&id=${id}`, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS })
  await page.locator('.sbdocs-content').first().waitFor({ timeout: PAGE_TIMEOUT_MS })
  // Stories render after the page's frame: let them mount (and their effects run) before judging.
  await page.waitForLoadState('networkidle', { timeout: PAGE_TIMEOUT_MS })
  await page.waitForTimeout(500)
  return problems
}

describe('Storybook docs pages (built, in Chromium)', () => {
  let browser: Browser
  let origin: string
  let server: Server
  let docsIds: string[] = []

  beforeAll(async () => {
    if (!prebuilt) {
      const built = spawnSync(
        process.execPath,
        [join(root, 'node_modules/storybook/dist/bin/dispatcher.js'), 'build', '--quiet', '-o', staticDir],
        {
          cwd: root,
          encoding: 'utf8',
          timeout: BUILD_TIMEOUT_MS,
          env: { ...process.env, STORYBOOK_DISABLE_TELEMETRY: '1' },
        },
      )
      if (built.status !== 0) throw new Error(`storybook build failed (${String(built.status)}):\n${built.stderr}`)
    }
    ;({ origin, server } = await serveStatic(staticDir))
    const index = (await (await fetch(`${origin}/index.json`)).json()) as {
      entries: Record<string, { id: string; type: string }>
    }
    docsIds = Object.values(index.entries)
      .filter((entry) => entry.type === 'docs')
      .map((entry) => entry.id)
    browser = await launchChromium()
  }, BUILD_TIMEOUT_MS + 30_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  it('has the Introduction and an autodocs page for every component', () => {
    expect(docsIds).toEqual(expect.arrayContaining(['introduction--docs', ...Object.keys(propTables)]))
  })

  it('renders every docs page without a console error, exception or failed request', async () => {
    for (const id of docsIds) {
      const page = await browser.newPage()
      try {
        const problems = await openDocs(page, origin, id)
        expect(problems, `docs page ${id}`).toEqual([])
      } finally {
        await page.close()
      }
    }
  }, 180_000)

  it.each(Object.entries(propTables))(
    '%s lists the props with their JSDoc',
    async (id, props) => {
      const page = await browser.newPage()
      try {
        await openDocs(page, origin, id)
        const table = page.locator('table.docblock-argstable').first()
        await table.waitFor({ timeout: PAGE_TIMEOUT_MS })
        for (const [name, description] of Object.entries(props)) {
          const row = table.locator('tbody tr', {
            has: page.locator('td:first-child', { hasText: new RegExp(`^${name}`) }),
          })
          await expect(row.count(), `row of ${name}`).resolves.toBe(1)
          await expect(row.locator('td').nth(1).innerText(), `description of ${name}`).resolves.toContain(description)
        }
      } finally {
        await page.close()
      }
    },
    60_000,
  )

  it('the Introduction has the quick start and a place for the state diagram', async () => {
    const page = await browser.newPage()
    try {
      await openDocs(page, origin, 'introduction--docs')
      await expect(page.locator('#quick-start').count()).resolves.toBe(1)
      const diagram = page.locator('[data-testid="state-diagram"], [data-testid="state-diagram-missing"]')
      await expect(diagram.count()).resolves.toBe(1)
      if (existsSync(join(root, 'docs', 'state-diagram.svg'))) {
        await expect(
          page.locator('[data-testid="state-diagram"]').evaluate((image: HTMLImageElement) => image.naturalWidth),
        ).resolves.toBeGreaterThan(0)
      }
    } finally {
      await page.close()
    }
  })
})
