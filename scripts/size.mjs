#!/usr/bin/env node
// Bundle-size budgets: what an app pays, minified and gzipped, for one import from react-lifeline.
// zustand is bundled in (an app pays for it through us); react and react-dom are the app's own.
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * The measured entries. `budget` is the gzip size limit in bytes (1 kB = 1000 bytes).
 *
 * useWebSocket measures 9.85 kB, held at 10 kB rather than the 4.5 kB first aimed for (a socket, backoff and JSON
 * parse, what peer hooks of that size ship). It also bundles zustand, an outbox with delivery confirmation (drain and
 * settle, heartbeat pongs), TTL, overflow and retry; the close-code policy table with token refresh, rate-limit and
 * session-expiry handling; the heartbeat; log redaction; runtime URL and message validation; and the hooks that
 * let a protocol (channels) and an outbox storage plug in without being bundled when unused.
 * useChannel adds the lifeline protocol, channel registry and channel store on top of the client.
 * Since the fallback issue both also carry the handshake-diagnostics wiring and the transport switch (+0.8 kB: budgets
 * 10.8 and 12.2 kB); the diagnosis itself (2 kB) loads on first use, behind a dynamic import, and is not counted.
 * Error classes name themselves with string literals so stack traces survive an app's minifier (+54 B gzip:
 * useWebSocket's budget 10.85 kB; docs/decisions.md, "Packaging").
 * The hardening issue validates every field of every inbound frame, bounds JSON depth both ways and coalesces a flood
 * of malformed frames into one store update (+0.3 kB on useWebSocket, +0.55 kB on useChannel); the installs-cleanly
 * issue adds the channel status 'resubscribing' and LifelineProvider's protocol="lifeline" shorthand for server
 * components (+0.17 kB on useChannel; an app using the provider with the raw protocol now bundles lifelineProtocol,
 * ~1.85 kB, until the core-reshaping issue turns plug-ins into factories); the type-checked lint guards (no bare
 * `document` in core, a stable useMemo key) +20 B. Ceilings 11.18 and 13.0 kB.
 *
 * Item 9 of the "installs cleanly" issue raises the components' ceiling from 3.9 to 4.4 kB: composition (one countdown
 * and one Retry now per client, +0.17 kB), readable JSON previews in the offline queue (+0.17 kB), `formatItem` and
 * boxless empty roots (+0.1 kB).
 * The core-reshaping issue (10) raises useWebSocket's ceiling from 11.18 to 13.1 kB and useChannel's from 13.0 to
 * 15.15 kB, against its own goal of 8.0 kB, which stays. What the bytes bought (`npm run size -- --modules` lists every
 * module's share): client.ts split into interpreter, heartbeat, delivery, connection, token source and timer set
 * (+1.1 kB: the interpreter's generic activities, the lifecycle events between parts, property names a minifier
 * cannot shorten); the diagnosis moved out to a plug-in chunk (-0.32 kB); clients made in useState and inert until
 * retained, one idle stand-in for server rendering, every callback option the latest (+0.26 kB, two bugs fixed); the
 * raw-mode gaps of issue 14 item 1 (+0.67 kB: `share`, `filter`, a URL function, `shouldReconnect`, a read-only
 * `getWebSocket()`, drain + settle when pongs never match); the UNAVAILABLE deferral of issue 11 (+0.1 kB).
 * What stands between 13.1 and 8.0 kB: the transition table (5.1 kB minified), the outbox with its delivery
 * confirmation (3.6 kB), the connection and its protocol link (3.3 kB), the React glue with zustand (2.9 kB). Reaching
 * 8 kB means making the outbox and the close-code policy plug-ins a raw app opts into, not trimming.
 *
 * Issue 14 item 3 (the Server-Sent Events transport) adds a `transport` slot to every client: the connection creates
 * the plug-in's transport, passes an event's type and id, and takes a final refusal (`fail`), the client refuses
 * `send` (+0.11 kB up front: ceilings 13.1 → 13.25 kB, 15.15 → 15.3 kB; compat 14.35 → 14.68 kB, with the event type
 * passed to `MessageEvent`, the `events` handlers, and `fromSocketIO`'s URL and Engine.IO heartbeat, which
 * react-use-websocket's own `useWebSocket` takes too). The transport and its parser are not up front (`notUpFront`):
 * only `eventSource()`/`useEventSource` bring them (useEventSource: 15.28 kB with `onGap`, useWebSocket + 2.05 kB).
 * A devtools bug fix (the Channels tab observes every channel through `ChannelRegistry.observe` instead of joining it,
 * so a channel the app leaves is unsubscribed while the panel is open) adds 56 B to useChannel: ceiling 15.3 → 15.341 kB.
 *
 * `budget` is a ceiling at today's figure that stops creep; `goal` is what an issue aims for, printed beside the
 * figure and never moved to make a row pass (useWebSocket: 8.0 kB, the core-reshaping issue; components: 3.0 kB).
 *
 * components is what ConnectionBanner, ReconnectCountdown and OfflineQueue add to an app that already uses the hooks
 * (the difference of two bundles). The 3 kB first aimed for is not met: 3.8 kB. Half a kilobyte is their English
 * texts (a sentence for every state, close-code meaning and handshake diagnosis, all overridable), the rest 22 parts
 * that each forward refs, spread props, compose handlers and carry data-state, two live regions per announcing
 * component, the show-after delay and dismissal, a second-aligned countdown, and the outbox list.
 *
 * compat/react-use-websocket (issue 14) is `import useWebSocket from 'react-lifeline/compat/react-use-websocket'`:
 * useWebSocket plus react-use-websocket's option mapping, ReadyState and the one-render-per-message pump (+1.2 kB),
 * 14.34 kB. Beside it, react-use-websocket itself (4.13.0, a devDependency pinned by the lockfile) measured with the
 * same settings: 6.8 kB (the issue quoted 6.6 kB). Its ceiling is its own figure: the row is a reference, not ours.
 * `eventSourceOptions` given to the compat `useWebSocket` throws `NOT_SUPPORTED` naming `useEventSource` (+27 B, ceiling
 * 14.68 → 14.7 kB); reading the stream there instead would bring the event-stream transport up front (+1.9 kB).
 * Two shared-client fixes cost every hook ~30–50 B (ceilings: useWebSocket 13.25 → 13.28, useEventSource 15.29 → 15.33,
 * useChannel 15.341 → 15.395, compat 14.7 → 14.745 kB): the option functions of a shared client are those of the last
 * component mounted that still uses it (they were the first one's, called even after it unmounted), and a holder that
 * arrives while the client has failed starts it again (a component mounting onto a shared client that gave up got a
 * dead connection).
 * The compat entry +50 B more (14.745 → 14.8 kB): `onError` is no longer called for a close (react-use-websocket calls
 * it for error events only), and `retryOnError` counts an error event followed by a clean close (mock servers).
 * And +44 B (14.8 → 14.85 kB): `getWebSocket().send`/`.close` go through the client (they threw; apps that closed
 * through the socket crashed), `close` a no-op when shared, as react-use-websocket does.
 * +8 B (14.85 → 14.86 kB): a message that arrives once the previous one rendered is set at once, not a task later.
 * @type {ReadonlyArray<import('./size.d.mts').SizeEntry>}
 */
export const sizeEntries = [
  {
    name: 'useWebSocket',
    exports: ['useWebSocket'],
    from: 'src/index.ts',
    budget: 13_280,
    goal: 8_000,
    // Plug-ins a raw app pays for only when it imports them (the diagnosis loads on the first failed handshake).
    notUpFront: [
      'src/core/diagnosis-runner.ts',
      'src/core/diagnose.ts',
      'src/core/fallback.ts',
      'src/core/lifeline-protocol.ts',
      'src/core/sse-transport.ts',
      'src/core/sse-parser.ts',
    ],
  },
  {
    name: 'useEventSource',
    exports: ['useEventSource'],
    from: 'src/index.ts',
    budget: 15_330,
  },
  {
    name: 'useChannel',
    exports: ['useChannel', 'lifelineProtocol', 'LifelineProvider'],
    from: 'src/index.ts',
    budget: 15_395,
  },
  {
    name: 'compat/react-use-websocket',
    exports: ['default'],
    from: 'src/compat/react-use-websocket.ts',
    budget: 14_860,
    notUpFront: [
      'src/core/diagnosis-runner.ts',
      'src/core/diagnose.ts',
      'src/core/lifeline-protocol.ts',
      'src/core/sse-transport.ts',
      'src/core/sse-parser.ts',
    ],
  },
  {
    name: 'react-use-websocket 4.13.0 (reference)',
    exports: ['default'],
    from: 'node_modules/react-use-websocket/dist/index.js',
    budget: 6_800,
  },
  {
    name: 'components (added to the hooks)',
    exports: ['ConnectionBanner', 'ReconnectCountdown', 'OfflineQueue'],
    baseline: ['useWebSocket', 'useChannel', 'LifelineProvider'],
    from: 'src/index.ts',
    budget: 4_400,
    goal: 3_000,
  },
  {
    // Development: the entry's stub up front, the panel (timeline, frames, outbox, channels, actions) loaded on first
    // render. Ceilings at the issue-13 figures: 217 B up front, 14.97 kB on use with simulateFault (the panel with the
    // core and React-layer code it shares, which an app using the hooks already has: ~9 kB more on top of useWebSocket).
    name: 'devtools (development)',
    exports: ['LifelineDevtools'],
    from: 'src/devtools/index.ts',
    nodeEnv: 'development',
    budget: 220,
    lazyBudget: 15_000,
  },
  {
    // Production: what rendering <LifelineDevtools /> adds to an app (issue 13: 0 B ± 100 B), and no panel chunk.
    name: 'devtools (production, added to an app)',
    exports: ['LifelineDevtools'],
    from: 'src/devtools/index.ts',
    baseline: ['useWebSocket', 'LifelineProvider'],
    baselineFrom: 'src/index.ts',
    budget: 100,
    lazyBudget: 0,
  },
]

/** Raised when an entry cannot be measured; `code` is stable. */
export class SizeMeasurementError extends Error {
  code = 'SIZE_MEASUREMENT_FAILED'
  constructor(message, options) {
    super(message, options)
    this.name = 'SizeMeasurementError'
  }
}

const NO_MATCHING_EXPORT = /No matching export in "[^"]*" for import "([^"]+)"/

/**
 * Bundles one entry the way an app bundler would and returns its sizes.
 * @param {import('./size.d.mts').SizeEntry} entry
 * @returns {Promise<import('./size.d.mts').SizeResult>}
 */
export async function measureEntry(entry) {
  if (entry.baseline) {
    // What `exports` add to an app that already imports `baseline`: every size is the difference of the two bundles.
    const baseFrom = entry.baselineFrom ?? entry.from
    const [full, base] = await Promise.all([
      baseFrom === entry.from
        ? measureEntry({ ...entry, exports: [...entry.baseline, ...entry.exports], baseline: undefined })
        : measureEntry({ ...entry, baseline: undefined, also: { exports: entry.baseline, from: baseFrom } }),
      measureEntry({ ...entry, exports: entry.baseline, from: baseFrom, baseline: undefined }),
    ])
    const added = (key, value) =>
      typeof value === 'number' && !['budget', 'goal', 'lazyBudget'].includes(key) ? value - base[key] : value
    return Object.fromEntries(Object.entries(full).map(([key, value]) => [key, added(key, value)]))
  }
  let result
  try {
    result = await build({
      stdin: {
        contents: [...(entry.also ? [entry.also] : []), entry]
          .map((source) => `export { ${source.exports.join(', ')} } from ${JSON.stringify(`./${source.from}`)}\n`)
          .join(''),
        resolveDir: root,
        sourcefile: `size-entry-${entry.name}.js`,
        loader: 'js',
      },
      bundle: true,
      write: false,
      // Code behind a dynamic import() (handshake diagnostics) is a chunk of its own that the app loads on first use,
      // as every app bundler does: the budget counts what loads up front.
      splitting: true,
      outdir: join(root, '.tmp', 'size-out'),
      format: 'esm',
      minify: true,
      treeShaking: true,
      platform: 'browser',
      target: 'es2020',
      external: ['react', 'react-dom', 'react/jsx-runtime'],
      define: { 'process.env.NODE_ENV': JSON.stringify(entry.nodeEnv ?? 'production') },
      logLevel: 'silent',
      legalComments: 'none',
      metafile: true,
    })
  } catch (error) {
    const messages = Array.isArray(error?.errors) ? error.errors.map((message) => message.text) : []
    const missing = messages.map((text) => NO_MATCHING_EXPORT.exec(text)?.[1]).filter(Boolean)
    if (missing.length > 0) {
      throw new SizeMeasurementError(`${missing.join(', ')} is not exported from ${entry.from}`, { cause: error })
    }
    throw new SizeMeasurementError(
      `could not bundle "${entry.name}": ${messages.join('; ') || String(error?.message ?? error)}`,
      { cause: error },
    )
  }
  const files = new Map(result.outputFiles.map((file) => [basename(file.path), file.contents]))
  const entryName = 'stdin.js'
  if (!files.has(entryName)) throw new SizeMeasurementError(`esbuild produced no output for "${entry.name}"`)
  // The entry and the chunks it imports statically (`from"./chunk.js"`, `import"./chunk.js"`), not `import("./x.js")`.
  const upFront = new Set()
  const visit = (name) => {
    if (upFront.has(name) || !files.has(name)) return
    upFront.add(name)
    const text = new TextDecoder().decode(files.get(name))
    for (const match of text.matchAll(/(?:from|import)\s*["']\.\/([^"']+)["']/g)) visit(match[1])
  }
  visit(entryName)
  const contents = Buffer.concat([...upFront].map((name) => files.get(name)))
  const lazy = [...files.keys()].filter((name) => !upFront.has(name) && name.endsWith('.js'))
  // Minified bytes each source module puts into the up-front files (esbuild's metafile), largest first.
  const modules = {}
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (!upFront.has(basename(path))) continue
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      modules[input] = (modules[input] ?? 0) + bytesInOutput
    }
  }
  return {
    modules,
    name: entry.name,
    minified: contents.byteLength,
    gzip: gzipSync(contents, { level: 9 }).byteLength,
    lazyGzip: lazy.reduce((sum, name) => sum + gzipSync(files.get(name), { level: 9 }).byteLength, 0),
    budget: entry.budget,
    goal: entry.goal,
    lazyBudget: entry.lazyBudget,
  }
}

/**
 * Renders results (or per-entry errors) as a plain-text table.
 * @param {ReadonlyArray<import('./size.d.mts').SizeResult | { name: string, budget: number, error: Error }>} rows
 */
export function formatTable(rows) {
  const header = [
    'entry',
    'minified (B)',
    'gzip (B)',
    'budget gzip (B)',
    'goal gzip (B)',
    'loaded on use gzip (B)',
    'status',
  ]
  const goalOf = (row) => (row.goal === undefined ? '-' : String(row.goal))
  const goalNote = (row) =>
    row.goal === undefined || row.gzip <= row.goal ? '' : `; goal missed by ${String(row.gzip - row.goal)}`
  const lazyNote = (row) =>
    row.lazyBudget === undefined
      ? ''
      : row.lazyGzip <= row.lazyBudget
        ? `; on use ok (≤ ${row.lazyBudget})`
        : `; on use OVER ${row.lazyBudget} by ${row.lazyGzip - row.lazyBudget}`
  const body = rows.map((row) =>
    'error' in row
      ? [row.name, '-', '-', String(row.budget), goalOf(row), '-', `ERROR: ${row.error.message}`]
      : [
          row.name,
          String(row.minified),
          String(row.gzip),
          String(row.budget),
          goalOf(row),
          String(row.lazyGzip ?? 0),
          (row.gzip <= row.budget ? 'ok' : `OVER by ${row.gzip - row.budget}`) + goalNote(row) + lazyNote(row),
        ],
  )
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)))
  const line = (cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n')
}

async function main() {
  const rows = []
  for (const entry of sizeEntries) {
    try {
      rows.push(await measureEntry(entry))
    } catch (error) {
      if (!(error instanceof SizeMeasurementError)) throw error
      rows.push({ name: entry.name, budget: entry.budget, goal: entry.goal, error })
    }
  }
  process.stdout.write(`${formatTable(rows)}\n`)
  if (process.argv.includes('--modules')) {
    for (const row of rows) {
      if ('error' in row) continue
      process.stdout.write(`\n${row.name}: minified bytes per module, up front\n`)
      const sorted = Object.entries(row.modules).sort((a, b) => b[1] - a[1])
      for (const [input, bytes] of sorted) process.stdout.write(`  ${String(bytes).padStart(7)}  ${input}\n`)
    }
  }
  const failed = rows.some(
    (row) => 'error' in row || row.gzip > row.budget || (row.lazyBudget !== undefined && row.lazyGzip > row.lazyBudget),
  )
  process.exitCode = failed ? 1 : 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main()
}
