import type { TestProject } from 'vitest/node'
import { createEchoServer, type EchoServer } from '../../src/testing'

declare module 'vitest' {
  export interface ProvidedContext {
    /** ws:// URL of the echo server started for the browser tests. */
    echoUrl: string
  }
}

/** Shared with the browser commands (they run in this same Node process, loaded through another module graph). */
export interface E2EState {
  echo: EchoServer
}
const holder = globalThis as { __lifelineE2E?: E2EState }

/** Starts a real `ws` echo server on 127.0.0.1 for the browser project and hands its URL to the tests. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const echo = await createEchoServer({ host: '127.0.0.1' })
  holder.__lifelineE2E = { echo }
  project.provide('echoUrl', echo.url)
  return async () => {
    delete holder.__lifelineE2E
    await echo.close()
  }
}
