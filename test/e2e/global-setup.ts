import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the browser project's global setup; proves the setup ran before the tests. */
    e2eGlobalSetup: { startedAt: number }
  }
}

/**
 * Runs once in Node before the browser project's tests. The place to start the real reference server on
 * 127.0.0.1 and hand its URL to tests with `project.provide(...)` (read with `inject(...)`), returning its teardown.
 */
export function setup(project: TestProject): void {
  project.provide('e2eGlobalSetup', { startedAt: Date.now() })
}
