import type { Diagnosis, DiagnosisKind } from './diagnose'

/** What the client remembers of handshake diagnoses since the last open. */
export interface DiagnosisState {
  /** Refusals (unauthorised, origin, path) diagnosed in a row. */
  refusals: number
  /** Tokens fetched when a 401 first asked for a fresh one; `null` when none was asked for. */
  staleTokens: number | null
  /** The kind last announced (logged), so that each new finding is announced once per failure streak. */
  announced: DiagnosisKind | null
  /** The same finding twice in a row that changes nothing per attempt: no more probes until the next open. */
  settled: boolean
}

/** What happens to the diagnosis policy. */
export type DiagnosisAction =
  /** A connection opened: every finding is forgotten. */
  | { type: 'opened' }
  /** `retry()`: starting over, earlier refusals and a settled finding no longer count. */
  | { type: 'retried' }
  /** A probe of a failed handshake found `diagnosis`. */
  | {
      type: 'found'
      diagnosis: Diagnosis
      /** Tokens fetched when the failed attempt started. */
      usedTokens: number
      /** Whether a `getToken` can give a fresh token. */
      canRefreshToken: boolean
      /** Whether a transport fallback reads each finding. */
      fallback: boolean
    }

/** What the client does about a finding. */
export interface DiagnosisVerdict {
  /** Give up: a refusal that retrying cannot fix. */
  stop: boolean
  /** A server-imposed wait the next attempt honours, ms. */
  holdMs: number | null
  /** Forget the token, so that the next attempt asks `getToken()` for a fresh one. */
  refreshToken: boolean
  /** A new finding in this failure streak: log it. */
  announce: boolean
}

/** The result of {@link reduceDiagnosis}: the next state, and the verdict of a `found` action (else `null`). */
export interface DiagnosisStep {
  state: DiagnosisState
  verdict: DiagnosisVerdict | null
}

/** The state of a client that has not diagnosed anything. */
export const initialDiagnosisState: DiagnosisState = { refusals: 0, staleTokens: null, announced: null, settled: false }

const refusal = (kind: DiagnosisKind): boolean =>
  kind === 'unauthorized' || kind === 'origin-refused' || kind === 'wrong-path'

/**
 * The handshake-diagnosis policy, pure: stop after a refusal seen twice in a row (a 401 only once a fresh token was
 * refused too), honour a rate limit's wait, stop probing a finding that repeats, announce each new finding once.
 */
export function reduceDiagnosis(state: DiagnosisState, action: DiagnosisAction): DiagnosisStep {
  switch (action.type) {
    case 'opened':
      return { state: initialDiagnosisState, verdict: null }
    case 'retried':
      return { state: { ...state, refusals: 0, staleTokens: null, settled: false }, verdict: null }
    case 'found': {
      const { kind } = action.diagnosis
      const refused = refusal(kind)
      const refusals = refused ? state.refusals + 1 : 0
      let stop = refusals >= 2
      let { staleTokens } = state
      let refreshToken = false
      if (kind === 'unauthorized' && action.canRefreshToken) {
        // A first 401 may be a stale token: ask getToken() for a fresh one, and stop only once a fresh one was refused
        // too (an attempt already under way with the old token proves nothing).
        if (staleTokens === null) {
          staleTokens = action.usedTokens
          refreshToken = true
        }
        stop = action.usedTokens > staleTokens
      }
      // Unreachable, down, offline or unknown twice: probing every retry would only double the requests (and the
      // console noise) of an outage. A rate limit's wait and the fallback's evidence are read afresh each time.
      // (Refusals are not settled this way: they are decided by stopping.) Not with a fallback: an outage's finding
      // does change once the server is back behind a proxy that blocks the upgrade, and only a probe tells the
      // fallback so; settled, a client that was on long-poll would retry the blocked WebSocket for ever.
      const settled =
        !action.fallback &&
        kind === state.announced &&
        !refused &&
        kind !== 'rate-limited' &&
        kind !== 'upgrade-stripped'
      const announce = kind !== state.announced
      return {
        state: { refusals, staleTokens, announced: announce ? kind : state.announced, settled },
        verdict: {
          stop,
          holdMs: kind === 'rate-limited' ? action.diagnosis.retryAfterMs : null,
          refreshToken,
          announce,
        },
      }
    }
    default:
      return action satisfies never
  }
}
