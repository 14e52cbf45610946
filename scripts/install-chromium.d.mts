/** What {@link chromiumInstallPlan} decides from. */
export interface PlatformFacts {
  /** `process.platform`. */
  platform: NodeJS.Platform
  /** Whether this process runs as root (uid 0). */
  isRoot: boolean
  /** `ID` of /etc/os-release (`debian`, `ubuntu`, …; '' when there is none). */
  distribution: string
  /** `ID_LIKE` of /etc/os-release, space-separated ('' when there is none). */
  distributionFamily: string
  /** Whether /usr/bin/apt-get exists. */
  hasAptGet: boolean
  /** Path of Playwright's CLI (`playwright/cli`), or null when the package is not installed. */
  playwrightCli: string | null
  /** LIFELINE_NO_BROWSER_INSTALL=1: never install. */
  optedOut: boolean
}

/** One command of an install. */
export interface InstallStep {
  command: string
  args: string[]
  /** Added to the environment. */
  env: Record<string, string>
}

/** The install to attempt, if any, and the command to tell a person otherwise. */
export interface ChromiumInstallPlan {
  /** Empty when nothing can be installed from here. */
  steps: InstallStep[]
  /** What the steps do, or why there are none. */
  description: string
  /** The one command a person should run when the steps are empty or fail. */
  manualCommand: string
}

/** Outcome of one step. */
export interface StepResult {
  ok: boolean
  detail: string
}

export declare function platformFacts(env?: NodeJS.ProcessEnv): PlatformFacts
export declare function chromiumInstallPlan(facts: PlatformFacts): ChromiumInstallPlan

/** No Chromium, and none could be installed; `command` is what to run. */
export declare class ChromiumInstallError extends Error {
  readonly code: 'CHROMIUM_INSTALL_FAILED'
  readonly command: string
}

/** Options of {@link ensureChromium}; all injectable for tests. */
export interface EnsureChromiumOptions {
  /** Progress lines. @default writes to stderr */
  log?: (line: string) => void
  /** @default platformFacts() */
  facts?: PlatformFacts
  /** Runs one step. @default spawns it with inherited output */
  run?: (step: InstallStep, log: (line: string) => void) => Promise<StepResult>
  /** Finds the browser; throws ChromiumNotFoundError when there is none. @default findChromium */
  find?: () => string
  /** Where CHROMIUM_PATH and LIFELINE_NO_BROWSER_INSTALL are read. @default process.env */
  env?: NodeJS.ProcessEnv
}

/** The Chromium to use, installed first when missing and the platform allows it. */
export declare function ensureChromium(options?: EnsureChromiumOptions): Promise<string>
