import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { inject } from 'vitest'
import { ENTRY_POINTS, runCommand } from './package-check'

// @arethetypeswrong/cli on the packed tarball: every entry point must resolve, to real types and to JavaScript of
// the matching format, under each of TypeScript's module resolutions, with no problem reported.

const { root, tarball } = inject('packageCheck')

const RESOLUTIONS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'] as const

interface AttwResolution {
  resolution?: { fileName: string }
  implementationResolution?: { fileName: string }
  visibleProblems?: number[]
}
interface AttwProblem {
  kind: string
  entrypoint?: string
  resolutionKind?: string
  [key: string]: unknown
}
interface AttwReport {
  analysis: {
    entrypoints: Record<string, { resolutions: Partial<Record<string, AttwResolution>> }>
    problems: AttwProblem[]
  }
}

function attwBin(): string {
  const require = createRequire(join(root, 'package.json'))
  const manifest = require.resolve('@arethetypeswrong/cli/package.json')
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: string | Record<string, string> }
  return join(dirname(manifest), typeof bin === 'string' ? bin : (bin.attw ?? ''))
}

let report: AttwReport

beforeAll(async () => {
  // --no-definitely-typed: our types ship in the package; it would otherwise look @types/react-lifeline up online.
  const args = [attwBin(), tarball, '--format', 'json', '--no-definitely-typed', '--exclude-entrypoints', 'styles.css']
  const result = await runCommand(process.execPath, args, { cwd: root, timeout: 50_000 })
  // attw exits 1 when it finds problems and still prints its JSON; anything else unparsable is a crash.
  try {
    report = JSON.parse(result.stdout) as AttwReport
  } catch (error) {
    throw new Error(`attw printed no JSON (exit ${String(result.code)}):\n${result.stderr}\n${result.stdout}`, {
      cause: error,
    })
  }
}, 60_000)

describe.each(ENTRY_POINTS)('attw: %s', (entry) => {
  it.each(RESOLUTIONS)('resolves under %s with no problem', (kind) => {
    const resolution = report.analysis.entrypoints[entry]?.resolutions[kind]
    expect(resolution, `attw did not analyse ${entry}`).toBeDefined()
    const problems = (resolution?.visibleProblems ?? []).map((index) => report.analysis.problems[index])
    expect(problems).toEqual([])
    const types = resolution?.resolution?.fileName ?? ''
    const implementation = resolution?.implementationResolution?.fileName ?? ''
    // require gets the CommonJS build and its .d.cts types, import the ES modules and their .d.ts types.
    if (kind === 'node16-cjs' || kind === 'node10') {
      expect(types).toMatch(/\.d\.cts$/)
      if (kind === 'node16-cjs') expect(implementation).toMatch(/\.cjs$/)
    } else {
      expect(types).toMatch(/\.d\.ts$/)
      expect(implementation).toMatch(/\.js$/)
    }
  })
})

it('attw finds no problem anywhere and no entry point outside the checked list', () => {
  expect(report.analysis.problems).toEqual([])
  expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...ENTRY_POINTS, './package.json'].sort())
})
