#!/usr/bin/env node
// `npm run bench`: throughput of useChannel against a plain browser WebSocket, in real Chromium, and the same over the
// HTTP long-poll transport; delivery latency over both.
//
// Workloads (each: plain, lib, plain, lib, … interleaved; medians of the runs):
//   small   100 000 messages of ~60 B data through one useChannel (count + last id rendered)
//   1kb      20 000 messages of ~1 KB data through one useChannel
//   fanout   20 000 messages of ~60 B data, one channel, 200 components each with useChannel on it
//   latency   2 000 messages of ~60 B data published at a steady 200 msgs/s, each carrying its publish time; per-message
//           latency recorded in the page when the message is handled (onmessage / useChannel onMessage), p50 p95 p99 max
// Baseline: a plain WebSocket page receiving the same `msg` frames from the same server, JSON.parse + count in
// onmessage; for fan-out it dispatches every message to 200 plain listener functions (see bench/README.md).
// Long-poll rows: the same useChannel page with the client forced onto long-poll from its first connection.
//
// Also measured (information, not a target): "plain + DOM per frame", the plain page also writing each count into the
// DOM once per animation frame, i.e. the cost of showing the count without React or the library.
//
// Options: --runs N (default 3), --quick (a tenth of the messages), --only small,1kb,fanout,latency,longpoll,cluster
//          (workloads; `longpoll` names those with a long-poll row: small, 1kb, latency; `cluster` is the Node-only
//          bench of 3 node processes over Redis beside 1 node with the memory broker, see bench/cluster.mjs),
//          --no-longpoll (skip the long-poll rows), --no-dom-baseline (skip the plain + DOM variant),
//          --src DIR (library sources to bundle, default src; for trying a change in a scratch copy),
//          --max-buffered BYTES (the server's maxBufferedBytes; default 256 MiB),
//          --priority (nice -10 for this process and Chromium, if allowed: steadier figures on a busy machine),
//          --profile DIR (writes a CDP CPU profile of every measured run there; slows the runs, diagnosis only).
// Figures only: nothing here asserts. Chromium is driven over plain CDP (no Playwright, no Network domain).
import { createServer } from 'node:http'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, getPriority, loadavg, setPriority } from 'node:os'
import { setImmediate } from 'node:timers'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { findChromium } from '../scripts/find-chromium.mjs'
import { launchChromium, openTab } from './chromium.mjs'
import { runClusterBench } from './cluster.mjs'
import { bundleForNode } from '../scripts/bundle-node.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const benchTmp = join(root, '.tmp', `bench-${process.pid}`)
const args = parseArgs(process.argv.slice(2))
const RUN_TIMEOUT_MS = 60_000
/** The long-poll endpoint's poll timeout (the reference server's default). */
const LONGPOLL_POLL_TIMEOUT_MS = 25_000
/** The server closes a connection whose send buffer exceeds this; raised from the 1 MiB default (see README). */
const MAX_BUFFERED_BYTES = args.maxBuffered ?? 256 * 1024 * 1024
/** Messages published per event-loop turn, so the socket flushes while the server keeps publishing. */
const PUBLISH_CHUNK = 500

/** Measured variants, interleaved in this order in every round (each workload runs those it names). */
const allVariants = [
  { key: 'plain', page: 'plain', label: 'plain WebSocket', render: false },
  { key: 'lib', page: 'lib', label: 'useChannel', render: false },
  // Not a target baseline: what writing the count into the DOM once per frame costs without React or the library.
  ...(args.domBaseline ? [{ key: 'plain-dom', page: 'plain', label: 'plain + DOM per frame', render: true }] : []),
  // The lib page with the client on HTTP long-poll from its first connection.
  ...(args.longPoll
    ? [{ key: 'longpoll', page: 'lib', label: 'useChannel (long-poll)', render: false, transport: 'longpoll' }]
    : []),
]
const scale = args.quick ? 0.1 : 1
const workloads = [
  {
    key: 'small',
    title: 'small messages (~60 B data), 1 useChannel',
    messages: 100_000,
    bytes: 60,
    listeners: 1,
    target: 1.05,
    // A long-poll row too, with the same burst (`longPollMessages` would give it fewer messages, were it too slow for
    // RUN_TIMEOUT_MS: it is not, a burst leaves in a few large poll responses).
    longPoll: true,
  },
  {
    key: '1kb',
    title: 'messages of ~1 KB data, 1 useChannel',
    messages: 20_000,
    bytes: 1024,
    listeners: 1,
    target: 1.1,
    longPoll: true,
  },
  {
    key: 'fanout',
    title: 'small messages, fan-out: 1 channel, 200 components with useChannel (baseline: 200 plain listeners)',
    messages: 20_000,
    bytes: 60,
    listeners: 200,
    target: 2,
  },
  {
    key: 'latency',
    kind: 'latency',
    title: 'delivery latency, ~60 B data, 1 listener',
    messages: 2_000,
    bytes: 60,
    listeners: 1,
    /** Steady publish rate, msgs/s. */
    rate: 200,
  },
]
  .filter((workload) => !args.only || args.only.includes(workload.key))
  .map((workload) => {
    const keys = workload.kind === 'latency' ? ['plain', 'lib', 'longpoll'] : ['plain', 'lib', 'plain-dom', 'longpoll']
    const variants = allVariants.filter(
      (variant) =>
        keys.includes(variant.key) && (variant.key !== 'longpoll' || workload.kind === 'latency' || workload.longPoll),
    )
    return {
      ...workload,
      kind: workload.kind ?? 'throughput',
      variants,
      messages: Math.round(workload.messages * scale),
      longPollMessages: Math.round((workload.longPollMessages ?? workload.messages) * scale),
    }
  })
/** Messages a variant gets in a workload (fewer for long-poll throughput). */
const messagesFor = (workload, variant) =>
  variant.transport === 'longpoll' ? (workload.longPollMessages ?? workload.messages) : workload.messages
/**
 * The whole bench gives up after this: the 290 s the WebSocket throughput workloads always had, plus what the long-poll
 * rows and the latency workload add (their publishing time, plus page loads and margin), so a stall cannot hang it.
 */
const TOTAL_TIMEOUT_MS =
  (workloads.length > 0 ? 290_000 : 0) +
  (args.only?.includes('cluster') ? 300_000 : 0) +
  workloads.reduce((total, workload) => {
    if (workload.kind === 'latency') {
      return total + args.runs * workload.variants.length * ((workload.messages / workload.rate) * 1000 + 5_000)
    }
    return total + (workload.variants.some((variant) => variant.transport) ? args.runs * 20_000 * scale + 5_000 : 0)
  }, 0)

const cleanups = []
let cleaning = null
const cleanup = () => {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      try {
        await withTimeout(step(), 10_000, 'cleanup step')
      } catch (error) {
        process.stderr.write(`[bench] cleanup: ${error.message}\n`)
      }
    }
    rmSync(benchTmp, { recursive: true, force: true })
  })()
  return cleaning
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`[bench] ${signal}: cleaning up\n`)
    void cleanup().finally(() => process.exit(130))
  })
}

const startedAt = performance.now()
const deadline = setTimeout(() => {
  process.stderr.write(`[bench] gave up after ${TOTAL_TIMEOUT_MS / 1000} s\n`)
  void cleanup().finally(() => process.exit(1))
}, TOTAL_TIMEOUT_MS)
deadline.unref()

try {
  if (args.only?.includes('cluster')) await runClusterBench(cleanups)
  if (workloads.length > 0) await main()
  clearTimeout(deadline)
} catch (error) {
  process.stderr.write(`[bench] failed: ${error.stack ?? error}\n`)
  process.exitCode = 1
} finally {
  await cleanup()
}

async function main() {
  if (args.priority) {
    // Chromium and its children inherit this niceness. Needs root (or CAP_SYS_NICE); other jobs get less CPU meanwhile.
    try {
      setPriority(-10)
    } catch (error) {
      process.stderr.write(`[bench] --priority: could not raise the priority (${error.code ?? error.message})\n`)
    }
  }
  const srcRoot = resolve(root, args.src ?? 'src')
  mkdirSync(benchTmp, { recursive: true })
  const executablePath = findChromium({ quiet: true })
  const [pages, serverModule] = await Promise.all([bundlePages(srcRoot), bundleServer(srcRoot)])

  const pageServer = await servePages(pages)
  cleanups.push(() => new Promise((done) => pageServer.server.close(() => done())))
  const { createLifelineServer } = await import(pathToFileURL(serverModule).href)
  // Refusals and faults the server logs (slow consumer, rate limited, origin refused…), counted per run.
  const serverWarnings = []
  const lifeline = await createLifelineServer({
    port: 0,
    // The page's origin: WebSocket upgrades and long-poll requests (same rule) from the bench pages are allowed.
    allowedOrigins: [pageServer.origin],
    maxBufferedBytes: MAX_BUFFERED_BYTES,
    // Served at <path>/poll; a long-poll connection's queue is capped by maxBufferedBytes like a WebSocket's buffer.
    longPoll: { pollTimeoutMs: LONGPOLL_POLL_TIMEOUT_MS },
    logger: {
      info: () => undefined,
      warn: (message) => serverWarnings.push(message),
    },
  })
  cleanups.push(() => lifeline.close())

  const browser = await launchChromium({ executablePath, tmpRoot: join(benchTmp, 'chromium') })
  cleanups.push(() => browser.close())
  process.once('exit', () => browser.killNow())
  const tab = await openTab(browser.endpoint)
  cleanups.push(async () => tab.close())

  const version = await tab.evaluate('navigator.userAgent.match(/Chrome\\/[\\d.]+/)?.[0] ?? navigator.userAgent')
  console.log(
    `react-lifeline throughput bench: ${version} (headless, plain CDP), Node ${process.version}, ${args.runs} runs per variant`,
  )
  console.log(`library sources: ${srcRoot}`)
  console.log(
    `server: createLifelineServer on ${lifeline.url}, maxBufferedBytes ${(MAX_BUFFERED_BYTES / 1024 / 1024).toFixed(1)} MiB ` +
      `(${MAX_BUFFERED_BYTES === 1024 * 1024 ? 'the default' : 'raised from the 1 MiB default'}, which closes a client that ` +
      `falls behind a burst as a slow consumer: 1013); ` +
      `publisher: server.broker.publish() of pre-serialised payloads, ${PUBLISH_CHUNK} per event-loop turn; ` +
      `long-poll at ${lifeline.url.replace(/^ws/, 'http')}/poll (pollTimeoutMs ${LONGPOLL_POLL_TIMEOUT_MS})`,
  )
  console.log(
    `machine: ${cpus().length} CPUs, nice ${getPriority()}, load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} at start`,
  )
  console.log('')

  const context = { tab, lifeline, origin: pageServer.origin, sequence: 0, serverWarnings }
  // Warm-up (not reported): compiles every page's code paths once in this browser.
  const used = new Set(workloads.flatMap((workload) => workload.variants.map((variant) => variant.key)))
  const warmup = { key: 'warmup', kind: 'throughput', messages: 5000, bytes: 60, listeners: 1 }
  warmup.payloads = payloadsFor(warmup)
  for (const variant of allVariants.filter((candidate) => used.has(candidate.key))) {
    await runOnce(context, variant, warmup)
  }

  const report = []
  for (const workload of workloads) {
    if (workload.kind === 'throughput') workload.payloads = payloadsFor(workload)
    const runs = Object.fromEntries(workload.variants.map((variant) => [variant.key, []]))
    for (let run = 0; run < args.runs; run += 1) {
      for (const variant of workload.variants) {
        const result = await runOnce(context, variant, workload)
        runs[variant.key].push(result)
        const figure =
          workload.kind === 'latency'
            ? `p50 ${percentile(result.latencies, 0.5).toFixed(1)} ms, max ${Math.max(...result.latencies, 0).toFixed(1)} ms`
            : `${result.timeMs.toFixed(0)} ms`
        process.stderr.write(
          `[bench] ${workload.key} ${variant.key.padEnd(9)} run ${run + 1}: ${figure}` +
            `${result.timedOut ? ' (STALLED)' : ''}, lost ${result.lost}, ${result.transport}` +
            `${result.warnings.length ? `, server warnings: ${result.warnings.join('; ')}` : ''}` +
            `${process.env.BENCH_DEBUG ? ` ${JSON.stringify(result.detail)}` : ''}\n`,
        )
      }
    }
    workload.payloads = null
    report.push({ workload, runs })
  }
  console.log(formatReport(report))
  console.log(
    `load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} at end`,
  )
  console.log(`total bench time ${((performance.now() - startedAt) / 1000).toFixed(1)} s`)
}

/** One page load, one burst, one result. */
async function runOnce(context, variant, workload) {
  const { tab, lifeline, origin } = context
  context.sequence += 1
  const channel = `bench.${workload.key}.${variant.key}.${context.sequence}`
  const messages = messagesFor(workload, variant)
  const config = { url: lifeline.url, channel, messages, listeners: workload.listeners }
  if (variant.render) config.render = true
  if (variant.transport) config.transport = variant.transport
  if (workload.kind === 'latency') config.latency = true
  await tab.navigate(`${origin}/${variant.page}.html?c=${encodeURIComponent(JSON.stringify(config))}`, 'window.__bench')
  await tab.evaluate('window.__bench.ready.then(() => true)', 20_000)
  // Let mount-time frames and effects finish, then start from a collected heap.
  await tab.evaluate('new Promise((done) => setTimeout(done, 150))')
  await tab.collectGarbage()
  const skew = await clockSkew(tab)
  await tab.enableMetrics()
  const metricsBefore = await tab.metrics()
  const nodeCpuBefore = process.cpuUsage()
  if (args.profile) {
    await tab.call('Profiler.enable')
    await tab.call('Profiler.setSamplingInterval', { interval: 100 })
    await tab.call('Profiler.start')
  }
  await tab.evaluate('window.__bench.arm()')
  const warningsBefore = context.serverWarnings.length

  const publishStart = wallNow()
  if (workload.kind === 'latency') {
    await publishPaced(lifeline, channel, workload)
  } else {
    const { payloads } = workload
    for (let index = 0; index < messages; index += 1) {
      void lifeline.broker.publish(channel, payloads[index])
      if ((index + 1) % PUBLISH_CHUNK === 0) await new Promise((done) => setImmediate(done))
    }
  }
  const publishEnd = wallNow()
  const page = await tab.evaluate('window.__bench.done', RUN_TIMEOUT_MS)
  const nodeCpu = process.cpuUsage(nodeCpuBefore)
  const metricsAfter = await tab.metrics()
  if (args.profile) {
    const { profile } = await tab.call('Profiler.stop')
    await tab.call('Profiler.disable')
    mkdirSync(args.profile, { recursive: true })
    writeFileSync(join(args.profile, `${channel}.cpuprofile`), JSON.stringify(profile))
  }
  return {
    ...page,
    messages,
    // Receive (page clock) minus publish (Node clock), corrected by the measured offset between the two clocks.
    latencies: page.latencies.map((latency) => latency - skew),
    warnings: context.serverWarnings.slice(warningsBefore),
    mainCpuMs: (metricsAfter.ThreadTime - metricsBefore.ThreadTime) * 1000,
    rendererCpuMs: (metricsAfter.ProcessTime - metricsBefore.ProcessTime) * 1000,
    nodeCpuMs: (nodeCpu.user + nodeCpu.system) / 1000,
    detail: Object.fromEntries(
      [
        'ScriptDuration',
        'TaskDuration',
        'LayoutDuration',
        'RecalcStyleDuration',
        'LayoutCount',
        'ThreadTime',
        'ProcessTime',
      ].map((name) => [name, +(metricsAfter[name] - metricsBefore[name]).toFixed(3)]),
    ),
    timeMs: page.doneAt - skew - publishStart,
    pageMs: page.doneAt - page.firstReceivedAt,
    publishMs: publishEnd - publishStart,
  }
}

/**
 * Latency workload: `workload.messages` messages at a steady `workload.rate`, each serialised when it is published with
 * its publish time `t` (this process's performance.timeOrigin + now(), the clock clockSkew compares with the page's).
 * Due times are on a fixed schedule from the start: a late timer is caught up, so the rate holds over the run.
 */
async function publishPaced(lifeline, channel, workload) {
  const intervalMs = 1000 / workload.rate
  const start = performance.now()
  for (let id = 1; id <= workload.messages; id += 1) {
    const wait = start + (id - 1) * intervalMs - performance.now()
    if (wait > 0) await new Promise((done) => setTimeout(done, wait))
    const t = wallNow()
    const head = JSON.stringify({ id, t, pad: '' })
    void lifeline.broker.publish(
      channel,
      JSON.stringify({ id, t, pad: 'x'.repeat(Math.max(0, workload.bytes - head.length)) }),
    )
  }
}

/** Page clock minus Node clock (both performance.timeOrigin + now()), from the fastest of a few round trips. */
async function clockSkew(tab) {
  let best = { rtt: Infinity, skew: 0 }
  for (let sample = 0; sample < 5; sample += 1) {
    const before = wallNow()
    const page = await tab.evaluate('performance.timeOrigin + performance.now()')
    const after = wallNow()
    if (after - before < best.rtt) best = { rtt: after - before, skew: page - (before + after) / 2 }
  }
  return best.skew
}

function payloadsFor(workload) {
  const payloads = new Array(workload.messages)
  for (let id = 1; id <= workload.messages; id += 1) {
    const head = JSON.stringify({ id, pad: '' })
    payloads[id - 1] = JSON.stringify({ id, pad: 'x'.repeat(Math.max(0, workload.bytes - head.length)) })
  }
  return payloads
}

async function bundlePages(srcRoot) {
  // The lib page imports '../../src'; --src swaps in another copy of the library sources.
  const srcSwap = {
    name: 'bench-src',
    setup(builder) {
      builder.onResolve({ filter: /^\.\.\/\.\.\/src$/ }, () => ({ path: join(srcRoot, 'index.ts') }))
    },
  }
  const result = await build({
    entryPoints: { lib: join(root, 'bench/pages/lib-page.tsx'), plain: join(root, 'bench/pages/plain-page.ts') },
    bundle: true,
    write: false,
    outdir: '/bench-pages',
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    // Readable function names in profiles.
    minify: !args.profile,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [srcSwap],
    logLevel: 'error',
  })
  return Object.fromEntries(result.outputFiles.map((file) => [`/${file.path.split('/').pop()}`, file.text]))
}

async function bundleServer(srcRoot) {
  const outfile = join(benchTmp, 'server.mjs')
  await bundleForNode(join(srcRoot, 'server/index.ts'), outfile)
  return outfile
}

async function servePages(pages) {
  const html = (script) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head>` +
    `<body><div id="root"></div><script src="${script}"></script></body></html>`
  const routes = {
    '/plain.html': ['text/html', html('/plain.js')],
    '/lib.html': ['text/html', html('/lib.js')],
    '/plain.js': ['text/javascript', pages['/plain.js']],
    '/lib.js': ['text/javascript', pages['/lib.js']],
  }
  const server = createServer((request, response) => {
    const route = routes[new URL(request.url ?? '/', 'http://localhost').pathname]
    if (!route) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': `${route[0]}; charset=utf-8`, 'cache-control': 'no-store' })
    response.end(route[1])
  })
  await new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', done)
  })
  return { server, origin: `http://127.0.0.1:${server.address().port}` }
}

function formatReport(report) {
  const lines = []
  for (const { workload, runs } of report) {
    if (workload.kind === 'latency') {
      lines.push(...formatLatency(workload, runs), '')
      continue
    }
    const { variants } = workload
    const summaries = variants.map((variant) => ({ variant, summary: summarise(runs[variant.key]) }))
    const plain = summaries[0].summary
    const lib = summaries[1].summary
    const ratio = lib.timeMs / plain.timeMs
    const longPoll = summaries.find(({ variant }) => variant.transport === 'longpoll')
    const fewer =
      longPoll && longPoll.summary.messages !== workload.messages
        ? `; long-poll row: ${longPoll.summary.messages.toLocaleString('en-US')} messages, ratio per message`
        : ''
    lines.push(`== ${workload.messages.toLocaleString('en-US')} ${workload.title} (median of ${args.runs}${fewer})`)
    lines.push(
      table(
        [
          'variant',
          'time ms',
          'min-max ms',
          'msgs/s',
          'ratio',
          'page ms',
          'publish ms',
          'lost',
          'out of order',
          'gaps',
        ],
        summaries.map(({ variant, summary }) => [
          variant.label,
          ...throughputColumns(summary),
          // Time per message relative to plain: the plain time ratio when both ran the same number of messages.
          (summary.timeMs / summary.messages / (plain.timeMs / plain.messages)).toFixed(2),
          ...tailColumns(summary, variant),
        ]),
      ),
    )
    lines.push(
      table(
        [
          'variant',
          'main-thread CPU ms',
          'CPU ratio',
          'renderer CPU ms',
          'node CPU ms',
          'commits',
          'heap peak MB',
          'heap +MB',
        ],
        summaries.map(({ variant, summary }) => [
          variant.label,
          ...costColumns(
            summary,
            variant,
            (summary.mainCpuMs / summary.messages / (plain.mainCpuMs / plain.messages)).toFixed(2),
          ),
        ]),
      ),
    )
    const verdict = ratio <= workload.target ? 'met' : 'NOT met'
    lines.push(`target: useChannel within ${workload.target.toFixed(2)}x of plain -> ${ratio.toFixed(2)}x, ${verdict}`)
    lines.push(
      `commits <= 1 per animation frame per hook: ${lib.perFrameOk ? 'yes' : 'NO'} (busiest hook ${lib.hookCommits} ` +
        `commits over ${lib.ticks} rAF ticks, median; commits sharing a frame with the same hook's previous one: ` +
        `${lib.sameFrameMax} at most; React commits per frame ${(lib.commits / Math.max(1, lib.ticks)).toFixed(1)})`,
    )
    if (longPoll) lines.push(longPollNote(longPoll.summary, runs[longPoll.variant.key]))
    const stalled = Object.values(runs)
      .flat()
      .filter((run) => run.timedOut).length
    if (stalled) {
      lines.push(
        `WARNING: ${stalled} run(s) stalled (last message never arrived); their time is up to the last progress`,
      )
    }
    const rounds = runs.plain.map((_run, index) =>
      variants.map((variant) => `${variant.key} ${runs[variant.key][index].timeMs.toFixed(0)}`).join(' / '),
    )
    const warnings = Object.values(runs)
      .flat()
      .flatMap((run) => run.warnings)
    if (warnings.length)
      lines.push(`WARNING: the server logged ${warnings.length} warning(s): ${[...new Set(warnings)].join('; ')}`)
    lines.push(`runs (ms, in order): ${rounds.join(', ')}`)
    lines.push('')
  }
  lines.push(
    'time: first message published -> last message counted (plain) / rendered: committed by React (lib), written to ' +
      'the DOM (plain + DOM); page ms: first message received -> same end; publish ms: the server publishing loop; ' +
      'lost, out of order and gaps (onGap calls): worst run, summed over listeners; commits: React commits (lib), ' +
      'frames that wrote the DOM (plain + DOM); heap: performance.memory.usedJSHeapSize (precise), peak sampled every ' +
      '2048 messages and every frame, "+MB" above the heap after a forced GC just before the burst. CPU (less ' +
      'sensitive to other load than wall time): main-thread and whole-renderer CPU time from CDP ' +
      'Performance.getMetrics (ThreadTime, ProcessTime; 10 ms resolution); node CPU: this process (server, publisher, ' +
      'CDP). "plain + DOM per frame" is information, not a target baseline. useChannel (long-poll): the same page ' +
      'with the client on HTTP long-poll from its first connection; if it ran fewer messages than the others, its ratio ' +
      'and CPU ratio compare time per message. Latency: publish (Node) -> handled in the page (onmessage / useChannel ' +
      'onMessage, before any render), corrected by the measured clock offset; each percentile is the median over the ' +
      "runs of that run's percentile.",
  )
  return lines.join('\n')
}

/** The long-poll row's note: transport actually used, publisher, server refusals. */
function longPollNote(summary, runs) {
  const transports = [...new Set(runs.map((run) => run.transport))].join(', ')
  const warnings = runs.reduce((total, run) => total + run.warnings.length, 0)
  return (
    `long-poll: ${summary.messages.toLocaleString('en-US')} messages per run, published the same way (unpaced, ` +
    `${PUBLISH_CHUNK} per event-loop turn; the connection's queue is capped by maxBufferedBytes, ` +
    `${(MAX_BUFFERED_BYTES / 1024 / 1024).toFixed(0)} MiB); transport seen by the page: ${transports}; ` +
    `server refusals or closes logged: ${warnings}`
  )
}

function summarise(runs) {
  const mb = (bytes) => bytes / 1024 / 1024
  const timeMs = median(runs.map((run) => run.timeMs))
  const { messages } = runs[0]
  return {
    timeMs,
    messages,
    minMs: Math.min(...runs.map((run) => run.timeMs)),
    maxMs: Math.max(...runs.map((run) => run.timeMs)),
    rate: messages / (timeMs / 1000),
    pageMs: median(runs.map((run) => run.pageMs)),
    publishMs: median(runs.map((run) => run.publishMs)),
    commits: median(runs.map((run) => run.commits)),
    hookCommits: median(runs.map((run) => run.hookCommitsMax)),
    perFrameOk: runs.every((run) => run.sameFrameCommits === 0 && run.hookCommitsMax <= run.ticks),
    ticks: median(runs.map((run) => run.ticks)),
    sameFrameMax: Math.max(...runs.map((run) => run.sameFrameCommits)),
    lost: Math.max(...runs.map((run) => run.lost)),
    outOfOrder: Math.max(...runs.map((run) => run.outOfOrder)),
    gaps: Math.max(...runs.map((run) => run.gaps)),
    mainCpuMs: median(runs.map((run) => run.mainCpuMs)),
    rendererCpuMs: median(runs.map((run) => run.rendererCpuMs)),
    nodeCpuMs: median(runs.map((run) => run.nodeCpuMs)),
    heapPeak: median(runs.map((run) => mb(run.heapPeak))),
    heapGrowth: median(runs.map((run) => mb(run.heapPeak - run.heapBefore))),
  }
}

/** The latency workload's table: per variant, the median over the runs of each run's percentiles. */
function formatLatency(workload, runs) {
  const points = [
    ['min', 0],
    ['p50', 0.5],
    ['p95', 0.95],
    ['p99', 0.99],
    ['max', 1],
  ]
  const rows = workload.variants.map((variant) => {
    const variantRuns = runs[variant.key]
    const cells = points.map(([, fraction]) =>
      median(variantRuns.map((run) => percentile(run.latencies, fraction))).toFixed(1),
    )
    // Achieved publish rate: messages - 1 intervals between the first and the last publish.
    const rate = median(variantRuns.map((run) => (run.messages - 1) / (Math.max(1, run.publishMs) / 1000)))
    return [
      variant.label,
      ...cells,
      String(Math.min(...variantRuns.map((run) => run.latencies.length))),
      Math.round(rate).toLocaleString('en-US'),
      String(Math.max(...variantRuns.map((run) => run.lost))),
      String(Math.max(...variantRuns.map((run) => run.outOfOrder))),
      variant.page === 'lib' ? String(Math.max(...variantRuns.map((run) => run.gaps))) : '-',
      [...new Set(variantRuns.map((run) => run.transport))].join(', '),
    ]
  })
  const lines = [
    `== ${workload.messages.toLocaleString('en-US')} messages, ${workload.title}, published at ${workload.rate} msgs/s ` +
      `(median of ${args.runs})`,
    table(
      [
        'variant',
        'min ms',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'samples',
        'published msgs/s',
        'lost',
        'out of order',
        'gaps',
        'transport',
      ],
      rows,
    ),
  ]
  const stalled = Object.values(runs)
    .flat()
    .filter((run) => run.timedOut).length
  if (stalled) lines.push(`WARNING: ${stalled} run(s) stalled (last message never arrived)`)
  const warnings = Object.values(runs)
    .flat()
    .flatMap((run) => run.warnings)
  if (warnings.length)
    lines.push(`WARNING: the server logged ${warnings.length} warning(s): ${[...new Set(warnings)].join('; ')}`)
  return lines
}

/** Nearest-rank percentile (`fraction` 0 is the minimum, 1 the maximum); 0 without samples. */
function percentile(values, fraction) {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]
}

function throughputColumns(summary) {
  return [
    summary.timeMs.toFixed(0),
    `${summary.minMs.toFixed(0)}-${summary.maxMs.toFixed(0)}`,
    Math.round(summary.rate).toLocaleString('en-US'),
  ]
}

function tailColumns(summary, variant) {
  return [
    summary.pageMs.toFixed(0),
    summary.publishMs.toFixed(0),
    String(summary.lost),
    String(summary.outOfOrder),
    variant.page === 'lib' ? String(summary.gaps) : '-',
  ]
}

function costColumns(summary, variant, cpuRatio) {
  return [
    summary.mainCpuMs.toFixed(0),
    cpuRatio,
    summary.rendererCpuMs.toFixed(0),
    summary.nodeCpuMs.toFixed(0),
    variant.key === 'plain' ? '-' : String(summary.commits),
    summary.heapPeak.toFixed(1),
    summary.heapGrowth.toFixed(1),
  ]
}

function table(header, rows) {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  const line = (cells) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function wallNow() {
  return performance.timeOrigin + performance.now()
}

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise((_done, fail) => {
      timer = setTimeout(() => fail(new Error(`${what} timed out after ${ms} ms`)), ms)
    }),
  ])
}

function parseArgs(argv) {
  const parsed = {
    runs: 3,
    quick: false,
    only: null,
    src: null,
    profile: null,
    maxBuffered: null,
    domBaseline: true,
    longPoll: true,
    priority: false,
  }
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]
    if (arg === '--quick') parsed.quick = true
    else if (arg === '--runs') parsed.runs = Math.max(1, Number.parseInt(argv[++index] ?? '', 10) || 3)
    else if (arg === '--only') parsed.only = parseOnly(argv[++index] ?? '')
    else if (arg === '--no-longpoll') parsed.longPoll = false
    else if (arg === '--src') parsed.src = argv[++index] ?? null
    else if (arg === '--priority') parsed.priority = true
    else if (arg === '--no-dom-baseline') parsed.domBaseline = false
    else if (arg === '--max-buffered') parsed.maxBuffered = Number.parseInt(argv[++index] ?? '', 10) || null
    else if (arg === '--profile') parsed.profile = resolve(argv[++index] ?? '.tmp/bench-profiles')
    else
      throw new Error(
        `unknown option ${arg} (use --runs N, --quick, --only small,1kb,fanout,latency,longpoll, --src DIR, --profile DIR, --max-buffered BYTES, --no-longpoll, --no-dom-baseline, --priority)`,
      )
  }
  return parsed
}

/** `--only` names workloads; `longpoll` stands for those with a long-poll row (small, 1kb, latency). */
function parseOnly(value) {
  const names = ['small', '1kb', 'fanout', 'latency', 'cluster']
  const selected = new Set()
  for (const name of value.split(',').filter(Boolean)) {
    if (name === 'longpoll') for (const key of ['small', '1kb', 'latency']) selected.add(key)
    else if (names.includes(name)) selected.add(name)
    else throw new Error(`--only: unknown workload ${name} (use ${names.join(', ')}, longpoll)`)
  }
  if (selected.size === 0) throw new Error(`--only: name at least one of ${names.join(', ')}, longpoll`)
  return [...selected]
}
