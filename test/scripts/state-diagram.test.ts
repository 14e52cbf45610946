import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultCloseCodes } from '../../src/core/close-codes'
import { initialMachineState, machine, transition } from '../../src/core/machine'
import {
  checkStateDiagram,
  deriveTable,
  diagramPath,
  type MachineModule,
  renderStateDiagram,
} from '../../scripts/state-diagram.mjs'

const real: MachineModule = { machine, transition, initialMachineState, defaultCloseCodes }

/** The machine with one transition changed: a due retry gives up instead of connecting. */
const changed: MachineModule = {
  ...real,
  transition: (state, event, env) =>
    state.status === 'reconnecting' && event.type === 'RETRY_DUE'
      ? { state: { ...state, status: 'failed' }, effects: [] }
      : transition(state, event, env),
}

const svg = renderStateDiagram(deriveTable(real))
const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((match) => match[1] ?? '')

describe('state diagram', () => {
  it(`keeps ${diagramPath} in step with the transition table (npm run diagram)`, () => {
    const result = checkStateDiagram(svg)
    expect(result.ok, result.message).toBe(true)
  })

  it('fails the check when a transition changes', () => {
    const stale = renderStateDiagram(deriveTable(changed))
    expect(stale).not.toBe(svg)
    const result = checkStateDiagram(stale)
    expect(result.ok).toBe(false)
    expect(result.message).toMatch(/differs from the transition table/)
    expect(stale).toContain('reconnecting → failed on RETRY_DUE, DIAGNOSED [stop]')
  })

  it('fails the check on an edited or missing copy of the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-diagram-'))
    try {
      const copy = join(dir, 'state-diagram.svg')
      writeFileSync(copy, readFileSync(diagramPath, 'utf8').replace('RETRY_DUE', 'RETRY_LATER'))
      expect(checkStateDiagram(svg, copy).ok).toBe(false)
      expect(checkStateDiagram(svg, join(dir, 'none.svg')).message).toMatch(/is missing/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('draws every state and every event of the table', () => {
    const table = deriveTable(real)
    expect(table.states).toEqual(Object.keys(machine))
    for (const state of table.states) expect(texts, state).toContain(state)
    const drawn = texts.join('\n')
    for (const event of table.events) expect(drawn, event).toMatch(new RegExp(`(^|\\n)${event}( \\[|$|\\n)`))
    expect(table.events).toContain('RETRY_DUE')
  })

  it('derives guards from transition(): the retry budget decides between reconnecting and failed', () => {
    const rows = deriveTable(real).transitions.filter((row) => row.from === 'open' && row.event === 'HEARTBEAT_TIMEOUT')
    expect(rows).toEqual([
      { from: 'open', event: 'HEARTBEAT_TIMEOUT', to: 'reconnecting', guard: 'online && attempt < maxAttempts' },
      { from: 'open', event: 'HEARTBEAT_TIMEOUT', to: 'offline', guard: '!online && attempt < maxAttempts' },
      { from: 'open', event: 'HEARTBEAT_TIMEOUT', to: 'failed', guard: 'attempt ≥ maxAttempts' },
    ])
  })

  it('refuses an event it has no sample payload for', () => {
    const unknown = { ...real, machine: { ...machine, idle: { on: { ...machine.idle.on, TELEPORT: () => null } } } }
    expect(() => deriveTable(unknown)).toThrow(/no sample payload for event TELEPORT/)
  })

  it('is an accessible image with a title and a description', () => {
    expect(svg).toMatch(/^<svg [^>]*role="img"[^>]*aria-labelledby="state-diagram-title state-diagram-desc"/)
    expect(svg).toContain('<title id="state-diagram-title">Connection states</title>')
    expect(svg).toMatch(/<desc id="state-diagram-desc">The 8 states of the connection machine \(idle, /)
  })

  it('renders the same bytes for the same table', () => {
    expect(renderStateDiagram(deriveTable(real))).toBe(svg)
  })

  it('keeps states and arrow numbers apart', () => {
    const boxes = [...svg.matchAll(/class="state" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map(
      (match) => match.slice(1).map(Number) as [number, number, number, number],
    )
    const badges = [...svg.matchAll(/class="badge" cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"/g)].map(
      (match) => match.slice(1).map(Number) as [number, number, number],
    )
    expect(boxes).toHaveLength(8)
    expect(badges.length).toBeGreaterThan(20)
    boxes.forEach(([x, y, w, h], index) => {
      for (const [x2, y2, w2, h2] of boxes.slice(index + 1)) {
        expect(x + w <= x2 || x2 + w2 <= x || y + h <= y2 || y2 + h2 <= y).toBe(true)
      }
      for (const [cx, cy, r] of badges) {
        const inside = cx + r > x && cx - r < x + w && cy + r > y && cy - r < y + h
        expect(inside, `badge at ${cx},${cy} over a state`).toBe(false)
      }
    })
    badges.forEach(([cx, cy, r], index) => {
      for (const [cx2, cy2, r2] of badges.slice(index + 1)) {
        expect(Math.hypot(cx - cx2, cy - cy2), `badges at ${cx},${cy} and ${cx2},${cy2}`).toBeGreaterThan(r + r2)
      }
    })
  })
})
