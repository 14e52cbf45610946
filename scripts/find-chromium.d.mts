/** Thrown when no usable Chromium binary exists. */
export declare class ChromiumNotFoundError extends Error {
  readonly code: 'CHROMIUM_NOT_FOUND'
  /** `tried`: one line per place looked at; `headline` replaces the default install hint. */
  constructor(tried: readonly string[], headline?: string)
}

/** Options for {@link findChromium}. */
export interface FindChromiumOptions {
  /** Do not log the chosen binary to stderr. @default false */
  quiet?: boolean
  /** Environment to read `CHROMIUM_PATH` from. @default process.env */
  env?: NodeJS.ProcessEnv
}

/** Absolute path of the Chromium binary for real-browser tests; never downloads one (install-chromium.mjs does). */
export declare function findChromium(options?: FindChromiumOptions): string
