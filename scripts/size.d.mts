/** One measured import and its budget. */
export interface SizeEntry {
  /** Row label in the table and test title. */
  name: string
  /** Named exports imported together, as an app would write `import { ... } from 'react-lifeline'`. */
  exports: readonly string[]
  /**
   * Named exports the app already has: the entry then measures what `exports` add to them (every size is the
   * difference between the bundle of both and the bundle of `baseline` alone).
   */
  baseline?: readonly string[] | undefined
  /** Source module, relative to the repository root. */
  from: string
  /** Gzip (level 9) size limit in bytes; 1 kB = 1000 bytes: a ceiling at today's figure that stops creep. */
  budget: number
  /** The size an issue aims for, printed beside the figure (never a pass/fail limit). */
  goal?: number | undefined
  /** Source modules that must not load up front (plug-ins an app pays for only when it uses them). */
  notUpFront?: readonly string[] | undefined
  /** Module `baseline` is imported from, when not `from` (an app that does not import `from` at all). */
  baselineFrom?: string | undefined
  /** `process.env.NODE_ENV` of the build. @default 'production' */
  nodeEnv?: 'production' | 'development' | undefined
  /** Gzip limit of the chunks loaded on use (behind `import()`), bytes. @default undefined (not gated) */
  lazyBudget?: number | undefined
  /** Internal: a second `export { ... } from` line put before `exports` (how `baselineFrom` is measured). */
  also?: { exports: readonly string[]; from: string } | undefined
}

/** Sizes of one bundled entry, in bytes. */
export interface SizeResult {
  /** The entry's name. */
  name: string
  /** Minified ESM size. */
  minified: number
  /** Gzip level 9 size of what loads up front: the entry and the chunks it imports statically. */
  gzip: number
  /** Gzip size of the chunks behind dynamic `import()` (loaded on first use, e.g. handshake diagnostics). */
  lazyGzip: number
  /** The entry's gzip budget. */
  budget: number
  /** The entry's goal, if an issue set one. */
  goal?: number | undefined
  /** The entry's limit on `lazyGzip`, if it has one. */
  lazyBudget?: number | undefined
  /** Minified bytes each source module puts into the up-front files (esbuild metafile), by path. */
  modules: Readonly<Record<string, number>>
}

/** Raised when an entry cannot be bundled, e.g. an export is missing. */
export declare class SizeMeasurementError extends Error {
  readonly code: 'SIZE_MEASUREMENT_FAILED'
}

/** The measured entries. */
export declare const sizeEntries: readonly SizeEntry[]

/** Bundles one entry with esbuild (zustand included, react external) and measures it. */
export declare function measureEntry(entry: SizeEntry): Promise<SizeResult>

/** Renders results as a plain-text table. */
export declare function formatTable(
  rows: ReadonlyArray<SizeResult | { name: string; budget: number; goal?: number | undefined; error: Error }>,
): string
