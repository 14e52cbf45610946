import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inject } from 'vitest'
import { useExampleApp } from './support'

// examples/next (App Router) as a user gets it: `npm ci` from its lockfile with the packed tarball, `next build`
// (TypeScript, then the prerender of a page whose layout, a React Server Component, renders
// `<LifelineProvider url=… protocol="lifeline">`), `next start`, and a real outage in Chromium.

describe('examples/next (the packed tarball in a Next.js App Router app)', () => {
  const example = useExampleApp('next', inject('examples'))

  it('installs from its lockfile and builds; the root entry it installed is a client module with production JSX', async () => {
    const dir = await example.install()
    const entry = readFileSync(join(dir, 'node_modules/react-lifeline/dist/index.js'), 'utf8')
    // What lets a server component import the provider, and what production React can render.
    expect(entry.startsWith('"use client";\n') || entry.startsWith("'use client';\n")).toBe(true)
    expect(entry).toContain('from "react/jsx-runtime"')
    expect(entry).not.toContain('jsx-dev-runtime')
    await example.build({ LIFELINE_URL: example.backend.url }, 120_000)
  }, 270_000)

  it('prerenders the server-component layout: the banner, useConnection and the channel are in the HTML, idle', async () => {
    await example.start({
      bin: 'node_modules/next/dist/bin/next',
      args: ['start', '--hostname', '127.0.0.1', '--port', String(example.port)],
    })
    const html = await (await fetch(example.origin, { signal: AbortSignal.timeout(5000) })).text()
    expect(html).toContain('data-lifeline="banner" data-state="hidden"')
    expect(html).toContain('data-channel-status="pending"')
    expect(html).toContain('<ul data-testid="messages"></ul>')
    // useConnection under the provider renders the idle snapshot on the server (it used to throw MISSING_PROVIDER).
    expect(html).toContain('data-status="idle"')
  }, 60_000)

  it('connects, shows a channel message, shows the banner during an outage and recovers', async () => {
    await example.walkThroughOutage()
  }, 90_000)
})
