import type { BrowserCommand } from 'vitest/node'
import type { E2EState } from './global-setup'

function state(): E2EState {
  const found = (globalThis as { __lifelineE2E?: E2EState }).__lifelineE2E
  if (!found) throw new Error('The browser global setup did not start the echo server')
  return found
}

/**
 * Server-side commands for the browser project, called in tests as `commands.<name>()` from `vitest/browser`.
 * They run in Node next to the test server, so they can cause faults the browser cannot cause itself.
 */
export const e2eCommands = {
  echoStats: () => ({ connections: state().echo.connections, totalConnections: state().echo.totalConnections }),
  echoKill: async () => {
    await state().echo.kill()
  },
  echoRestart: async () => {
    await state().echo.restart()
  },
} satisfies Record<string, BrowserCommand<never[]>>

declare module 'vitest/browser' {
  interface BrowserCommands {
    echoStats: () => Promise<{ connections: number; totalConnections: number }>
    echoKill: () => Promise<void>
    echoRestart: () => Promise<void>
  }
}
