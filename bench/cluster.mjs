// `npm run bench -- --only cluster`: the reference server on 3 node processes over Redis beside 1 node process with
// the memory broker, in the same run. Node only (no Chromium): real lifeline clients (createLifeline +
// lifelineProtocol on `ws`, bundled from src/ with esbuild) in this process, the nodes as child processes
// (scripts/cluster-nodes.mjs), a real redis-server (test/support/redis.ts, bundled the same way).
//
// Workload, per setup: SUBSCRIBERS clients spread round-robin over the nodes, each subscribed to one of CHANNELS
// channels; PUBLISHERS clients spread over every node publish through their outbox at a steady total rate, each
// message carrying its publish time; every delivery's latency (publish call → subscriber's listener) is recorded.
// Printed per setup and rate: delivered msgs/s, publish→deliver p50/p95/p99/max, and for Redis the p99 it adds over
// the memory broker against the goal (≤ 5 ms at 1,000 msgs/s). Figures only: nothing here asserts.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { startClusterNode } from '../scripts/cluster-nodes.mjs'
import { bundleForNode } from '../scripts/bundle-node.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const SUBSCRIBERS = 1000
const CHANNELS = 100
const PUBLISHERS = 30
/** Offered publish rates, msgs/s in total; each is run for RUN_MS. */
const RATES = [1000, 3000]
const RUN_MS = 10_000
const TICK_MS = 10
const DRAIN_TIMEOUT_MS = 30_000
const GOAL_P99_ADDED_MS = 5
const GOAL_RATE = 1000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Bundles what this bench needs from src/ and test/support/ into one module. */
async function bundle(outdir) {
  const entry = join(outdir, 'cluster-entry.ts')
  const outfile = join(outdir, 'cluster-entry.mjs')
  writeFileSync(
    entry,
    `export { createLifeline, lifelineProtocol } from ${JSON.stringify(join(root, 'src/core'))}\n` +
      `export { startRedis } from ${JSON.stringify(join(root, 'test/support/redis'))}\n`,
  )
  await bundleForNode(entry, outfile)
  return import(pathToFileURL(outfile).href)
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]
}

async function waitUntil(check, timeoutMs, what) {
  const end = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

/** Clients on `urls` (round-robin): subscribers recording latency, publishers ready to publish. */
async function connectClients(lib, urls, WebSocket) {
  const clients = []
  const make = (url) => {
    const protocol = lib.lifelineProtocol()
    const client = lib.createLifeline({ url, protocol, environment: { WebSocket }, minDelayMs: 200, maxDelayMs: 2000 })
    clients.push(client)
    return { client, protocol }
  }
  const latencies = []
  let delivered = 0
  let subscribed = 0
  for (let index = 0; index < SUBSCRIBERS; index++) {
    const { protocol } = make(urls[index % urls.length])
    protocol.channel(`bench-${index % CHANNELS}`, {
      message: (message) => {
        delivered++
        latencies.push(performance.now() - message.data.t)
      },
      status: (status) => {
        if (status.state === 'subscribed' && status.resumed === null) subscribed++
      },
    })
    if (index % 100 === 99) await sleep(50)
  }
  const publishers = Array.from({ length: PUBLISHERS }, (_, index) => make(urls[index % urls.length]))
  await waitUntil(() => subscribed >= SUBSCRIBERS, 60_000, 'every subscriber subscribed')
  await waitUntil(() => clients.every((client) => client.getSnapshot().status === 'open'), 30_000, 'every client open')
  return {
    publishers,
    latencies,
    delivered: () => delivered,
    dispose: () => clients.forEach((client) => client.dispose()),
  }
}

/** Publishes at `rate` msgs/s for RUN_MS, then waits for every delivery; returns the figures. */
async function measure(swarm, rate) {
  swarm.latencies.length = 0
  const deliveredBefore = swarm.delivered()
  const perTick = rate / (1000 / TICK_MS)
  let published = 0
  let owed = 0
  let turn = 0
  const started = performance.now()
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() - started >= RUN_MS) {
        clearInterval(timer)
        resolve()
        return
      }
      owed += perTick
      while (owed >= 1) {
        owed -= 1
        const { protocol } = swarm.publishers[turn++ % PUBLISHERS]
        protocol.publish(`bench-${published % CHANNELS}`, { t: performance.now(), n: published })
        published++
      }
    }, TICK_MS)
  })
  const expected = published * (SUBSCRIBERS / CHANNELS)
  await waitUntil(() => swarm.delivered() - deliveredBefore >= expected, DRAIN_TIMEOUT_MS, 'every delivery').catch(
    (error) => process.stderr.write(`[bench cluster] ${error.message}\n`),
  )
  const elapsed = performance.now() - started
  const sorted = swarm.latencies.slice().sort((a, b) => a - b)
  return {
    rate,
    published,
    deliveredPerS: ((swarm.delivered() - deliveredBefore) / elapsed) * 1000,
    missing: expected - (swarm.delivered() - deliveredBefore),
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  }
}

async function runSetup(label, lib, WebSocket, nodes) {
  const swarm = await connectClients(
    lib,
    nodes.map((node) => node.url),
    WebSocket,
  )
  try {
    const results = []
    for (const rate of RATES) {
      results.push({ label, ...(await measure(swarm, rate)) })
      process.stderr.write(`[bench cluster] ${label} at ${rate} msgs/s done\n`)
    }
    return results
  } finally {
    swarm.dispose()
  }
}

/** Runs the cluster bench; `cleanups` gets what must be stopped. Prints the table. */
export async function runClusterBench(cleanups) {
  const outdir = join(root, '.tmp', `bench-cluster-${process.pid}`)
  mkdirSync(outdir, { recursive: true })
  cleanups.push(() => Promise.resolve(rmSync(outdir, { recursive: true, force: true })))
  const lib = await bundle(outdir)
  const { WebSocket } = await import('ws')
  const rows = []

  const memoryNode = await startClusterNode({ name: 'memory' })
  cleanups.push(() => memoryNode.kill())
  rows.push(...(await runSetup('memory broker, 1 node', lib, WebSocket, [memoryNode])))
  await memoryNode.kill()

  const redis = await lib.startRedis()
  cleanups.push(() => redis.stop())
  // One node over Redis: what Redis itself adds, apart from three node processes sharing the CPUs.
  const single = await startClusterNode({ redisUrl: redis.url, name: 'redis-single', keyPrefix: 'single:' })
  cleanups.push(() => single.kill())
  rows.push(...(await runSetup('Redis broker, 1 node', lib, WebSocket, [single])))
  await single.kill()
  const nodes = await Promise.all(
    [0, 1, 2].map((index) => startClusterNode({ redisUrl: redis.url, name: `node-${index}` })),
  )
  cleanups.push(() => Promise.all(nodes.map((node) => node.kill())))
  rows.push(...(await runSetup('Redis broker, 3 nodes', lib, WebSocket, nodes)))
  await Promise.all(nodes.map((node) => node.kill()))
  await redis.stop()

  const format = (ms) => (Number.isFinite(ms) ? ms.toFixed(1) : 'n/a')
  const header = ['setup', 'offered msgs/s', 'delivered msgs/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'missing']
  const lines = rows.map((row) => [
    row.label,
    String(row.rate),
    row.deliveredPerS.toFixed(0),
    format(row.p50),
    format(row.p95),
    format(row.p99),
    format(row.max),
    String(row.missing),
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)))
  const render = (cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ')
  console.log(
    `\nCluster: ${SUBSCRIBERS} subscribers on ${CHANNELS} channels (${SUBSCRIBERS / CHANNELS} each), ${PUBLISHERS} ` +
      `publishers, spread over the nodes; ${RUN_MS / 1000} s per rate; publish call → listener latency. ` +
      `${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}.`,
  )
  console.log(render(header))
  for (const line of lines) console.log(render(line))
  const find = (label, rate) => rows.find((row) => row.label === label && row.rate === rate)
  const memory = find('memory broker, 1 node', GOAL_RATE)
  for (const label of ['Redis broker, 1 node', 'Redis broker, 3 nodes']) {
    const redisRow = find(label, GOAL_RATE)
    if (!memory || !redisRow) continue
    const added = redisRow.p99 - memory.p99
    const ratios = RATES.map((rate) => {
      const ratio = find(label, rate).deliveredPerS / find('memory broker, 1 node', rate).deliveredPerS
      return `${ratio.toFixed(2)} at ${rate}`
    })
    console.log(
      `${label}: p99 added over the memory broker at ${GOAL_RATE} msgs/s ${format(added)} ms (goal ≤ ` +
        `${GOAL_P99_ADDED_MS} ms: ${added <= GOAL_P99_ADDED_MS ? 'met' : 'NOT met'}); delivered msgs/s ratio to ` +
        `memory ${ratios.join(', ')}`,
    )
  }
}
