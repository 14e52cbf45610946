import type { Browser } from 'playwright-core'
import { inject } from 'vitest'
import {
  exampleEnv,
  freePort,
  installExample,
  launchChromium,
  runIn,
  startApp,
  startBackend,
  walkThroughOutage,
  type Backend,
  type RunningApp,
} from './support'

// examples/vite as a user gets it: `npm ci` from its lockfile with the packed tarball, `npm run build` (tsc, then
// vite build with VITE_LIFELINE_URL), `vite preview`, and a real outage in Chromium.

const context = inject('examples')

describe('examples/vite (the packed tarball in a Vite React app)', () => {
  let dir = ''
  let origin = ''
  let port = 0
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

  it('installs from its lockfile and builds (tsc, vite build)', async () => {
    dir = await installExample('vite', context)
    await runIn(dir, ['run', 'build', '--silent'], 90_000, exampleEnv({ VITE_LIFELINE_URL: backend!.url }))
  }, 240_000)

  it('connects, shows a channel message, shows the banner during an outage and recovers', async () => {
    expect(dir).not.toBe('')
    app = await startApp(dir, {
      bin: 'node_modules/vite/bin/vite.js',
      args: ['preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      origin,
    })
    await walkThroughOutage(browser!, origin, backend!)
  }, 90_000)
})
