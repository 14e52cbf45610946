import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { TestProject } from 'vitest/node'
import type { PackedFile, PackageCheck } from './package-check'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The packed tarball and the consumer project it is installed in (test/package/package-check.ts). */
    packageCheck: PackageCheck
  }
}

/** Files whose change makes dist/ stale. */
const BUILD_INPUTS = [
  'src',
  'package.json',
  'vite.config.ts',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/finish-types.mjs',
]
/** Written last by `npm run build` (scripts/finish-types.mjs). */
const BUILD_STAMP = join(root, 'dist', 'types', 'index.d.cts')

function newestMtime(path: string): number {
  const stats = statSync(path)
  if (!stats.isDirectory()) return stats.mtimeMs
  // The folder's own time too: it changes when a file is removed or renamed.
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))))
}

/** Builds when dist/ is missing or older than its inputs, so `npm test` without `npm run build` still checks it. */
async function ensureBuild(): Promise<void> {
  const inputsChanged = Math.max(...BUILD_INPUTS.map((input) => newestMtime(join(root, input))))
  if (existsSync(BUILD_STAMP) && statSync(BUILD_STAMP).mtimeMs >= inputsChanged) return
  process.stderr.write('[package] dist/ is missing or older than src/: running `npm run build` first\n')
  try {
    await run(npm, ['run', 'build', '--silent'], { cwd: root, maxBuffer: 64 * 1024 * 1024 })
  } catch (error) {
    // tsc reports on stdout, vite on stderr; the last lines hold the reason.
    const output =
      error instanceof Error && 'stdout' in error && 'stderr' in error
        ? `${String(error.stdout)}${String(error.stderr)}`
        : ''
    const tail = output.trim().split('\n').slice(-30).join('\n')
    throw new Error(`[package] \`npm run build\` failed; the package checks need dist/:\n${tail || String(error)}`)
  }
}

/**
 * The consumer project must live outside this repository: Node and TypeScript resolve packages by walking up the
 * folders, so a project inside it would see our node_modules and pass with dependencies the tarball lacks.
 */
export function scratchBase(): string {
  const candidates = [process.env.LIFELINE_PACKAGE_TMPDIR, tmpdir(), '/tmp'].filter(
    (dir): dir is string => dir !== undefined && dir !== '',
  )
  const outside = candidates.find((dir) => relative(root, resolve(dir)).startsWith('..') && existsSync(dir))
  if (outside === undefined) {
    throw new Error(`[package] no temporary folder outside ${root}; set LIFELINE_PACKAGE_TMPDIR to one`)
  }
  return outside
}

function installedVersion(name: string): string {
  const require = createRequire(join(root, 'package.json'))
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version
}

interface NpmPackJson {
  filename: string
  size: number
  unpackedSize: number
  files: PackedFile[]
}

export async function pack(destination: string): Promise<{ tarball: string; pack: NpmPackJson }> {
  const override = process.env.LIFELINE_PACKAGE_TARBALL
  if (override) {
    // Checks a tarball made elsewhere (e.g. of an older commit) instead of this tree's.
    const listing = await run('tar', ['-tzf', override], { maxBuffer: 16 * 1024 * 1024 })
    const files = listing.stdout
      .split('\n')
      .filter((line) => line.startsWith('package/') && !line.endsWith('/'))
      .map((line) => ({ path: line.slice('package/'.length), size: 0 }))
    return {
      tarball: resolve(override),
      pack: { filename: override, size: statSync(override).size, unpackedSize: 0, files },
    }
  }
  await ensureBuild()
  const { stdout } = await run(npm, ['pack', '--json', '--silent', '--pack-destination', destination], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  })
  const [result] = JSON.parse(stdout) as NpmPackJson[]
  if (!result) throw new Error(`[package] npm pack printed no result: ${stdout}`)
  return { tarball: join(destination, result.filename), pack: result }
}

/**
 * Installs the tarball with what a server-and-React app would add. `--offline` first (everything is in npm's cache
 * after `npm ci`); when the cache lacks the registry metadata, `--prefer-offline` fetches only that.
 */
async function install(project: string, tarball: string): Promise<void> {
  const dependencies: Record<string, string> = { 'react-lifeline': `file:${tarball}` }
  for (const name of ['ws', 'ioredis', 'react', '@types/ws', '@types/node', '@types/react'])
    dependencies[name] = installedVersion(name)
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'lifeline-consumer', private: true, type: 'commonjs', dependencies }, null, 2)}\n`,
  )
  const args = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--loglevel=error']
  try {
    await run(npm, [...args, '--offline'], { cwd: project })
  } catch (offline) {
    try {
      await run(npm, [...args, '--prefer-offline'], { cwd: project })
    } catch (error) {
      const output = (failure: unknown) =>
        failure instanceof Error && 'stderr' in failure ? String(failure.stderr) : ''
      throw new Error(`[package] npm install of the tarball failed:\n${output(offline)}\n${output(error)}`, {
        cause: error,
      })
    }
  }
}

/** Packs this package, installs the tarball into a fresh CommonJS project outside the repo, and hands both over. */
export async function setup(project: TestProject): Promise<() => void> {
  const scratch = mkdtempSync(join(scratchBase(), 'lifeline-package-'))
  try {
    const packDir = join(scratch, 'pack')
    const consumer = join(scratch, 'consumer')
    mkdirSync(packDir)
    mkdirSync(consumer)
    const { tarball, pack: packed } = await pack(packDir)
    await install(consumer, tarball)
    project.provide('packageCheck', {
      root,
      tarball,
      consumer,
      files: packed.files.map((file) => ({ path: file.path, size: file.size })),
    })
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true })
    throw error
  }
  return () => rmSync(scratch, { recursive: true, force: true })
}
