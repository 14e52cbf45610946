import type { TestProject } from 'vitest/node'
import { startEchoServer } from '../scripts/echo-dev-server.mjs'
import { startLifelineDevServer } from '../scripts/lifeline-dev-server'
import type { DevServers } from '../stories/_shared/dev-servers'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The servers the Live stories connect to (see stories/_shared/dev-servers.ts). */
    lifelineDevServers: DevServers
  }
}

/** Vite takes the next free port when the configured one is busy: allow that many. */
const PORTS_TRIED = 20

/**
 * Starts what `npm start` starts, on free ports, for the Storybook test project: the reference server behind the
 * fault proxy with its control API, and the echo server. The tests' page origin is allowed: the browser server's port
 * is not known yet when this runs, so every port it may pick from the configured `browser.api.port` on is listed.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const first = project.config.browser.api.port ?? 63315
  const origins = Array.from({ length: PORTS_TRIED }, (_, index) => first + index).flatMap((port) => [
    `http://localhost:${String(port)}`,
    `http://127.0.0.1:${String(port)}`,
  ])
  const lifeline = await startLifelineDevServer({ allowedOrigins: origins })
  const echo = await startEchoServer({ port: 0, allowedOrigins: () => origins, log: () => undefined })
  project.provide('lifelineDevServers', {
    lifelineUrl: lifeline.url,
    lifelineControlUrl: lifeline.controlUrl,
    echoUrl: echo.url,
  })
  return async () => {
    await Promise.allSettled([lifeline.close(), echo.close()])
  }
}
