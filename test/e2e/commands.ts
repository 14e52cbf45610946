import type { BrowserCommand } from 'vitest/node'

/**
 * Server-side commands for the browser project, called in tests as `commands.<name>(...)` from `vitest/browser`.
 * They run in Node next to the test server, so they can drive faults the browser cannot cause itself.
 * Give each one a browser-side signature by augmenting `BrowserCommands` in `vitest/browser`.
 */
export const e2eCommands = {} satisfies Record<string, BrowserCommand<never[]>>
