import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { inject } from 'vitest'
import { ENTRY_POINTS, runInConsumer, specifierOf } from './package-check'

// Error classes keep their names in stack traces and error overlays: in the published ESM and CommonJS builds, and
// after an app's bundler minifies them (class names are mangled then, so a name taken from the class is lost).

const { consumer } = inject('packageCheck')

/** Constructor arguments for the exported error classes whose constructors need specific ones. */
const ARGUMENTS: Record<string, unknown[]> = {
  InvalidUrlError: ['ws://example.com'],
  InvalidOptionsError: [[{ field: 'url', problem: 'is missing' }]],
  MessageTooLargeError: [2, 1],
  LongPollError: [502, 'bad gateway'],
  HandshakeError: [{ kind: 'unknown', status: null, reason: null, hint: '', url: null }],
}
const DEFAULT_ARGUMENTS = ['QUEUE_FULL', 'message']

/**
 * Program run in the consumer: `load(specifier)` gives an entry's exports; prints, per entry, each exported Error
 * subclass with the `name` of an instance and the first line of its stack.
 */
function namesProgram(load: string): string {
  return `
const ARGUMENTS = ${JSON.stringify(ARGUMENTS)}
const DEFAULT_ARGUMENTS = ${JSON.stringify(DEFAULT_ARGUMENTS)}
${load}
;(async () => {
  const report = {}
  for (const specifier of ${JSON.stringify(ENTRY_POINTS.map(specifierOf))}) {
    const exports = await load(specifier)
    report[specifier] = Object.entries(exports)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
      .map(([exported, ErrorClass]) => {
        const error = new ErrorClass(...(ARGUMENTS[exported] ?? DEFAULT_ARGUMENTS))
        return { exported, name: error.name, stack: String(error.stack).split('\\n')[0] }
      })
  }
  process.stdout.write(JSON.stringify(report))
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1 })
`
}

type NameReport = Record<string, { exported: string; name: string; stack: string }[]>

async function report(file: string, load: string): Promise<NameReport> {
  const result = await runInConsumer(consumer, file, namesProgram(load))
  expect(result.stderr).toBe('')
  return JSON.parse(result.stdout) as NameReport
}

const reports: Record<string, NameReport> = {}
const ENTRIES_WITHOUT_ERRORS = new Set(['react-lifeline/server/redis', 'react-lifeline/devtools'])

beforeAll(async () => {
  // What an app ships: the entries bundled and minified by esbuild (as Vite, Next.js or webpack + terser would).
  const bundle = await build({
    stdin: {
      contents: ENTRY_POINTS.map((entry, index) => `export * as e${String(index)} from '${specifierOf(entry)}'`).join(
        '\n',
      ),
      resolveDir: consumer,
      loader: 'js',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    external: ['ws', 'ioredis', 'react', 'react-dom', 'zustand'],
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'silent',
  })
  writeFileSync(join(consumer, 'minified.mjs'), bundle.outputFiles[0]?.text ?? '')
  const minifiedIndex = Object.fromEntries(
    ENTRY_POINTS.map((entry, index) => [specifierOf(entry), `e${String(index)}`]),
  )

  const [esm, cjs, minified] = await Promise.all([
    report('names-esm.mjs', 'const load = (specifier) => import(specifier)'),
    report('names-cjs.cjs', 'const load = async (specifier) => require(specifier)'),
    report(
      'names-minified.mjs',
      `const bundle = await import('./minified.mjs')\nconst at = ${JSON.stringify(minifiedIndex)}\nconst load = async (specifier) => bundle[at[specifier]]`,
    ),
  ])
  Object.assign(reports, { esm, cjs, minified })
})

describe.each(['esm', 'cjs', 'minified'])('%s build', (flavour) => {
  it.each(ENTRY_POINTS.map(specifierOf))('%s: every exported error class is named after its export', (specifier) => {
    const errors = reports[flavour]?.[specifier] ?? []
    const wrong = errors.filter(({ exported, name, stack }) => name !== exported || !stack.startsWith(`${exported}:`))
    expect(wrong).toEqual([])
    // ./diagnose exports HandshakeError only; every other entry at least one error class, but the Redis broker
    // (it throws the server's errors) and the devtools (no errors of their own).
    if (ENTRIES_WITHOUT_ERRORS.has(specifier)) expect(errors).toEqual([])
    else expect(errors.length).toBeGreaterThan(0)
  })
})
