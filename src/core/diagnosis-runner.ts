import type { Diagnosis } from './diagnose'
import { initialDiagnosisState, reduceDiagnosis, type DiagnosisAction, type DiagnosisVerdict } from './diagnosis-policy'
import type { Environment } from './environment'
import type { LifelineError } from './errors'
import type { LogSink } from './logger'
import type { MachineEvent } from './machine'

/** What the diagnosis runner needs from its client. */
export interface DiagnosisHost {
  url: string
  env: Environment
  log: LogSink
  /** Whether a fallback reads each finding. */
  fallback: boolean
  /** Whether a `getToken` can give a fresh token. */
  canRefreshToken: boolean
  /** Tokens fetched so far. */
  tokens(): number
  /** Whether the client still wants findings (not disposed) and would act on them (not open). */
  status(): 'disposed' | 'open' | 'waiting'
  /** A finding, before the policy reads it (the fallback's evidence). */
  found(diagnosis: Diagnosis): void
  /** The policy asked for a fresh token. */
  refreshToken(): void
  /** What the client's machine is told. */
  dispatch(event: Extract<MachineEvent, { type: 'DIAGNOSED' }>): void
}

/** Probes failed handshakes and applies the diagnosis policy (diagnosis-policy.ts) to each finding. */
export interface DiagnosisRunner {
  /** Probes the URL (loaded on first use; one probe at a time; none once the finding has settled). */
  probe(): void
  /** Feeds `opened` or `retried` to the policy. */
  reset(type: Exclude<DiagnosisAction['type'], 'found'>): void
}

/**
 * Browsers hide why an upgrade failed: probe the URL over HTTP (loaded on first use), record the finding, stop after
 * a refusal seen twice in a row, honour a rate limit's wait, and log each new finding once per failure streak.
 */
export function createDiagnosisRunner(host: DiagnosisHost): DiagnosisRunner {
  const { env, log } = host
  let policy = initialDiagnosisState
  let probing = false

  function apply(action: DiagnosisAction): DiagnosisVerdict | null {
    const step = reduceDiagnosis(policy, action)
    policy = step.state
    return step.verdict
  }

  function finish(diagnosis: Diagnosis, usedTokens: number, error: LifelineError): void {
    probing = false
    if (host.status() === 'disposed') return
    host.found(diagnosis)
    const verdict = apply({
      type: 'found',
      diagnosis,
      usedTokens,
      canRefreshToken: host.canRefreshToken,
      fallback: host.fallback,
    })!
    if (verdict.refreshToken) host.refreshToken()
    if (verdict.announce) {
      const hint = error.hint ? ` ${error.hint}` : ''
      if (log) log('warn', error.message + hint)
      else if (process.env.NODE_ENV !== 'production') console.warn(`[lifeline] ${error.message}${hint}`)
    }
    if (host.status() === 'open') return
    host.dispatch({ type: 'DIAGNOSED', error, stop: verdict.stop, holdMs: verdict.holdMs })
  }

  return {
    probe() {
      if (probing || policy.settled) return
      probing = true
      const usedTokens = host.tokens()
      import('./diagnose').then(
        ({ diagnoseHandshake, diagnosisError }) =>
          diagnoseHandshake(host.url, {
            fetch: env.fetch,
            online: env.network.get(),
            timers: env.timers,
            now: env.clock.now,
          }).then((found) => finish(found, usedTokens, diagnosisError(found))),
        () => {
          probing = false
        },
      )
    },
    reset(type) {
      apply({ type })
    },
  }
}
