#!/usr/bin/env node
// Installs a Chromium for the real-browser tests when none is found, the way the platform allows:
//   - root on Debian: Debian's `chromium` package with apt-get (what .ci/run installs too);
//   - elsewhere (Ubuntu, whose apt `chromium` is only a wrapper around a snap, non-root Linux, macOS, Windows):
//     Playwright's installer into its own cache, which playwright-core's chromium.executablePath() then finds;
//     `--with-deps` as root on Linux, so apt also brings the libraries Chromium needs.
// When that is impossible or fails, callers print the one command a person has to run (`manualCommand`).
// Usable as a module (`ensureChromium()`, used by scripts/test.mjs) and as a CLI (prints the path on stdout).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { ChromiumNotFoundError, findChromium } from './find-chromium.mjs'

const APT_UPDATE = 'apt-get update'
const APT_INSTALL = 'apt-get install -y chromium'
const PLAYWRIGHT_COMMAND = 'npx playwright install chromium'

/** Reads the facts the choice depends on from this machine. */
export function platformFacts(env = process.env) {
  let osRelease = ''
  try {
    osRelease = readFileSync('/etc/os-release', 'utf8')
  } catch (error) {
    if (!(error && typeof error === 'object' && 'code' in error && error.code === 'ENOENT')) throw error
  }
  const field = (name) => osRelease.match(new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm'))?.[1] ?? ''
  let playwrightCli = null
  try {
    const manifest = createRequire(import.meta.url).resolve('playwright/package.json')
    playwrightCli = join(dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin.playwright)
  } catch (error) {
    if (!(error && typeof error === 'object' && 'code' in error && error.code === 'MODULE_NOT_FOUND')) throw error
  }
  return {
    platform: process.platform,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    distribution: field('ID'),
    distributionFamily: field('ID_LIKE'),
    hasAptGet: existsSync('/usr/bin/apt-get'),
    playwrightCli,
    optedOut: env.LIFELINE_NO_BROWSER_INSTALL === '1',
  }
}

/**
 * What to do about a missing Chromium on a machine with these facts: `steps` to run (empty when nothing can be
 * done here), what they are in words, and the one command to tell a person when they cannot run or fail.
 * @param {ReturnType<typeof platformFacts>} facts
 */
export function chromiumInstallPlan(facts) {
  // Debian and its derivatives ship a real chromium package; Ubuntu (and Mint, Pop!_OS…) only a snap wrapper.
  const family = facts.distributionFamily.split(/\s+/)
  const debian =
    facts.platform === 'linux' &&
    (facts.distribution === 'debian' ||
      (family.includes('debian') && !family.includes('ubuntu') && facts.distribution !== 'ubuntu'))
  const sudo = facts.isRoot ? '' : 'sudo '
  const manualCommand = debian ? `${sudo}${APT_UPDATE} && ${sudo}${APT_INSTALL}` : PLAYWRIGHT_COMMAND
  if (facts.optedOut) {
    return { steps: [], description: 'LIFELINE_NO_BROWSER_INSTALL=1: not installing a browser', manualCommand }
  }
  if (debian && facts.isRoot && facts.hasAptGet) {
    const env = { DEBIAN_FRONTEND: 'noninteractive' }
    return {
      steps: [
        { command: 'apt-get', args: ['update', '-qq'], env },
        { command: 'apt-get', args: ['install', '-y', '-qq', 'chromium'], env },
      ],
      description: "Debian's chromium package with apt-get (about 80 s)",
      manualCommand,
    }
  }
  if (debian && !facts.isRoot) {
    // Playwright's build would also need system libraries that only root can install: apt is the one way.
    return { steps: [], description: 'not root, so apt-get cannot install chromium', manualCommand }
  }
  if (facts.playwrightCli === null) {
    return { steps: [], description: 'the playwright package is not installed (run `npm ci`)', manualCommand }
  }
  const withDeps = facts.platform === 'linux' && facts.isRoot ? ['--with-deps'] : []
  return {
    steps: [{ command: process.execPath, args: [facts.playwrightCli, 'install', ...withDeps, 'chromium'], env: {} }],
    description: `Playwright's installer (${['playwright install', ...withDeps, 'chromium'].join(' ')})`,
    manualCommand: withDeps.length > 0 ? `npx playwright install --with-deps chromium` : manualCommand,
  }
}

function runStep(step, log) {
  log(`$ ${[step.command === process.execPath ? 'node' : step.command, ...step.args].join(' ')}`)
  return new Promise((resolve) => {
    const child = spawn(step.command, step.args, {
      env: { ...process.env, ...step.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.once('error', (error) => resolve({ ok: false, detail: error.message }))
    child.once('exit', (code, signal) => resolve({ ok: code === 0, detail: signal ?? `exit code ${String(code)}` }))
  })
}

/** Raised when no Chromium exists and none could be installed here; `command` is what a person should run. */
export class ChromiumInstallError extends Error {
  code = 'CHROMIUM_INSTALL_FAILED'
  constructor(message, command) {
    super(message)
    this.name = 'ChromiumInstallError'
    this.command = command
  }
}

/**
 * Returns the Chromium to use, installing one first when none is found and the platform allows it.
 * @param {import('./install-chromium.d.mts').EnsureChromiumOptions} [options]
 * @returns {Promise<string>}
 */
export async function ensureChromium(options = {}) {
  const log = options.log ?? ((line) => process.stderr.write(`[install-chromium] ${line}\n`))
  const find = options.find ?? (() => findChromium(options.env ? { env: options.env } : {}))
  const run = options.run ?? runStep
  try {
    return find()
  } catch (error) {
    if (!(error instanceof ChromiumNotFoundError)) throw error
    // An explicit CHROMIUM_PATH that is wrong is a mistake to fix, not a reason to install another browser.
    if ((options.env ?? process.env).CHROMIUM_PATH) throw error
  }
  const plan = chromiumInstallPlan(options.facts ?? platformFacts(options.env))
  if (plan.steps.length === 0) {
    throw new ChromiumInstallError(`No Chromium found, and ${plan.description}.`, plan.manualCommand)
  }
  log(`No Chromium found: installing ${plan.description}.`)
  for (const step of plan.steps) {
    const result = await run(step, log)
    if (!result.ok) {
      throw new ChromiumInstallError(`Installing ${plan.description} failed (${result.detail}).`, plan.manualCommand)
    }
  }
  try {
    const path = find()
    log(`Installed: ${path}`)
    return path
  } catch (error) {
    if (!(error instanceof ChromiumNotFoundError)) throw error
    throw new ChromiumInstallError(
      `The install finished but no Chromium was found:\n${error.message}`,
      plan.manualCommand,
    )
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(`${await ensureChromium()}\n`)
  } catch (error) {
    if (!(error instanceof ChromiumInstallError)) throw error
    process.stderr.write(`[install-chromium] ${error.message}\nRun: ${error.command}\n`)
    process.exit(1)
  }
}
