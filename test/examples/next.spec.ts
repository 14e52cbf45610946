import { readFileSync } from 'node:fs'
import { join } from 'node:path'
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

// examples/next (App Router) as a user gets it: `npm ci` from its lockfile with the packed tarball, `next build`
// (TypeScript, then the prerender of a page whose layout, a React Server Component, renders
// `<LifelineProvider url=… protocol="lifeline">`), `next start`, and a real outage in Chromium.

const context = inject('examples')

describe('examples/next (the packed tarball in a Next.js App Router app)', () => {
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

  it('installs from its lockfile and builds; the root entry it installed is a client module with production JSX', async () => {
    dir = await installExample('next', context)
    const entry = readFileSync(join(dir, 'node_modules/react-lifeline/dist/index.js'), 'utf8')
    // What lets a server component import the provider, and what production React can render.
    expect(entry.startsWith('"use client";\n') || entry.startsWith("'use client';\n")).toBe(true)
    expect(entry).toContain('from "react/jsx-runtime"')
    expect(entry).not.toContain('jsx-dev-runtime')
    await runIn(dir, ['run', 'build', '--silent'], 120_000, exampleEnv({ LIFELINE_URL: backend!.url }))
  }, 270_000)

  it('prerenders the server-component layout: the banner and the channel are in the HTML, empty', async () => {
    expect(dir).not.toBe('')
    app = await startApp(dir, {
      bin: 'node_modules/next/dist/bin/next',
      args: ['start', '--hostname', '127.0.0.1', '--port', String(port)],
      origin,
    })
    const html = await (await fetch(origin, { signal: AbortSignal.timeout(5000) })).text()
    expect(html).toContain('data-lifeline="banner" data-state="hidden"')
    expect(html).toContain('data-channel-status="pending"')
    expect(html).toContain('<ul data-testid="messages"></ul>')
  }, 60_000)

  it('connects, shows a channel message, shows the banner during an outage and recovers', async () => {
    expect(app).toBeDefined()
    await walkThroughOutage(browser!, origin, backend!)
  }, 90_000)
})
