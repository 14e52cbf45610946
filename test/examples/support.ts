import { spawn } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, relative, sep } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, expect } from 'vitest'
import { createFaultProxy, createTestServer, type FaultProxy, type TestServer } from '../../src/testing'
import { launchChromium } from '../e2e/support/node-chromium'
import { runCommand } from '../package/package-check'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** What test/examples/global-setup.ts provides. */
export interface ExamplesContext {
  /** This repository. */
  root: string
  /** A folder outside it holding `react-lifeline.tgz`; each example is copied next to it. */
  scratch: string
}

/**
 * The environment of an example's commands. NODE_ENV is left unset, as in a user's shell: vitest sets it to `test`,
 * and a Vite build run with that makes development JSX. No telemetry, no update notices.
 */
export function exampleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_UPDATE_NOTIFIER: '1', ...extra }
  delete env.NODE_ENV
  return env
}

/** Runs a command in an example folder; fails the test with the tail of its output when it exits non-zero. */
export async function runIn(dir: string, args: readonly string[], timeout: number, env = exampleEnv()): Promise<void> {
  const result = await runCommand(npm, args, { cwd: dir, timeout, env })
  const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n')
  expect(result.code, `npm ${args.join(' ')} in ${dir}:\n${output}`).toBe(0)
}

/**
 * Copies `examples/<name>` (without installs or build output) next to the packed tarball and installs it from its
 * lockfile with `npm ci`, as CI and a user would. The lockfile names the tarball by path only: with an integrity
 * there, npm would install whatever tarball its cache holds under that hash instead of the one just packed.
 */
export async function installExample(name: string, { root, scratch }: ExamplesContext): Promise<string> {
  const source = join(root, 'examples', name)
  const dir = join(scratch, name)
  const skipped = new Set(['node_modules', '.next', 'dist', 'next-env.d.ts', 'tsconfig.tsbuildinfo'])
  cpSync(source, dir, {
    recursive: true,
    filter: (path) =>
      !relative(source, path)
        .split(sep)
        .some((part) => skipped.has(part)),
  })
  const lockPath = join(dir, 'package-lock.json')
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages: Record<string, { integrity?: string }> }
  const entry = lock.packages['node_modules/react-lifeline']
  expect(entry, 'the lockfile lists react-lifeline').toBeDefined()
  delete entry?.integrity
  writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`)
  await runIn(dir, ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], 150_000)
  return dir
}

/** A free TCP port on 127.0.0.1 (the app server must know its origin before the lifeline server allows it). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** An app server started from an example (vite preview, next start). */
export interface RunningApp {
  readonly origin: string
  /** Everything it printed, for failure messages. */
  output(): string
  close(): Promise<void>
}

/** Starts `node <bin> ...args` in `dir` and waits (at most `timeout` ms) until `origin` answers 200. */
export async function startApp(
  dir: string,
  { bin, args, origin, timeout = 30_000 }: { bin: string; args: string[]; origin: string; timeout?: number },
): Promise<RunningApp> {
  // Its own process group, so close() ends whatever it started and nothing else.
  const child = spawn(process.execPath, [join(dir, bin), ...args], {
    cwd: dir,
    env: exampleEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const app: RunningApp = {
    origin,
    output: () => output,
    async close() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(-child.pid, 'SIGTERM')
        const killed = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 5000)
        await exited
        clearTimeout(killed)
      }
    },
  }
  const end = performance.now() + timeout
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${String(child.exitCode)}:\n${output}`)
    const status = await fetch(origin, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200) return app
    if (performance.now() > end) {
      await app.close()
      throw new Error(`${origin} did not answer 200 within ${String(timeout)} ms (last: ${String(status)}):\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** The lifeline reference server behind the fault proxy, allowing `origin`; the page connects to `url`. */
export interface Backend {
  readonly server: TestServer
  readonly proxy: FaultProxy
  /** `ws://127.0.0.1:<proxy port>/lifeline` */
  readonly url: string
  close(): Promise<void>
}

export async function startBackend(origin: string): Promise<Backend> {
  const server = await createTestServer({ allowedOrigins: [origin] })
  const proxy = await createFaultProxy({ target: server.url })
  return {
    server,
    proxy,
    url: `${proxy.url}${new URL(server.url).pathname}`,
    async close() {
      await proxy.close()
      await server.close()
    },
  }
}

/** What {@link useExampleApp} holds for one example's tests, filled in as they run. */
export interface ExampleApp {
  /** The app server's port, free when the file starts. */
  readonly port: number
  /** `http://127.0.0.1:<port>`, the origin the backend allows. */
  readonly origin: string
  readonly backend: Backend
  /** Installs `examples/<name>` from its lockfile; the next steps run in the copy. */
  install(): Promise<string>
  /** `npm run build` in the copy with `env` added (the backend's URL, under the name the example reads). */
  build(env: Record<string, string>, timeout: number): Promise<void>
  /** Starts the app server on {@link ExampleApp.port}; closed after the file. */
  start(options: { bin: string; args: string[] }): Promise<RunningApp>
  /** {@link walkThroughOutage} against the started app. */
  walkThroughOutage(): Promise<void>
}

/**
 * Registers a test file's hooks for one example app: before it, a free port, the backend allowing that origin and
 * Chromium; after it, the app, the browser and the backend closed. Each step checks that the one before it ran, so
 * that a failed install fails the later tests with their own message rather than a crash.
 */
export function useExampleApp(name: string, context: ExamplesContext): ExampleApp {
  let dir = ''
  let port = 0
  let origin = ''
  let backend: Backend | undefined
  let browser: Browser | undefined
  let app: RunningApp | undefined

  beforeAll(async () => {
    port = await freePort()
    origin = `http://127.0.0.1:${String(port)}`
    backend = await startBackend(origin)
    browser = await launchChromium()
  })

  afterAll(async () => {
    await app?.close()
    await browser?.close()
    await backend?.close()
  })

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} did not start`)
    return value
  }
  return {
    get port() {
      return port
    },
    get origin() {
      return origin
    },
    get backend() {
      return started(backend, 'the backend')
    },
    async install() {
      dir = await installExample(name, context)
      return dir
    },
    async build(env, timeout) {
      expect(dir, 'installed').not.toBe('')
      await runIn(dir, ['run', 'build', '--silent'], timeout, exampleEnv(env))
    },
    async start(options) {
      expect(dir, 'installed').not.toBe('')
      app = await startApp(dir, { ...options, origin })
      return app
    },
    async walkThroughOutage() {
      expect(app, 'the app started').toBeDefined()
      await walkThroughOutage(started(browser, 'Chromium'), origin, started(backend, 'the backend'))
    },
  }
}

/**
 * Opens `origin` in a fresh Chromium context and walks a user through a real outage: connects, a message published
 * on `news` is shown, the upstream server dies and the banner appears, a message is published meanwhile, the server
 * comes back and the page recovers (status open, banner hidden, the missed message resumed). Page errors and console
 * errors other than the network's fail it.
 */
export async function walkThroughOutage(browser: Browser, origin: string, backend: Backend): Promise<void> {
  const context: BrowserContext = await browser.newContext()
  const errors: string[] = []
  const network = (text: string) =>
    /^WebSocket connection to .* failed/.test(text) ||
    text.startsWith('Failed to load resource:') ||
    /^Access to fetch at .* has been blocked by CORS/.test(text)
  try {
    const page: Page = await context.newPage()
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error' && !network(message.text())) errors.push(message.text())
    })
    await page.goto(origin, { timeout: 15_000 })
    await page.waitForSelector('[data-status="open"]', { timeout: 10_000 })
    await page.waitForSelector('[data-channel-status="subscribed"]', { timeout: 10_000 })
    await backend.server.publish('news', { text: 'before the outage' })
    await waitForText(page, 'before the outage')
    expect(await bannerState(page)).toBe('hidden')

    await backend.server.kill()
    // The banner waits showAfterMs (1 s) before it shows.
    await page.waitForSelector('[data-lifeline="banner"][data-state="reconnecting"]', { timeout: 8000 })
    expect(await page.textContent('[data-lifeline="banner"]')).toContain('Connection lost. Reconnecting…')
    await backend.server.publish('news', { text: 'during the outage' })

    await backend.server.restart()
    // The next attempt comes after a backoff of up to a few seconds.
    await page.waitForSelector('[data-status="open"]', { timeout: 20_000 })
    await page.waitForSelector('[data-lifeline="banner"][data-state="hidden"]', { timeout: 5000 })
    await waitForText(page, 'during the outage')
    expect(await messages(page)).toEqual(['before the outage', 'during the outage'])
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
}

const messages = (page: Page): Promise<string[]> =>
  page.$$eval('[data-testid="messages"] li', (items) => items.map((item) => item.textContent ?? ''))
const bannerState = (page: Page): Promise<string | null> =>
  page.getAttribute('[data-lifeline="banner"]', 'data-state', { timeout: 2000 })

async function waitForText(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll('[data-testid="messages"] li')].some((item) => item.textContent === wanted),
    text,
    { timeout: 5000 },
  )
}

export { launchChromium }
