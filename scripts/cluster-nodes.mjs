// Lifeline cluster nodes as real Node processes (scripts/cluster-node.ts, bundled once with esbuild into
// .tmp/cluster/), for `npm run start:cluster`, the `cluster` test project and the cluster bench. Each node keeps its
// port across kill and start, so a balancer in front of them keeps a fixed upstream list. Every node still running
// when this process exits is sent SIGKILL.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { bundleForNode } from './bundle-node.mjs'

/** The repository: found by walking up, since this file may be bundled into .tmp/ (scripts/start.mjs does). */
function findRoot() {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'scripts', 'cluster-node.ts'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find scripts/cluster-node.ts above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
  return dir
}

const root = findRoot()
const READY_PREFIX = 'LIFELINE_NODE_READY '
const READY_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 5_000
const STDERR_TAIL_CHARS = 4_000

const alive = new Set()
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL')
})

let built = null

/** Bundles scripts/cluster-node.ts (and the parts of src/ it uses) once per process; resolves with the file. */
export function buildClusterNode() {
  built ??= (async () => {
    const outdir = join(root, '.tmp', 'cluster')
    mkdirSync(outdir, { recursive: true })
    const outfile = join(outdir, `cluster-node-${process.pid}.mjs`)
    // Children already loaded it; nothing needs the file once this process is gone.
    process.once('exit', () => rmSync(outfile, { force: true }))
    await bundleForNode(join(root, 'scripts', 'cluster-node.ts'), outfile)
    return outfile
  })()
  return built
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts one node process and resolves once it listens. See cluster-nodes.d.mts for the options and the handle.
 */
export async function startClusterNode(options) {
  const script = await buildClusterNode()
  const port = options.port || (await freePort())
  const name = options.name ?? `node-${port}`
  const log = options.log ?? (() => undefined)
  const config = {
    port,
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    name,
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.resumeWindowMs === undefined ? {} : { resumeWindowMs: options.resumeWindowMs }),
    reportPublished: options.onPublished !== undefined,
    verbose: options.verbose === true,
  }
  let child = null
  let exited = Promise.resolve()
  let nextId = 0
  const calls = new Map()
  let stderrTail = ''

  const launch = () =>
    new Promise((resolve, reject) => {
      const started = spawn(process.execPath, [script], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, LIFELINE_NODE: JSON.stringify(config) },
      })
      child = started
      alive.add(started)
      let ready = false
      let stdout = ''
      const timer = setTimeout(() => {
        started.kill('SIGKILL')
        reject(new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms:\n${stderrTail}`))
      }, READY_TIMEOUT_MS)
      exited = new Promise((done) => {
        started.once('exit', (code, signal) => {
          alive.delete(started)
          clearTimeout(timer)
          for (const call of calls.values()) call.reject(new Error(`${name} exited`))
          calls.clear()
          if (!ready) reject(new Error(`${name} exited (${signal ?? code}) before ready:\n${stderrTail}`))
          else log(`${name} exited (${signal ?? `code ${code}`})`)
          done()
        })
      })
      started.stdout.setEncoding('utf8')
      started.stdout.on('data', (chunk) => {
        if (ready) return
        stdout += chunk
        const line = stdout.split('\n').find((text) => text.startsWith(READY_PREFIX))
        if (line === undefined) return
        ready = true
        clearTimeout(timer)
        resolve()
      })
      started.stderr.setEncoding('utf8')
      started.stderr.on('data', (chunk) => {
        stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS)
        if (options.verbose === true) for (const line of chunk.trimEnd().split('\n')) log(line)
      })
      started.on('message', (message) => {
        if (message.type === 'published') options.onPublished?.(message.items)
        const call = calls.get(message.id)
        if (call === undefined) return
        calls.delete(message.id)
        if (message.error !== undefined) call.reject(new Error(message.error))
        else call.resolve(message.result)
      })
    })

  const running = () => child !== null && child.exitCode === null && child.signalCode === null
  const call = (message) =>
    new Promise((resolve, reject) => {
      if (!running()) return reject(new Error(`${name} is not running`))
      const id = ++nextId
      calls.set(id, { resolve, reject })
      child.send({ ...message, id })
    })

  await launch()
  return {
    name,
    port,
    url: `ws://127.0.0.1:${port}/lifeline`,
    get pid() {
      return child?.pid ?? 0
    },
    get running() {
      return running()
    },
    async kill(signal = 'SIGKILL') {
      if (!running()) return
      child.kill(signal)
      await exited
    },
    async start() {
      if (running()) return
      await launch()
    },
    async stop() {
      if (!running()) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    },
    stats: () => call({ type: 'stats' }),
    publish: (channel, data) => call({ type: 'publish', channel, data }),
    closeClients: (code, reason = '') => call({ type: 'close', code, reason }),
  }
}
