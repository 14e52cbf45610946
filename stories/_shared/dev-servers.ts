/// <reference types="vite/client" />

/** Where the servers of the Live stories are, as `npm start` or the Storybook test project's global setup tell it. */
export interface DevServers {
  /** `ws://…/lifeline` of the reference server behind the fault proxy. */
  lifelineUrl?: string | undefined
  /** `http://…/__control` of its control API. */
  lifelineControlUrl?: string | undefined
  /** `ws://…` of the useWebSocket playground's echo server (its control API is on the same port). */
  echoUrl?: string | undefined
}

declare global {
  /** Set by .storybook/vitest.setup.ts from the global setup's `provide`, when the stories run as tests. */
  var __LIFELINE_DEV_SERVERS__: DevServers | undefined
}

/**
 * The servers of this Storybook: the test run's (a global set before the stories render), else `npm start`'s
 * (`STORYBOOK_*` variables Storybook inlines at build time). Empty in `storybook build` output and in a plain
 * `npm run storybook`: the Live stories then show a note instead of connecting.
 */
export function devServers(): DevServers {
  const injected = globalThis.__LIFELINE_DEV_SERVERS__
  if (injected) return injected
  const env = import.meta.env
  return {
    lifelineUrl: env.STORYBOOK_LIFELINE_URL || undefined,
    lifelineControlUrl: env.STORYBOOK_LIFELINE_CONTROL_URL || undefined,
    echoUrl: env.STORYBOOK_LIFELINE_ECHO_URL || undefined,
  }
}
