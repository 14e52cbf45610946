import type { ClientParts } from './client-types'
import type { Diagnosis } from './diagnose'
import type { DiagnosisAction, DiagnosisState } from './diagnosis-policy'
import type { LifelineError } from './errors'

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
 * The probe and the policy (diagnosis-policy.ts) load together on the first failed handshake: an app whose sockets open
 * never downloads them.
 */
export function createDiagnosisRunner(parts: ClientParts): DiagnosisRunner {
  const { env, log, fallback, tokens, runtime } = parts
  /** `null` until the policy has loaded, which a first finding needs: until then nothing was found, nothing to forget. */
  let reduce: typeof import('./diagnosis-policy').reduceDiagnosis | null = null
  let policy: DiagnosisState | null = null
  let probing = false

  function apply(action: DiagnosisAction): void {
    if (policy && reduce) policy = reduce(policy, action).state
  }

  function finish(diagnosis: Diagnosis, usedTokens: number, error: LifelineError, initial: DiagnosisState): void {
    probing = false
    if (parts.disposed) return
    fallback?.diagnosed(diagnosis)
    const action = { type: 'found', diagnosis, usedTokens, canRefreshToken: !!tokens, fallback: !!fallback } as const
    const step = reduce!(policy ?? initial, action)
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
      if (probing || policy?.settled) return
      probing = true
      const usedTokens = tokens?.fetched ?? 0
      Promise.all([import('./diagnose'), import('./diagnosis-policy')]).then(
        ([{ diagnoseHandshake, diagnosisError }, { reduceDiagnosis, initialDiagnosisState }]) => {
          reduce = reduceDiagnosis
          return diagnoseHandshake(parts.url, {
            fetch: env.fetch,
            online: env.network.get(),
            timers: env.timers,
            now: env.clock.now,
          }).then((found) => finish(found, usedTokens, diagnosisError(found), initialDiagnosisState))
        },
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
