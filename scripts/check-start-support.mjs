// What scripts/check-start.mjs and scripts/check-start-cluster.mjs share: the scratch directories, a line per
// expectation, polling, and `npm start` (or `npm run start:cluster`) run in a process group of its own, waited for
// until it says it is ready and stopped with SIGINT as Ctrl+C does.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { findChromium } from './find-chromium.mjs'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const tmp = join(root, '.tmp')
const READY_TIMEOUT_MS = 180_000
/** Chromium's scratch files go under .tmp/, not the home directory. */
const dirs = { TMPDIR: join(tmp, 'tmp'), XDG_CONFIG_HOME: join(tmp, 'config'), XDG_CACHE_HOME: join(tmp, 'cache') }

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// A deadline that does not keep the process alive once everything else is done.
const deadline = (ms) => new Promise((resolve) => setTimeout(() => resolve(null), ms).unref())

/** Reads until `accept` takes the value or `timeoutMs` passed; resolves with the last value read. */
export async function poll(read, accept, timeoutMs) {
  const end = Date.now() + timeoutMs
  let value = await read()
  while (!accept(value) && Date.now() < end) {
    await sleep(100)
    value = await read()
  }
  return value
}

/**
 * A check's report: `say` writes a line with `prefix`, `expect` records a failed expectation (the check goes on where
 * it can) and returns whether it held, `fail` records an error thrown; `failures` lists what failed.
 */
export function createReport(prefix) {
  const failures = []
  const say = (line) => process.stdout.write(`[${prefix}] ${line}\n`)
  return {
    failures,
    say,
    expect(ok, what) {
      say(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
      if (!ok) failures.push(what)
      return ok
    },
    fail(error) {
      failures.push(error instanceof Error ? error.message : String(error))
      say(`FAIL ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    },
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    if (error.code === 'ESRCH') return false
    throw error
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portListening(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Runs `npm <args>` in the repository as the leader of a new process group, collecting its output (`onLine` sees
 * each line of it). `ready()` resolves with the output once it says `Press Ctrl+C` (or exited, or timed out).
 * `interrupt(goneTimeoutMs)` sends SIGINT to the group (as Ctrl+C does), waits up to 20 s for npm to exit and then up
 * to `goneTimeoutMs` for the rest of the group (Storybook's esbuild services, the nodes) to follow; it resolves with
 * null when the group was gone already, else with `exited` (null on timeout) and whether the group is `gone`. What is
 * left is the caller's to kill.
 */
export function startApp(args, { onLine = () => undefined } = {}) {
  for (const dir of [tmp, ...Object.values(dirs)]) mkdirSync(dir, { recursive: true })
  const child = spawn('npm', args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let hasExited = false
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  void exit.then(() => (hasExited = true))
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8')
    stream.on('data', (chunk) => {
      output += chunk
      for (const line of chunk.split('\n')) onLine(line)
    })
  }
  return {
    pgid: child.pid,
    get output() {
      return output
    },
    ready: () =>
      poll(
        async () => output,
        (text) => hasExited || /\[start\] Press Ctrl\+C/.test(text),
        READY_TIMEOUT_MS,
      ),
    async interrupt(goneTimeoutMs) {
      if (!groupAlive(child.pid)) return null
      process.kill(-child.pid, 'SIGINT')
      const exited = await Promise.race([exit, deadline(20_000)])
      const gone = await poll(
        async () => !groupAlive(child.pid),
        (value) => value,
        goneTimeoutMs,
      )
      return { exited, gone }
    },
  }
}

/** Headless Chromium with `args`, its scratch files under .tmp/. */
export function launchChromium(args) {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args,
    env: { ...process.env, ...dirs, HOME: join(tmp, 'home') },
  })
}
