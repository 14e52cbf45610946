import type { ClientParts } from './client-types'
import { diagnoseHandshake, diagnosisError, type Diagnosis } from './diagnose'
import { initialDiagnosisState, reduceDiagnosis, type DiagnosisAction, type DiagnosisState } from './diagnosis-policy'
import type { LifelineError } from './errors'

/** Probes failed handshakes and applies the diagnosis policy (diagnosis-policy.ts) to each finding. */
export interface DiagnosisRunner {
  /** Probes the URL (loaded on first use; one probe at a time; none once the finding has settled). */
  probe(): void
  /** Feeds `opened` or `retried` to the policy. */
  reset(type: Exclude<DiagnosisAction['type'], 'found'>): void
}

/**
 * Browsers hide why an upgrade failed: probe the URL over HTTP, record the finding, stop after a refusal seen twice in
 * a row, honour a rate limit's wait, and log each new finding once per failure streak. This module, the probe and the
 * policy (diagnosis-policy.ts) are one chunk the client loads on its first failed handshake.
 */
export function createDiagnosisRunner(parts: ClientParts): DiagnosisRunner {
  const { env, log, fallback, tokens, runtime } = parts
  let policy: DiagnosisState = initialDiagnosisState
  let probing = false

  function finish(diagnosis: Diagnosis, usedTokens: number, error: LifelineError): void {
    probing = false
    if (parts.disposed) return
    fallback?.diagnosed(diagnosis)
    const action = { type: 'found', diagnosis, usedTokens, canRefreshToken: !!tokens, fallback: !!fallback } as const
    const step = reduceDiagnosis(policy, action)
    policy = step.state
    const verdict = step.verdict!
    if (verdict.refreshToken) tokens?.invalidate()
    if (verdict.announce) {
      const hint = error.hint ? ` ${error.hint}` : ''
      if (log) log('warn', error.message + hint)
      else if (process.env.NODE_ENV !== 'production') console.warn(`[lifeline] ${error.message}${hint}`)
    }
    // Open again meanwhile: the finding is stale.
    if (runtime.state.status === 'open') return
    runtime.dispatch({ type: 'DIAGNOSED', error, stop: verdict.stop, holdMs: verdict.holdMs })
  }

  return {
    probe() {
      if (probing || policy.settled) return
      probing = true
      const usedTokens = tokens?.fetched ?? 0
      diagnoseHandshake(parts.url, {
        fetch: env.fetch,
        online: env.network.get(),
        timers: env.timers,
        now: env.clock.now,
      }).then(
        (found) => finish(found, usedTokens, diagnosisError(found)),
        () => {
          probing = false
        },
      )
    },
    reset(type) {
      policy = reduceDiagnosis(policy, { type }).state
    },
  }
}
