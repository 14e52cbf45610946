// One node of a lifeline cluster, as its own Node process: createLifelineServer on 127.0.0.1:<port> over
// createRedisBroker({ url }). Used by `npm run start:cluster`, the `cluster` test project and `npm run bench -- --only
// cluster` (scripts/cluster-nodes.mjs bundles this file with esbuild and spawns it).
// Configuration: one JSON object in the LIFELINE_NODE environment variable (see NodeConfig).
// Writes `LIFELINE_NODE_READY {"port":…,"pid":…}` on stdout once listening. With an IPC channel (spawned with 'ipc'),
// it answers `{ type: 'stats', id }` with its stats, runs `{ type: 'publish', id, channel, data }` (answered with the
// position) and `{ type: 'close', id, code, reason }` (closes every connection; 4003 expires their sessions), each
// answered `{ type, id, result }` or `{ type, id, error }`; and, when `reportPublished` is set, sends every applied
// client publish as `{ type: 'published', items: [[channel, data]] }`. SIGTERM or SIGINT: closes.
import process from 'node:process'
import { createLifelineServer } from '../src/server'
import type { LifelineServer, LifelineServerOptions } from '../src/server'
import { createRedisBroker } from '../src/server/redis'

/** What LIFELINE_NODE holds. */
interface NodeConfig {
  /** Port to listen on (0: a free one). */
  port: number
  /** `redis://host:port` of the shared Redis; absent: the server's own memory broker (one node, for comparison). */
  redisUrl?: string
  /** Key prefix in Redis, shared by every node of one cluster. */
  keyPrefix?: string
  /** Name used in log lines. */
  name?: string
  /** Browser origins allowed (Storybook). */
  allowedOrigins?: string[]
  heartbeatMs?: number
  resumeWindowMs?: number
  /** Send every applied client publish to the parent over IPC. */
  reportPublished?: boolean
  /** Log connections and refusals on stderr. */
  verbose?: boolean
}

/** Give up a graceful close after this long and exit anyway, ms. */
const CLOSE_TIMEOUT_MS = 5000

function readConfig(): NodeConfig {
  const raw = process.env.LIFELINE_NODE
  if (raw === undefined) throw new Error('LIFELINE_NODE (a JSON object) is required')
  const config = JSON.parse(raw) as NodeConfig
  if (!Number.isInteger(config.port)) {
    throw new Error(`LIFELINE_NODE needs a port: ${raw}`)
  }
  return config
}

type ParentMessage =
  | { type: 'stats'; id: number }
  | { type: 'publish'; id: number; channel: string; data: unknown }
  | { type: 'close'; id: number; code: number; reason: string }

// Sent at once rather than batched: a node killed with SIGKILL would lose a batch, and the tests count these.
const send = (message: unknown): void => {
  if (process.send && process.connected) process.send(message)
}

async function main(): Promise<void> {
  const config = readConfig()
  const name = config.name ?? `node:${String(process.pid)}`
  const broker =
    config.redisUrl === undefined
      ? null
      : createRedisBroker({
          url: config.redisUrl,
          ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
        })
  const options: LifelineServerOptions = {
    port: config.port,
    host: '127.0.0.1',
    ...(broker === null ? {} : { broker }),
    allowedOrigins: config.allowedOrigins ?? [],
    // Behind the balancer every client has the balancer's address.
    maxConnectionsPerAddress: 100_000,
    ...(config.heartbeatMs === undefined ? {} : { heartbeat: { intervalMs: config.heartbeatMs } }),
    ...(config.resumeWindowMs === undefined ? {} : { resume: { windowMs: config.resumeWindowMs } }),
    ...(config.reportPublished === true
      ? { onPublished: (event) => send({ type: 'published', items: [[event.channel, event.data]] }) }
      : {}),
    ...(config.verbose === true
      ? {
          logger: {
            info: (message, details) => process.stderr.write(`[${name}] ${message} ${JSON.stringify(details)}\n`),
            warn: (message, details) => process.stderr.write(`[${name}] ${message} ${JSON.stringify(details)}\n`),
          },
        }
      : {}),
  }
  const server: LifelineServer = await createLifelineServer(options)

  process.on('message', (message: ParentMessage) => {
    const { type, id } = message
    if (type === 'stats') send({ type, id, result: server.stats() })
    if (type === 'publish') {
      server.publish(message.channel, message.data).then(
        (position) => send({ type, id, result: position }),
        (error: unknown) => send({ type, id, error: String(error) }),
      )
    }
    if (type === 'close') {
      const connections = server.connections()
      for (const connection of connections) {
        // 4003 for real: the session is forgotten, so the client cannot resume it.
        if (message.code === 4003 && connection.session !== null) server.expireSession(connection.session)
        else connection.close(message.code, message.reason)
      }
      send({ type, id, result: connections.length })
    }
  })

  let closing = false
  const close = (signal: string): void => {
    if (closing) return
    closing = true
    process.stderr.write(`[${name}] ${signal}: closing\n`)
    setTimeout(() => process.exit(1), CLOSE_TIMEOUT_MS).unref()
    void server
      .close()
      .then(() => broker?.close())
      .then(() => process.exit(0))
  }
  process.on('SIGTERM', () => close('SIGTERM'))
  process.on('SIGINT', () => close('SIGINT'))
  process.on('disconnect', () => close('parent gone'))
  process.stdout.write(`LIFELINE_NODE_READY ${JSON.stringify({ port: server.port, pid: process.pid })}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
