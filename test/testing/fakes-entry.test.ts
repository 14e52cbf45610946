import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { expect, it } from 'vitest'

// `react-lifeline/testing/fakes` must load in jsdom and real browsers: bundled for the browser with nothing external,
// it must build (a `ws` or node:* import would fail to resolve) and keep no import or require at all.
it('the fakes entry bundles for the browser with no ws, no node:* module and no import left', async () => {
  const entry = fileURLToPath(new URL('../../src/testing/fakes.ts', import.meta.url))
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  })
  expect(result.errors).toEqual([])
  const code = result.outputFiles[0]!.text
  expect(code).not.toMatch(/\bimport\s*[({'"]|\brequire\s*\(|from\s*['"]/)
  expect(code).toContain('createFakeWebSocket')
  expect(code).toContain('createFakeClock')
})
