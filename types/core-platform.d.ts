// Ambient declarations for tsconfig.core.json only (src/core is checked against ES2022 + WebWorker, no DOM, no
// @types/node). Nothing here is emitted or published.

/**
 * Bundlers replace `process.env.NODE_ENV` at build time, and Node has it at run time; core reads nothing else of
 * `process` (the rest of it is an error under tsconfig.core.json, and eslint.config.js bans other members).
 */
declare const process: { readonly env: { readonly NODE_ENV?: string | undefined } }

/**
 * The part of the DOM's `Storage` that `localStorageOutbox` uses, as a type only: there is no `localStorage` global
 * here, so core reaches it through a guarded `globalThis` lookup.
 */
interface Storage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}
