#!/usr/bin/env node
// The connection state diagram (docs/state-diagram.svg), drawn from the transition table in src/core/machine.ts.
// `node scripts/state-diagram.mjs` writes it; `--check` exits 1 when the file on disk is not what the table gives.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { deriveTable } from './state-diagram-table.mjs'

export { deriveTable }

const root = fileURLToPath(new URL('..', import.meta.url))

/** Where the diagram is written, relative to the repository root. */
export const diagramPath = 'docs/state-diagram.svg'

/** Bundles the machine with esbuild (Node cannot import TypeScript) and imports the bundle from memory. */
export async function loadMachine() {
  const result = await build({
    stdin: {
      contents:
        "export { machine, transition, initialMachineState } from './src/core/machine.ts'\n" +
        "export { defaultCloseCodes } from './src/core/close-codes.ts'\n",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].text
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)
}

// Text is monospace so that widths can be computed without a font: 12px glyphs are 0.6em wide.
const FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace'
const CHAR = 7.2
const LINE = 17
const NODE_H = 34
const COL_GAP = 260
const ROW_GAP = 190
const BADGE_R = 10
const MARGIN = 24

const palette = {
  open: ['#e6f4ea', '#1e7b34'],
  failed: ['#fce8e6', '#b3261e'],
  reconnecting: ['#fff4e0', '#9a5b00'],
  offline: ['#fff4e0', '#9a5b00'],
}
const neutral = ['#eef1f6', '#3b4a5e']

const escapeXml = (text) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const num = (value) => (Math.round(value * 10) / 10).toString()

/** Twice the signed area of (a, b, c): its sign says on which side of a→b the point c lies. */
const turn = (a, b, c) => (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)

function segmentsCross(a, b, c, d) {
  return turn(a, b, c) * turn(a, b, d) < 0 && turn(c, d, a) * turn(c, d, b) < 0
}

function distanceToSegment(point, a, b) {
  const length = (b.x - a.x) ** 2 + (b.y - a.y) ** 2
  const t = Math.max(0, Math.min(1, ((point.x - a.x) * (b.x - a.x) + (point.y - a.y) * (b.y - a.y)) / length))
  return Math.hypot(point.x - (a.x + t * (b.x - a.x)), point.y - (a.y + t * (b.y - a.y)))
}

/**
 * Puts the states on the cells of a near-square grid, the initial state in the top row: starting from table order,
 * from a few starting points it swaps cells while that lowers the cost of straight edges (length, crossings, and passing over another state).
 * No randomness, so the same table always gets the same layout.
 */
function placeStates(table) {
  const links = []
  for (const row of table.transitions) {
    if (row.from === row.to) continue
    const [a, b] = [row.from, row.to].sort()
    if (!links.some((link) => link[0] === a && link[1] === b)) links.push([a, b])
  }
  const columns = Math.ceil(Math.sqrt(table.states.length))
  const rows = Math.ceil(table.states.length / columns)
  const cellCount = columns * rows
  const cellPoint = (cell) => ({ x: cell % columns, y: Math.floor(cell / columns) * 0.75 })
  const cost = (cellOf) => {
    let total = cellOf.get(table.initial) < columns ? 0 : 100
    const segments = links.map(([a, b]) => [cellPoint(cellOf.get(a)), cellPoint(cellOf.get(b)), a, b])
    segments.forEach(([p, q, a, b], index) => {
      total += Math.hypot(p.x - q.x, p.y - q.y)
      for (const [state, cell] of cellOf) {
        if (state !== a && state !== b && distanceToSegment(cellPoint(cell), p, q) < 0.3) total += 4
      }
      for (const [r, s, c, d] of segments.slice(index + 1)) {
        if (a !== c && a !== d && b !== c && b !== d && segmentsCross(p, q, r, s)) total += 1
      }
    })
    return total
  }
  const climb = (start) => {
    let cellOf = start
    let current = cost(cellOf)
    for (let improved = true; improved;) {
      improved = false
      for (const state of table.states) {
        for (let cell = 0; cell < cellCount; cell += 1) {
          const other = table.states.find((name) => cellOf.get(name) === cell)
          if (other === state) continue
          const next = new Map(cellOf)
          next.set(state, cell)
          if (other) next.set(other, cellOf.get(state))
          const nextCost = cost(next)
          if (nextCost < current - 1e-9) {
            cellOf = next
            current = nextCost
            improved = true
          }
        }
      }
    }
    return { cellOf, current }
  }
  // Several starts (the table order shifted by one cell each time) escape the worst local minima.
  let best = null
  for (let shift = 0; shift < cellCount; shift += 1) {
    const result = climb(new Map(table.states.map((state, index) => [state, (index + shift) % cellCount])))
    if (!best || result.current < best.current - 1e-9) best = result
  }
  const { cellOf } = best
  const nodeWidth = Math.max(...table.states.map((state) => state.length)) * CHAR + 28
  const nodes = new Map()
  for (const state of table.states) {
    const cell = cellOf.get(state)
    const x = MARGIN + COL_GAP / 2 + (cell % columns) * COL_GAP
    const y = MARGIN + 50 + Math.floor(cell / columns) * ROW_GAP + NODE_H / 2
    nodes.set(state, { x, y, w: nodeWidth, h: NODE_H })
  }
  return { nodes, width: columns * COL_GAP + 2 * MARGIN, height: MARGIN + 50 + (rows - 1) * ROW_GAP + NODE_H + 50 }
}

const inBox = (point, box, pad = 0) =>
  Math.abs(point.x - box.x) <= box.w / 2 + pad && Math.abs(point.y - box.y) <= box.h / 2 + pad

function bezier(p0, c, p1, t) {
  const u = 1 - t
  return { x: u * u * p0.x + 2 * u * t * c.x + t * t * p1.x, y: u * u * p0.y + 2 * u * t * c.y + t * t * p1.y }
}

/**
 * One curved edge per (from, to) pair, numbered in table order. Each tries bends from slight to wide, either side,
 * and keeps the first whose curve misses every other node and whose number badge misses the badges placed so far.
 */
function routeEdges(pairs, nodes) {
  const badges = []
  const bends = [0.12, -0.12, 0.25, -0.25, 0.38, -0.38, 0.5, -0.5]
  return pairs.map((pair) => {
    const from = nodes.get(pair.from)
    const to = nodes.get(pair.to)
    const dx = to.x - from.x
    const dy = to.y - from.y
    const length = Math.hypot(dx, dy)
    const normal = { x: -dy / length, y: dx / length }
    let best = null
    for (const bend of bends) {
      const c = { x: (from.x + to.x) / 2 + normal.x * bend * length, y: (from.y + to.y) / 2 + normal.y * bend * length }
      let start = 0
      while (start < 1 && inBox(bezier(from, c, to, start), from)) start += 0.005
      let end = 1
      while (end > 0 && inBox(bezier(from, c, to, end), to)) end -= 0.005
      let cost = 0
      for (let step = 0; step <= 40; step += 1) {
        const point = bezier(from, c, to, start + ((end - start) * step) / 40)
        for (const [state, box] of nodes) {
          if (state !== pair.from && state !== pair.to && inBox(point, box, 6)) cost += 10
        }
      }
      // The badge sits mid-curve unless another badge or a state is there.
      let badge = null
      let badgeCost = Infinity
      for (const at of [0.5, 0.42, 0.58, 0.34, 0.66]) {
        const point = bezier(from, c, to, start + (end - start) * at)
        let clash = 0
        for (const other of badges) if (Math.hypot(other.x - point.x, other.y - point.y) < BADGE_R * 2 + 4) clash += 5
        for (const box of nodes.values()) if (inBox(point, box, BADGE_R + 2)) clash += 5
        if (clash < badgeCost) [badge, badgeCost] = [point, clash]
        if (clash === 0) break
      }
      cost += badgeCost
      if (!best || cost < best.cost) best = { cost, c, start, end, badge }
      if (cost === 0) break
    }
    badges.push(best.badge)
    return { ...pair, ...best, p0: bezier(from, best.c, to, best.start), p1: bezier(from, best.c, to, best.end) }
  })
}

/** The tangent at the end of the curve, for the arrowhead. */
function arrowHead(edge, nodes) {
  const to = nodes.get(edge.to)
  const from = nodes.get(edge.from)
  const before = bezier(from, edge.c, to, edge.end - 0.02)
  const angle = Math.atan2(edge.p1.y - before.y, edge.p1.x - before.x)
  const wing = (turn) => ({
    x: edge.p1.x - 9 * Math.cos(angle + turn),
    y: edge.p1.y - 9 * Math.sin(angle + turn),
  })
  const [a, b] = [wing(0.4), wing(-0.4)]
  return `${num(edge.p1.x)},${num(edge.p1.y)} ${num(a.x)},${num(a.y)} ${num(b.x)},${num(b.y)}`
}

const eventText = (row) => (row.guard ? `${row.event} [${row.guard}]` : row.event)

/**
 * Renders a table (from `deriveTable`) as SVG text: states as boxes, one numbered curved arrow per (from, to) pair,
 * and a key listing each arrow's events with their guards, then the events each state handles without leaving it.
 * Same table, same bytes.
 * @param {import('./state-diagram.d.mts').DiagramTable} table
 */
export function renderStateDiagram(table) {
  const { nodes, width: graphWidth, height: graphHeight } = placeStates(table)
  const pairs = []
  for (const row of table.transitions) {
    if (row.from === row.to) continue
    let pair = pairs.find((entry) => entry.from === row.from && entry.to === row.to)
    if (!pair) pairs.push((pair = { from: row.from, to: row.to, rows: [] }))
    pair.rows.push(row)
  }
  const edges = routeEdges(pairs, nodes)

  const key = []
  const pairLabel = (pair) => `${pair.from} → ${pair.to}`
  const labelColumn = Math.max(...pairs.map((pair) => pairLabel(pair).length)) + 6
  pairs.forEach((pair, index) => {
    pair.rows.forEach((row, line) => {
      key.push({
        number: line === 0 ? index + 1 : null,
        label: line === 0 ? pairLabel(pair) : '',
        text: eventText(row),
      })
    })
  })
  const stays = table.states
    .map((state) => ({ state, rows: table.transitions.filter((row) => row.from === state && row.to === state) }))
    .filter((entry) => entry.rows.length > 0)
  const stayColumn = Math.max(...stays.map((entry) => entry.state.length)) + 6
  const keyChars = Math.max(
    ...key.map((line) => 4 + labelColumn + line.text.length),
    ...stays.flatMap((entry) => entry.rows.map((row) => 4 + stayColumn + eventText(row).length)),
  )
  const width = Math.ceil(Math.max(graphWidth, keyChars * CHAR + 2 * MARGIN))
  const offset = (width - graphWidth) / 2
  for (const box of nodes.values()) box.x += offset
  for (const edge of edges) {
    for (const point of [edge.c, edge.p0, edge.p1, edge.badge]) point.x += offset
  }

  const out = []
  const text = (x, y, content, extra = '') =>
    out.push(`<text x="${num(x)}" y="${num(y)}"${extra}>${escapeXml(content)}</text>`)

  // Initial-state marker: a dot with an arrow into the initial state.
  const initial = nodes.get(table.initial)
  const dotY = initial.y - initial.h / 2 - 30
  out.push(`<circle cx="${num(initial.x)}" cy="${num(dotY)}" r="5" fill="#3b4a5e"/>`)
  out.push(
    `<path d="M${num(initial.x)},${num(dotY + 5)} V${num(initial.y - initial.h / 2 - 1)}" stroke="#3b4a5e" fill="none"/>`,
  )
  const tip = initial.y - initial.h / 2
  out.push(
    `<polygon points="${num(initial.x)},${num(tip)} ${num(initial.x - 4)},${num(tip - 8)} ${num(initial.x + 4)},${num(tip - 8)}" fill="#3b4a5e"/>`,
  )

  for (const edge of edges) {
    out.push(
      `<path class="edge" d="M${num(edge.p0.x)},${num(edge.p0.y)} Q${num(edge.c.x)},${num(edge.c.y)} ${num(edge.p1.x)},${num(edge.p1.y)}" stroke="#7a8699" stroke-width="1.4" fill="none"/>`,
    )
    out.push(`<polygon points="${arrowHead(edge, nodes)}" fill="#7a8699"/>`)
  }
  for (const [state, box] of nodes) {
    const [fill, stroke] = palette[state] ?? neutral
    out.push(
      `<rect class="state" x="${num(box.x - box.w / 2)}" y="${num(box.y - box.h / 2)}" width="${num(box.w)}" height="${num(box.h)}" rx="8" fill="${fill}" stroke="${stroke}" stroke-width="1.5"/>`,
    )
    text(box.x, box.y + 4, state, ` text-anchor="middle" font-weight="bold" fill="${stroke}"`)
  }
  edges.forEach((edge, index) => {
    out.push(
      `<circle class="badge" cx="${num(edge.badge.x)}" cy="${num(edge.badge.y)}" r="${BADGE_R}" fill="#ffffff" stroke="#7a8699"/>`,
    )
    text(edge.badge.x, edge.badge.y + 4, String(index + 1), ' text-anchor="middle" font-size="11"')
  })

  let y = graphHeight + 10
  text(MARGIN, y, 'Arrows: event [guard], in the order the table lists them', ' font-weight="bold"')
  y += LINE + 4
  for (const line of key) {
    if (line.number !== null) text(MARGIN + 3 * CHAR, y, String(line.number), ' text-anchor="end"')
    text(MARGIN + 4 * CHAR, y, line.label, ' fill="#3b4a5e"')
    text(MARGIN + (4 + labelColumn) * CHAR, y, line.text)
    y += LINE
  }
  y += 12
  text(MARGIN, y, 'Handled without leaving the state (any other event is ignored)', ' font-weight="bold"')
  y += LINE + 4
  for (const entry of stays) {
    entry.rows.forEach((row, line) => {
      if (line === 0) text(MARGIN + 4 * CHAR, y, entry.state, ' fill="#3b4a5e"')
      text(MARGIN + (4 + stayColumn) * CHAR, y, eventText(row))
      y += LINE
    })
  }
  const height = Math.ceil(y + MARGIN - LINE + 8)

  const description =
    `The ${table.states.length} states of the connection machine (${table.states.join(', ')}), starting in ` +
    `${table.initial}, and its transitions: ` +
    pairs.map((pair) => `${pairLabel(pair)} on ${pair.rows.map(eventText).join(', ')}`).join('; ') +
    '. Generated from src/core/machine.ts by scripts/state-diagram.mjs.'
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="state-diagram-title state-diagram-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="${FONT}" font-size="12">`,
    '<title id="state-diagram-title">Connection states</title>',
    `<desc id="state-diagram-desc">${escapeXml(description)}</desc>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n')
}

/**
 * Compares the file on disk with what the table gives.
 * @param {string} expected the SVG rendered from the table
 * @param {string} [file] absolute path of the file to compare, docs/state-diagram.svg by default
 */
export function checkStateDiagram(expected, file = join(root, diagramPath)) {
  let actual = null
  try {
    actual = readFileSync(file, 'utf8')
  } catch (error) {
    if (error.code !== 'ENOENT') throw error
  }
  if (actual === expected) return { ok: true, message: `${diagramPath} is up to date` }
  const why = actual === null ? 'is missing' : 'differs from the transition table in src/core/machine.ts'
  return { ok: false, message: `${diagramPath} ${why}: run \`npm run diagram\` and commit the result` }
}

async function main() {
  const svg = renderStateDiagram(deriveTable(await loadMachine()))
  if (process.argv.includes('--check')) {
    const result = checkStateDiagram(svg)
    console[result.ok ? 'log' : 'error'](result.message)
    process.exitCode = result.ok ? 0 : 1
    return
  }
  writeFileSync(join(root, diagramPath), svg)
  console.log(`wrote ${diagramPath}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
