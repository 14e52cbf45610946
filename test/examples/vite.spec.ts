import { inject } from 'vitest'
import { useExampleApp } from './support'

// examples/vite as a user gets it: `npm ci` from its lockfile with the packed tarball, `npm run build` (tsc, then
// vite build with VITE_LIFELINE_URL), `vite preview`, and a real outage in Chromium.

describe('examples/vite (the packed tarball in a Vite React app)', () => {
  const example = useExampleApp('vite', inject('examples'))

  it('installs from its lockfile and builds (tsc, vite build)', async () => {
    await example.install()
    await example.build({ VITE_LIFELINE_URL: example.backend.url }, 90_000)
  }, 240_000)

  it('connects, shows a channel message, shows the banner during an outage and recovers', async () => {
    await example.start({
      bin: 'node_modules/vite/bin/vite.js',
      args: ['preview', '--host', '127.0.0.1', '--port', String(example.port), '--strictPort'],
    })
    await example.walkThroughOutage()
  }, 90_000)
})
