#!/usr/bin/env node
// Locates a Chromium binary for the real-browser tests; never downloads one itself (scripts/install-chromium.mjs does).
// Order: $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser, Playwright's cached browser.
// Usable as a module (`findChromium()`) and as a CLI (prints the path on stdout).
import { accessSync, constants } from 'node:fs'
import { createRequire } from 'node:module'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const INSTALL_HINT =
  'No Chromium found. `npm test` installs one when it can (scripts/install-chromium.mjs); or install it with ' +
  '`apt-get update && apt-get install -y chromium` (Debian, as root) or `npx playwright install chromium`, ' +
  'or point CHROMIUM_PATH at an existing Chromium/Chrome binary.'

/** Thrown when no usable Chromium binary exists; `code` is stable for callers. */
export class ChromiumNotFoundError extends Error {
  code = 'CHROMIUM_NOT_FOUND'
  constructor(tried, headline = INSTALL_HINT) {
    super(`${headline}\nTried:\n${tried.map((line) => `  - ${line}`).join('\n')}`)
    this.name = 'ChromiumNotFoundError'
  }
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch (error) {
    if (error && typeof error === 'object' && 'code' in error && (error.code === 'ENOENT' || error.code === 'EACCES')) {
      return false
    }
    throw error
  }
}

function playwrightCachedChromium() {
  const require = createRequire(import.meta.url)
  let playwrightCore
  try {
    playwrightCore = require('playwright-core')
  } catch (error) {
    return { path: undefined, reason: `playwright-core is not installed (${error.message.split('\n')[0]})` }
  }
  try {
    return { path: playwrightCore.chromium.executablePath(), reason: "playwright-core's chromium.executablePath()" }
  } catch (error) {
    return { path: undefined, reason: `playwright-core has no cached chromium (${error.message.split('\n')[0]})` }
  }
}

// Vitest loads its config in more than one process; the env marker keeps the message to one line per run.
const REPORTED_MARKER = 'LIFELINE_CHROMIUM_REPORTED'

/**
 * Returns the absolute path of the Chromium binary to use.
 * Logs the choice and the reason to stderr once per process unless `quiet` is set.
 * @param {{ quiet?: boolean, env?: NodeJS.ProcessEnv }} [options]
 * @returns {string}
 */
export function findChromium(options = {}) {
  const env = options.env ?? process.env
  const tried = []
  const candidates = []
  if (env.CHROMIUM_PATH) candidates.push({ path: env.CHROMIUM_PATH, reason: 'from CHROMIUM_PATH', strict: true })
  candidates.push({ path: '/usr/bin/chromium', reason: 'Debian package `chromium`' })
  candidates.push({ path: '/usr/bin/chromium-browser', reason: 'distribution package `chromium-browser`' })

  for (const candidate of candidates) {
    if (isExecutable(candidate.path)) return report(candidate, options)
    tried.push(`${candidate.path} (${candidate.reason}): not an executable file`)
    if (candidate.strict) {
      // An explicit CHROMIUM_PATH that does not exist is a configuration mistake: say so instead of falling back.
      throw new ChromiumNotFoundError(
        tried,
        `CHROMIUM_PATH=${candidate.path} is not an executable file. Fix or unset it. ${INSTALL_HINT}`,
      )
    }
  }

  const cached = playwrightCachedChromium()
  if (cached.path && isExecutable(cached.path)) return report(cached, options)
  tried.push(cached.path ? `${cached.path} (${cached.reason}): file does not exist` : cached.reason)
  throw new ChromiumNotFoundError(tried)
}

function report(candidate, options) {
  if (!options.quiet && process.env[REPORTED_MARKER] !== candidate.path) {
    process.env[REPORTED_MARKER] = candidate.path
    process.stderr.write(`[find-chromium] using ${candidate.path} (${candidate.reason})\n`)
  }
  return candidate.path
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(`${findChromium()}\n`)
  } catch (error) {
    if (error instanceof ChromiumNotFoundError) {
      process.stderr.write(`[find-chromium] ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}
