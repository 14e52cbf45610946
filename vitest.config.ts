import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin'
import react from '@vitejs/plugin-react'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import type { BrowserProviderOption } from 'vitest/node'
import { findChromium } from './scripts/find-chromium.mjs'
// Extensionless on purpose: Vite bundles this config and resolves it, and tsconfig has no allowImportingTsExtensions.
import { e2eCommands } from './test/e2e/commands'

const root = fileURLToPath(new URL('.', import.meta.url))

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

/**
 * Port of the Storybook project's browser server (Vite takes the next free one when it is busy): the embedded server
 * of the Live stories allows it and the next 19 as page origins (.storybook/vitest.global-setup.ts).
 */
const STORYBOOK_TEST_PORT = 63415

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * The browser provider. A missing Chromium only fails the browser project (when it starts), so
 * `vitest --project unit` still runs on a machine without a browser.
 */
function browserProvider(): BrowserProviderOption {
  let executablePath: string
  try {
    executablePath = findChromium()
  } catch (error) {
    const provider = playwright()
    return {
      ...provider,
      providerFactory() {
        throw error
      },
    }
  }
  return playwright({ launchOptions: { executablePath, args: chromiumArgs, env: chromiumEnv() } })
}

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [react()],
        test: {
          name: 'unit',
          environment: 'node',
          globals: true,
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: ['**/node_modules/**', 'test/e2e/**', 'test/cluster/**', '**/*.browser.test.*'],
          testTimeout: 15_000,
        },
      },
      {
        // Tests against real redis-server processes (test/support/redis.ts: a single server or a 3-master Cluster on
        // free ports) and several server nodes. One file at a time: they start and kill processes on two cores.
        test: {
          name: 'cluster',
          environment: 'node',
          globals: true,
          include: ['test/cluster/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The published artifact: packs dist/ (building it first when stale), installs the tarball into a fresh
        // CommonJS project outside the repo, and checks it with attw, publint, require()/import and tsc (nodenext).
        test: {
          name: 'package',
          environment: 'node',
          globals: true,
          include: ['test/package/**/*.spec.ts'],
          globalSetup: ['test/package/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // examples/vite and examples/next as a user gets them: each copied outside the repo next to the packed tarball,
        // `npm ci` from its lockfile, built, served (vite preview, next start) and walked through a real outage of the
        // lifeline server in Chromium. One file at a time: two builds at once only slow each other on two cores.
        test: {
          name: 'examples',
          environment: 'node',
          globals: true,
          include: ['test/examples/**/*.spec.ts'],
          globalSetup: ['test/examples/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 30_000,
        },
      },
      {
        // Node-side tests that drive a real Chromium with playwright-core, for what browser mode cannot do from inside
        // its own page (reloading it). Chromium's scratch files: see test/e2e/support/node-chromium.ts.
        test: {
          name: 'e2e-node',
          environment: 'node',
          globals: true,
          include: ['test/e2e/**/*.node.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        plugins: [react()],
        // Pre-bundle every runtime dependency up front: a dependency discovered mid-run is re-optimised and the page
        // ends up with two copies of React ("Cannot read properties of null (reading 'useCallback')").
        optimizeDeps: {
          include: ['react', 'react-dom', 'react-dom/client', 'react/jsx-dev-runtime', 'zustand', 'zustand/vanilla'],
        },
        test: {
          name: 'browser',
          globals: true,
          include: ['test/e2e/**/*.browser.test.{ts,tsx}'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 15_000,
          browser: {
            enabled: true,
            headless: true,
            provider: browserProvider(),
            instances: [{ browser: 'chromium' }],
            commands: e2eCommands,
            screenshotFailures: false,
          },
        },
      },
      {
        // Every story is a test (@storybook/addon-vitest) rendered in real Chromium with the project's annotations
        // (StrictMode decorator, a11y.test = 'error': any axe violation fails the story). The Live stories talk to a
        // real lifeline server behind the fault proxy, started by the global setup.
        plugins: [react(), storybookTest({ configDir: fileURLToPath(new URL('./.storybook', import.meta.url)) })],
        optimizeDeps: {
          include: ['react', 'react-dom', 'react-dom/client', 'react/jsx-dev-runtime', 'zustand', 'zustand/vanilla'],
        },
        test: {
          name: 'storybook',
          // One file at a time: the Outage story kills the server the other Live stories share.
          fileParallelism: false,
          globalSetup: ['.storybook/vitest.global-setup.ts'],
          setupFiles: ['.storybook/vitest.setup.ts'],
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            provider: browserProvider(),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
            api: { host: '127.0.0.1', port: STORYBOOK_TEST_PORT },
          },
        },
      },
    ],
  },
})
