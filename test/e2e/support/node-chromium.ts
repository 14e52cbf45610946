import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { findChromium } from '../../../scripts/find-chromium.mjs'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** The same flags as the browser project (vitest.config.ts): no sandbox in containers, no background traffic. */
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Chromium's profile, crash reports, caches and NSS db go under .tmp/ instead of the home folder. */
function chromiumEnv(): Record<string, string> {
  const dirs = {
    TMPDIR: `${root}.tmp/tmp`,
    XDG_CONFIG_HOME: `${root}.tmp/config`,
    XDG_CACHE_HOME: `${root}.tmp/cache`,
    HOME: `${root}.tmp/home`,
  }
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true })
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  )
  return { ...inherited, ...dirs }
}

/** Launches headless Chromium (never downloaded: `findChromium()`), driven from Node by playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), headless: true, args: chromiumArgs, env: chromiumEnv() })
}

/** Bundles a page script (TypeScript importing from src/) into one ES module for the browser. */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`)
  return output.text
}

/** A page served over HTTP on 127.0.0.1: its origin is what a lifeline server's `allowedOrigins` must list. */
export interface PageServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  close(): Promise<void>
}

/**
 * Serves `/` (an HTML page loading `/page.js` as a module), `/page.js` (`script`) and extra plain-text `routes`.
 * Nothing is cached, so a reload fetches everything again.
 */
export async function servePage(script: string, routes: Record<string, string> = {}): Promise<PageServer> {
  const html = '<!doctype html><meta charset="utf-8"><title>e2e</title><script type="module" src="/page.js"></script>'
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/'
    const route = path === '/' ? ['text/html', html] : path === '/page.js' ? ['text/javascript', script] : null
    const extra = routes[path]
    const [type, body] = route ?? (extra === undefined ? ['text/plain', 'not found'] : ['text/plain', extra])
    response.writeHead(route || extra !== undefined ? 200 : 404, {
      'Content-Type': `${type}; charset=utf-8`,
      'Cache-Control': 'no-store',
    })
    response.end(body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${String(port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Polls `check` every 25 ms until it returns true; throws naming `what` after `ms`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out after ${String(ms)} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** The page and the browser of one e2e file (ready inside its tests). */
export interface ChromiumPage {
  readonly browser: Browser
  readonly pageServer: PageServer
}

/**
 * Registers the `beforeAll`/`afterAll` of an e2e file: bundles and serves the page at `entry` (with `routes`), launches
 * Chromium, and closes both after the file.
 */
export function useChromiumPage(entry: URL, routes: Record<string, string> = {}): ChromiumPage {
  const page = {} as { browser?: Browser; pageServer?: PageServer }
  beforeAll(async () => {
    page.pageServer = await servePage(await bundlePage(fileURLToPath(entry)), routes)
    page.browser = await launchChromium()
  }, 20_000)
  afterAll(async () => {
    await page.browser?.close()
    await page.pageServer?.close()
  })
  return page as ChromiumPage
}
