#!/usr/bin/env node
// `npm start`: Storybook plus the servers its stories talk to, as one command.
//   1. The embedded reference server: createLifelineServer (through the testing kit's createTestServer, bundled from
//      src/ with esbuild on the fly) behind the fault proxy, with an HTTP control API on a port of its own for the
//      stories' fault panel: kill and restart, blackhole (half-open), close with 1001/1008/1009/4001/4002/4003, reject
//      the upgrade with 401/403, block WebSocket so long-poll takes over (scripts/lifeline-dev-server.ts).
//   2. The useWebSocket playground's echo server (`ws`) with its control API (scripts/echo-dev-server.mjs).
//   3. `storybook dev`, told the URLs through STORYBOOK_LIFELINE_URL, STORYBOOK_LIFELINE_CONTROL_URL and
//      STORYBOOK_LIFELINE_ECHO_URL (Storybook inlines STORYBOOK_* variables as `import.meta.env.STORYBOOK_*`).
// `npm run start:cluster` (`--cluster`): in place of 1., Redis (temporary directory, free port) + three node processes
// over createRedisBroker + the fault proxy as a round-robin balancer in front of them, with the same control API plus
// kill-node / restart-node / stop-redis / start-redis (scripts/lifeline-cluster-dev-server.ts); the fault panel shows
// their buttons when the API says `mode: 'cluster'`.
// Ctrl+C (SIGINT) or SIGTERM stops all of them; when Storybook exits on its own, the servers stop with it.
// Env: LIFELINE_ECHO_PORT (default 8787), LIFELINE_SERVER_PORT (8788, the proxy clients connect to),
// LIFELINE_CONTROL_PORT (8789), LIFELINE_STORYBOOK_PORT (6006); a busy port is swapped for a free one. Extra arguments
// go to `storybook dev`, e.g. `npm start -- --loglevel debug`.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer as createNetServer } from 'node:net'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { bundleForNode } from './bundle-node.mjs'
import { listenPreferring, startEchoServer } from './echo-dev-server.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const HOST = '127.0.0.1'
const STORY_PATH = '/story/components-connectionbanner--live'
const READY_TIMEOUT_MS = 180_000
const CLUSTER = process.argv.includes('--cluster')
const STOP_TIMEOUT_MS = 10_000

const say = (line) => process.stdout.write(`[start] ${line}\n`)
const warn = (line) => process.stderr.write(`[start] ${line}\n`)

function portFromEnv(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(raw)}`)
  }
  return port
}

/** `preferred` if nothing listens on it at 127.0.0.1 (where Storybook listens by default), else a free port. */
async function storybookPort(preferred) {
  const probe = createNetServer()
  const port = await listenPreferring(probe, preferred, HOST, 'Storybook')
  await new Promise((resolve) => probe.close(() => resolve()))
  return port
}

function storybookBin() {
  const require = createRequire(import.meta.url)
  const packageJsonPath = require.resolve('storybook/package.json')
  const { bin } = JSON.parse(readFileSync(packageJsonPath, 'utf8'))
  return join(dirname(packageJsonPath), typeof bin === 'string' ? bin : bin.storybook)
}

async function waitUntilServed(url, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await response.arrayBuffer()
      if (response.ok) return true
    } catch (error) {
      // Refused or timed out: Storybook is not listening yet.
      if (!(error instanceof Error)) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

/**
 * Bundles scripts/lifeline-dev-server.ts (and the parts of src/ it uses) into .tmp/start/ and imports it: plain Node
 * cannot load TypeScript, and esbuild is already a dev dependency (bench/run.mjs does the same).
 */
async function loadLifelineDevServer() {
  const outdir = join(root, '.tmp', 'start')
  mkdirSync(outdir, { recursive: true })
  const name = CLUSTER ? 'lifeline-cluster-dev-server' : 'lifeline-dev-server'
  const outfile = join(outdir, `${name}.mjs`)
  await bundleForNode(join(root, 'scripts', `${name}.ts`), outfile)
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`)
}

async function main() {
  const started = performance.now()
  const sbPort = await storybookPort(portFromEnv('LIFELINE_STORYBOOK_PORT', 6006))
  const origins = [`http://${HOST}:${sbPort}`, `http://localhost:${sbPort}`, `http://[::1]:${sbPort}`]
  const loaded = await loadLifelineDevServer()
  const startServer = CLUSTER ? loaded.startLifelineClusterDevServer : loaded.startLifelineDevServer
  const lifeline = await startServer({
    allowedOrigins: origins,
    port: portFromEnv('LIFELINE_SERVER_PORT', 8788),
    controlPort: portFromEnv('LIFELINE_CONTROL_PORT', 8789),
    log: (line) => say(`lifeline: ${line} → ${describeLifeline(lifeline.state())}`),
  })
  const via = CLUSTER ? `the balancer over ${lifeline.nodes.length} nodes and Redis` : 'the fault proxy'
  say(`Lifeline server: ${lifeline.url} via ${via} (control API ${lifeline.controlUrl}/state)`)
  let echo
  try {
    echo = await startEchoServer({ port: portFromEnv('LIFELINE_ECHO_PORT', 8787), allowedOrigins: () => origins })
  } catch (error) {
    await lifeline.close()
    throw error
  }
  say(`Echo server: ${echo.url}  (control API ${echo.controlUrl}/state)`)

  const args = [storybookBin(), 'dev', '-p', String(sbPort), '--exact-port', '--no-open', '--ci']
  args.push('--no-version-updates', ...process.argv.slice(2).filter((arg) => arg !== '--cluster'))
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      STORYBOOK_LIFELINE_ECHO_URL: echo.url,
      STORYBOOK_LIFELINE_URL: lifeline.url,
      STORYBOOK_LIFELINE_CONTROL_URL: lifeline.controlUrl,
    },
  })

  let stopping = false
  let serversClosed = null
  const closeServers = () => (serversClosed ??= Promise.allSettled([echo.close(), lifeline.close()]))

  child.on('error', (error) => {
    warn(`cannot start Storybook: ${error.message}`)
    void closeServers().then(() => process.exit(1))
  })
  child.on('exit', (code, signal) => {
    if (!stopping) warn(`Storybook exited (${signal ?? `code ${code}`}); stopping the servers`)
    void closeServers().then(() => {
      say('stopped')
      process.exit(stopping ? 0 : (code ?? 1))
    })
  })

  const stop = (signal) => {
    if (stopping) return
    stopping = true
    say(`${signal}: stopping Storybook and the servers`)
    void closeServers()
    // With Ctrl+C the terminal already signalled the whole process group; with `kill <pid>` only this process.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    setTimeout(() => {
      warn(`Storybook still running after ${STOP_TIMEOUT_MS} ms: SIGKILL`)
      child.kill('SIGKILL')
    }, STOP_TIMEOUT_MS).unref()
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGHUP', () => stop('SIGHUP'))
  // `npm start` runs us under `sh -c`; a SIGTERM (or SIGKILL) sent to npm alone kills npm and that shell, not us.
  // Once our parent is gone we are re-parented, so stop rather than keep both servers running unseen.
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) {
      warn('the parent process is gone')
      stop('SIGTERM')
    }
  }, 500).unref()
  // Last resort if this process dies of an error: never leave Storybook running without its server.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  })

  const base = `http://${HOST}:${sbPort}`
  if (await waitUntilServed(`${base}/iframe.html`, child)) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    say(`ready in ${seconds} s`)
    say(`Storybook:   ${base}/?path=${STORY_PATH}`)
    say(`Lifeline server: ${lifeline.url} (fault panel in every Live story)`)
    say(`Echo server: ${echo.url}`)
    say('Press Ctrl+C to stop everything.')
  } else if (!stopping && child.exitCode === null) {
    warn(`Storybook did not answer at ${base} within ${READY_TIMEOUT_MS / 1000} s`)
  }
}

function describeLifeline(state) {
  const faults = [
    state.up ? 'up' : 'killed',
    state.blackholed && 'blackholed',
    state.rejectStatus !== null && `rejecting ${state.rejectStatus}`,
    state.webSocketBlocked && 'WebSocket blocked',
  ].filter(Boolean)
  const cluster =
    state.mode === 'cluster'
      ? `; nodes ${state.nodes.map((node) => `${node.index}:${node.up ? 'up' : 'killed'}`).join(' ')}, Redis ${state.redisUp ? 'up' : 'stopped'}`
      : ''
  return `${faults.join(', ')}, ${state.connections} WebSocket connections${cluster}`
}

main().catch((error) => {
  warn(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exit(1)
})
