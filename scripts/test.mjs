#!/usr/bin/env node
// `npm test`: the unit project (Node + jsdom, including the size budgets and layer rules), the cluster project (real
// redis-server processes and several server nodes), the package project (the
// packed tarball: attw, publint, require/import and tsc in a fresh project; builds dist/ first when it is stale), then
// the examples project (examples/vite and examples/next installed from the tarball with `npm ci`, built, served and
// walked through a server outage in Chromium), then
// the e2e-node and browser projects in real Chromium, then the storybook project (every story as a test in Chromium,
// axe violations as errors). Ends with one plain line, `N passed, N failed` (`, N skipped` when there are any), counted
// from vitest's JSON reports; exits non-zero when anything failed, crashed or found no tests.
// Without a Chromium it first installs one where the platform allows (scripts/install-chromium.mjs); when it cannot,
// it stops before running anything and prints the one command to run.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChromiumNotFoundError } from './find-chromium.mjs'
import { ChromiumInstallError, ensureChromium } from './install-chromium.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const tmp = join(root, '.tmp')
const reportsDir = join(tmp, 'reports')

// Chromium and anything else that writes scratch or config files keeps them inside the project.
const env = {
  ...process.env,
  TMPDIR: join(tmp, 'tmp'),
  XDG_CONFIG_HOME: join(tmp, 'config'),
  XDG_CACHE_HOME: join(tmp, 'cache'),
}
for (const dir of [reportsDir, env.TMPDIR, env.XDG_CONFIG_HOME, env.XDG_CACHE_HOME]) mkdirSync(dir, { recursive: true })

const allProjects = ['unit', 'cluster', 'package', 'examples', 'e2e-node', 'browser', 'storybook']
// `npm test -- unit cluster` runs just those projects (same summary line); no names runs them all.
const named = process.argv.slice(2)
const unknown = named.filter((name) => !allProjects.includes(name))
if (unknown.length > 0) {
  process.stderr.write(`[test] unknown project(s): ${unknown.join(', ')}; the projects are ${allProjects.join(', ')}\n`)
  process.exit(2)
}
const projects = named.length > 0 ? allProjects.filter((name) => named.includes(name)) : allProjects

/**
 * Resolves the browser once here (installing one when missing) so the choice is logged once; vitest's config reads it
 * back from CHROMIUM_PATH. Returns false, having said what to run, when there is none and none could be installed.
 */
async function resolveChromium() {
  try {
    // The parent's environment: an installed browser goes where find-chromium looks (Playwright's usual cache).
    env.CHROMIUM_PATH = await ensureChromium({ log: (line) => process.stderr.write(`[test] ${line}\n`) })
    env.LIFELINE_CHROMIUM_REPORTED = env.CHROMIUM_PATH
    return true
  } catch (error) {
    if (error instanceof ChromiumInstallError) {
      process.stderr.write(
        `[test] ${error.message}\n[test] The browser tiers need Chromium. Run this, then \`npm test\` again:\n\n` +
          `    ${error.command}\n\n`,
      )
      return false
    }
    if (error instanceof ChromiumNotFoundError) {
      process.stderr.write(`[test] ${error.message}\n`)
      return false
    }
    throw error
  }
}

function vitestBin() {
  const require = createRequire(import.meta.url)
  const packageJsonPath = require.resolve('vitest/package.json')
  const { bin } = JSON.parse(readFileSync(packageJsonPath, 'utf8'))
  return join(dirname(packageJsonPath), typeof bin === 'string' ? bin : bin.vitest)
}

/** Runs one vitest project; resolves with its exit code (or the spawn error). */
function runVitest(bin, project, reportFile) {
  const args = [
    bin,
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
  ]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] })
    child.once('error', (error) => resolve({ code: null, error }))
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
}

/**
 * Every failure of the run, one line each, printed again just above the summary line: CI often keeps only the tail
 * of the output, and a failure scrolled away among thousands of lines is a failure nobody can name.
 */
const failures = []

function firstLine(text) {
  return (text || 'no message').split('\n').find((line) => line.trim() !== '') ?? 'no message'
}

/** Counts from a vitest JSON report; a file that failed before its tests ran counts as one failure. */
function countReport(project, report) {
  const failedFiles = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  )
  for (const file of failedFiles) {
    const line = `${relative(root, file.name)} failed to run: ${firstLine(file.message)}`
    process.stderr.write(`[test] ${line}\n`)
    failures.push(`${project}: ${line}`)
  }
  for (const file of report.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status !== 'failed') continue
      const message = firstLine((test.failureMessages ?? [])[0])
      failures.push(
        `${project}: ${relative(root, file.name)} > ${test.fullName ?? test.title}: ${message}`.slice(0, 400),
      )
    }
  }
  return {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + failedFiles.length,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    total: report.numTotalTests ?? 0,
  }
}

async function main() {
  const runStarted = performance.now()
  const totals = { passed: 0, failed: 0, skipped: 0 }
  if (!(await resolveChromium())) {
    // Fail fast: nothing else runs, so the fix is the last thing on screen, above the summary line.
    process.stdout.write('0 passed, 1 failed\n')
    process.exitCode = 1
    return
  }
  let bin
  try {
    bin = vitestBin()
  } catch (error) {
    process.stderr.write(`[test] cannot find vitest (${error.message.split('\n')[0]}); run \`npm ci\` first.\n`)
    totals.failed += 1
  }

  for (const project of bin ? projects : []) {
    const reportFile = join(reportsDir, `vitest-${project}.json`)
    rmSync(reportFile, { force: true })
    const started = performance.now()
    process.stderr.write(`\n[test] vitest project "${project}"\n`)
    const result = await runVitest(bin, project, reportFile)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)

    if (result.error) {
      process.stderr.write(`[test] ${project}: vitest failed to start: ${result.error.message}\n`)
      failures.push(`${project}: vitest failed to start`)
      totals.failed += 1
      continue
    }
    if (!existsSync(reportFile)) {
      process.stderr.write(
        `[test] ${project}: vitest exited with ${result.signal ?? `code ${result.code}`} after ${seconds}s without a ` +
          'report; it crashed or failed to start (see its output above).\n',
      )
      failures.push(`${project}: vitest exited without a report`)
      totals.failed += 1
      continue
    }
    let counts
    try {
      counts = countReport(project, JSON.parse(readFileSync(reportFile, 'utf8')))
    } catch (error) {
      process.stderr.write(`[test] ${project}: unreadable report ${reportFile}: ${error.message}\n`)
      failures.push(`${project}: unreadable report`)
      totals.failed += 1
      continue
    }
    process.stderr.write(
      `[test] ${project}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${seconds}s\n`,
    )
    totals.passed += counts.passed
    totals.failed += counts.failed
    totals.skipped += counts.skipped
    if (counts.total === 0 && counts.failed === 0) {
      process.stderr.write(`[test] ${project}: no tests ran; treating that as a failure.\n`)
      failures.push(`${project}: no tests ran`)
      totals.failed += 1
    } else if (result.code !== 0 && counts.failed === 0) {
      // e.g. an unhandled error or rejection after the tests passed: vitest fails the run, so do we.
      process.stderr.write(
        `[test] ${project}: vitest exited with ${result.signal ?? `code ${result.code}`} although no test failed ` +
          '(unhandled error, see above); counting it as one failure.\n',
      )
      totals.failed += 1
      failures.push(`${project}: vitest exited with ${result.signal ?? `code ${result.code}`} although no test failed`)
    }
  }

  if (failures.length > 0) {
    process.stderr.write(`\n[test] ${failures.length} failure(s):\n`)
    for (const failure of failures) process.stderr.write(`[test]   ${failure}\n`)
  }
  process.stderr.write(`[test] total ${((performance.now() - runStarted) / 1000).toFixed(1)}s\n`)
  const line = [`${totals.passed} passed`, `${totals.failed} failed`]
  if (totals.skipped > 0) line.push(`${totals.skipped} skipped`)
  process.stdout.write(`${line.join(', ')}\n`)
  process.exitCode = totals.failed > 0 ? 1 : 0
}

await main()
