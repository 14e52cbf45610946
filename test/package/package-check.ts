import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** One file of the packed tarball, as `npm pack --json` lists it. */
export interface PackedFile {
  /** Path inside the package, e.g. `dist/index.js`. */
  path: string
  /** Size in bytes (0 when the tarball was given by LIFELINE_PACKAGE_TARBALL). */
  size: number
}

/** What test/package/global-setup.ts hands to the package checks. */
export interface PackageCheck {
  /** This repository. */
  root: string
  /** Absolute path of the packed `.tgz`. */
  tarball: string
  /** A fresh `"type": "commonjs"` project outside the repo with the tarball, ws, react and their types installed. */
  consumer: string
  /** Every file in the tarball. */
  files: PackedFile[]
}

/** The package's entry points (package.json `exports`, without styles.css and package.json). */
export const ENTRY_POINTS = [
  '.',
  './core',
  './devtools',
  './diagnose',
  './server',
  './server/redis',
  './testing',
  './testing/fakes',
  './compat/react-use-websocket',
] as const
export type EntryPoint = (typeof ENTRY_POINTS)[number]

/** `react-lifeline`, `react-lifeline/core`, … */
export function specifierOf(entry: EntryPoint): string {
  return entry === '.' ? 'react-lifeline' : `react-lifeline/${entry.slice(2)}`
}

const execFileAsync = promisify(execFile)

/** Result of a child process that ran to its end. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to its end (never throws for a non-zero exit); `timeout` kills it. `env` defaults to this one's. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeout: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { ...options, maxBuffer: 32 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    if (error instanceof Error && 'stdout' in error && 'stderr' in error) {
      const code = 'code' in error && typeof error.code === 'number' ? error.code : 1
      return { code, stdout: String(error.stdout), stderr: String(error.stderr) }
    }
    throw error
  }
}

/** Writes `source` to `<consumer>/<name>` and runs it with this Node, from the consumer project. */
export async function runInConsumer(consumer: string, name: string, source: string): Promise<RunResult> {
  writeFileSync(join(consumer, name), source)
  return runCommand(process.execPath, [name], { cwd: consumer, timeout: 20_000 })
}
