import type { MachineConfig, MachineEnv, MachineEvent, MachineState, Step } from '../src/core/machine'

/** What the diagram reads from the machine module (and the close-code table, for one sample code per action). */
export interface MachineModule {
  machine: { readonly [status: string]: { readonly on: Readonly<Record<string, unknown>> } }
  transition: (state: MachineState, event: MachineEvent, env: MachineEnv) => Step
  initialMachineState: (online: boolean) => MachineState
  defaultCloseCodes: Readonly<Record<number, { action: string }>>
}

/** One outcome of one handled event: `guard` is the condition under which `event` takes `from` to `to` (null: always). */
export interface DiagramRow {
  from: string
  event: string
  to: string
  guard: string | null
}

/** The transition table as the diagram draws it. */
export interface DiagramTable {
  initial: string
  states: readonly string[]
  /** Every event some state handles. */
  events: readonly string[]
  transitions: readonly DiagramRow[]
}

/** Where the diagram is written, relative to the repository root. */
export declare const diagramPath: string

/** Runs `transition()` over every (state, event) pair in representative situations; the guards are derived. */
export declare function deriveTable(machineModule: MachineModule): DiagramTable

/** Bundles src/core/machine.ts with esbuild and imports it. */
export declare function loadMachine(): Promise<MachineModule>

/** The SVG text for a table; byte-identical for the same table. */
export declare function renderStateDiagram(table: DiagramTable): string

/** Compares the file on disk (docs/state-diagram.svg by default) with `expected`. */
export declare function checkStateDiagram(expected: string, file?: string): { ok: boolean; message: string }

export type { MachineConfig }
