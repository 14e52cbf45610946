// Real Redis for the `cluster` test project: Debian's redis-server on a free 127.0.0.1 port in a temporary directory,
// a single server or a 3-master Cluster. Every process started here is killed by stop() and, as a last resort, when
// the test process exits, so no redis-server outlives the tests.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, readdirSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const REDIS_SERVER = '/usr/bin/redis-server'
const REDIS_CLI = '/usr/bin/redis-cli'
const READY_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

const execFileAsync = promisify(execFile)
const running = new Set<ChildProcess>()

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** `appendonly yes` with `appendfsync everysec`, so `restart({ keepData: true })` also keeps the AOF. @default false */
  appendonly?: boolean
  /** Extra `--name value` arguments for redis-server, e.g. `['--maxmemory-policy', 'allkeys-lru']`. @default [] */
  args?: readonly string[]
  /** Run as a Cluster node (`--cluster-enabled yes`); used by {@link startRedisCluster}. @default false */
  cluster?: boolean
}

/** One running (or stopped) redis-server. */
export interface RedisInstance {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** Its working directory (dump.rdb, appendonly dir, nodes.conf); removed by stop(). */
  readonly dir: string
  /** Whether the process is up. */
  readonly running: boolean
  /** Starts it again on the same port and directory after kill() or halt(). */
  start(): Promise<void>
  /** SIGTERM without saving; waits for the exit. The instance can be started again (same port). */
  halt(): Promise<void>
  /** SIGKILL; waits for the exit. The instance can be started again (same port). */
  kill(): Promise<void>
  /**
   * Stops and starts it on the same port. `keepData: false` (the default) deletes every data file first: a restart of
   * a Redis without persistence. `keepData: true` saves an RDB snapshot on shutdown and loads it on start.
   */
  restart(options?: { keepData?: boolean }): Promise<void>
  /** Kills it for good and removes its directory. Idempotent. */
  stop(): Promise<void>
  /** Runs one redis-cli command against it and returns its output (trimmed). */
  cli(...args: string[]): Promise<string>
}

/** A local Cluster of 3 masters, no replicas. */
export interface RedisClusterInstance {
  /** One `redis://127.0.0.1:<port>` per master. */
  readonly urls: readonly string[]
  readonly nodes: readonly RedisInstance[]
  /** `{ host, port }` of every master, the shape ioredis' `new Cluster(startupNodes)` takes. */
  readonly startupNodes: readonly { host: string; port: number }[]
  /** Stops every node. Idempotent. */
  stop(): Promise<void>
}

/** A port that was free a moment ago (bind 127.0.0.1:0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Sends an inline command and resolves with the first reply chunk, or null when nothing answers. */
function rawCommand(port: number, command: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const timer = setTimeout(() => finish(null), 1_000)
    function finish(reply: string | null): void {
      clearTimeout(timer)
      socket.destroy()
      resolve(reply)
    }
    socket.once('connect', () => socket.write(`${command}\r\n`))
    socket.once('data', (data) => finish(data.toString('utf8')))
    socket.once('error', () => finish(null))
  })
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`test/support/redis: timed out after ${timeoutMs} ms waiting for ${what}`)
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Starts a redis-server on a free port in a new temporary directory and waits until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisInstance> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-redis-'))
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | null = null
  let stopped = false
  let stderr = ''

  function args(): string[] {
    const list = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no']
    list.push('--protected-mode', 'no', '--logfile', '', '--loglevel', 'warning')
    list.push('--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'everysec')
    if (options.cluster) {
      // The bus port defaults to port + 10000, which may be taken; nodes.conf lives in the node's own directory.
      list.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000')
    }
    list.push(...(options.args ?? []))
    return list
  }

  async function start(): Promise<void> {
    if (stopped) throw new Error('test/support/redis: start() after stop()')
    if (child) return
    const extra = options.cluster ? ['--cluster-port', String(await freePort())] : []
    const spawned = spawn(REDIS_SERVER, [...args(), ...extra], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    child = spawned
    running.add(spawned)
    stderr = ''
    spawned.stdout?.on('data', (data: Buffer) => (stderr = (stderr + data.toString('utf8')).slice(-4_000)))
    spawned.stderr?.on('data', (data: Buffer) => (stderr = (stderr + data.toString('utf8')).slice(-4_000)))
    spawned.once('exit', () => {
      running.delete(spawned)
      if (child === spawned) child = null
    })
    try {
      await waitFor(`redis-server on port ${port}`, async () => {
        if (child !== spawned) throw new Error(`redis-server on port ${port} exited during start:\n${stderr}`)
        return (await rawCommand(port, 'PING'))?.startsWith('+PONG') ?? false
      })
    } catch (error) {
      spawned.kill('SIGKILL')
      throw error
    }
  }

  async function halt(signal: NodeJS.Signals): Promise<void> {
    const current = child
    if (!current) return
    current.kill(signal)
    await waitForExit(current)
  }

  const instance: RedisInstance = {
    url,
    port,
    dir,
    get running() {
      return child !== null
    },
    start,
    halt: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart({ keepData = false } = {}) {
      if (keepData && child) {
        // SHUTDOWN SAVE writes dump.rdb even with `--save ''`; the process exits after answering (or without).
        const current = child
        await rawCommand(port, 'SHUTDOWN SAVE')
        await waitForExit(current)
      } else {
        await halt('SIGKILL')
      }
      if (!keepData) {
        for (const name of readdirSync(dir)) {
          if (name !== 'nodes.conf') rmSync(join(dir, name), { recursive: true, force: true })
        }
      }
      await start()
    },
    async stop() {
      if (stopped) return
      await halt('SIGKILL')
      stopped = true
      rmSync(dir, { recursive: true, force: true })
    },
    async cli(...cliArgs) {
      const { stdout } = await execFileAsync(REDIS_CLI, ['-p', String(port), ...cliArgs])
      return stdout.trim()
    },
  }
  await start()
  return instance
}

/** Starts 3 Cluster-enabled servers, joins them as 3 masters (no replicas) and waits for `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisClusterInstance> {
  const nodes: RedisInstance[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()))
  }
  try {
    for (let index = 0; index < 3; index += 1) nodes.push(await startRedis({ cluster: true }))
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await execFileAsync(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    for (const node of nodes) {
      await waitFor(`cluster_state:ok on ${node.port}`, async () =>
        (await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok'),
      )
    }
  } catch (error) {
    await stop()
    throw error
  }
  return {
    urls: nodes.map((node) => node.url),
    nodes,
    startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    stop,
  }
}
