import { describe, expect, it } from 'vitest'
import type { Diagnosis, DiagnosisKind } from '../../src/core'
import {
  initialDiagnosisState,
  reduceDiagnosis,
  type DiagnosisState,
  type DiagnosisVerdict,
} from '../../src/core/diagnosis-policy'

function found(kind: DiagnosisKind, retryAfterMs: number | null = null): Diagnosis {
  return { kind, status: null, retryAfterMs, reason: null, hint: '' }
}

const fresh = initialDiagnosisState
const state = (overrides: Partial<DiagnosisState>): DiagnosisState => ({ ...fresh, ...overrides })

interface Row {
  name: string
  before: DiagnosisState
  kind: DiagnosisKind
  retryAfterMs?: number
  usedTokens?: number
  canRefreshToken?: boolean
  fallback?: boolean
  after: DiagnosisState
  verdict: DiagnosisVerdict
}

const verdict = (overrides: Partial<DiagnosisVerdict>): DiagnosisVerdict => ({
  stop: false,
  holdMs: null,
  refreshToken: false,
  announce: false,
  ...overrides,
})

const rows: Row[] = [
  {
    name: 'a first refusal is announced, counted, and does not stop',
    before: fresh,
    kind: 'origin-refused',
    after: state({ refusals: 1, announced: 'origin-refused' }),
    verdict: verdict({ announce: true }),
  },
  {
    name: 'a refusal seen twice in a row stops, announced once',
    before: state({ refusals: 1, announced: 'wrong-path' }),
    kind: 'wrong-path',
    after: state({ refusals: 2, announced: 'wrong-path' }),
    verdict: verdict({ stop: true }),
  },
  {
    name: 'a different refusal after one still stops (refusals in a row, any kind)',
    before: state({ refusals: 1, announced: 'origin-refused' }),
    kind: 'unauthorized',
    after: state({ refusals: 2, announced: 'unauthorized' }),
    verdict: verdict({ stop: true, announce: true }),
  },
  {
    name: 'an outage finding resets the refusal count',
    before: state({ refusals: 1, announced: 'unauthorized' }),
    kind: 'unreachable',
    after: state({ refusals: 0, announced: 'unreachable' }),
    verdict: verdict({ announce: true }),
  },
  {
    name: 'the same outage finding twice settles (no more probes) without a fallback',
    before: state({ announced: 'unreachable' }),
    kind: 'unreachable',
    after: state({ announced: 'unreachable', settled: true }),
    verdict: verdict({}),
  },
  {
    name: 'the same outage finding twice does not settle with a fallback',
    before: state({ announced: 'server-error' }),
    kind: 'server-error',
    fallback: true,
    after: state({ announced: 'server-error' }),
    verdict: verdict({}),
  },
  {
    name: 'a rate limit never settles and carries its wait',
    before: state({ announced: 'rate-limited' }),
    kind: 'rate-limited',
    retryAfterMs: 7000,
    after: state({ announced: 'rate-limited' }),
    verdict: verdict({ holdMs: 7000 }),
  },
  {
    name: 'a stripped upgrade never settles',
    before: state({ announced: 'upgrade-stripped' }),
    kind: 'upgrade-stripped',
    after: state({ announced: 'upgrade-stripped' }),
    verdict: verdict({}),
  },
  {
    name: 'a first 401 with getToken asks for a fresh token and does not stop',
    before: fresh,
    kind: 'unauthorized',
    usedTokens: 1,
    canRefreshToken: true,
    after: state({ refusals: 1, staleTokens: 1, announced: 'unauthorized' }),
    verdict: verdict({ refreshToken: true, announce: true }),
  },
  {
    name: 'a second 401 from an attempt still on the stale token does not stop',
    before: state({ refusals: 1, staleTokens: 1, announced: 'unauthorized' }),
    kind: 'unauthorized',
    usedTokens: 1,
    canRefreshToken: true,
    after: state({ refusals: 2, staleTokens: 1, announced: 'unauthorized' }),
    verdict: verdict({}),
  },
  {
    name: 'a 401 for a fresh token stops',
    before: state({ refusals: 1, staleTokens: 1, announced: 'unauthorized' }),
    kind: 'unauthorized',
    usedTokens: 2,
    canRefreshToken: true,
    after: state({ refusals: 2, staleTokens: 1, announced: 'unauthorized' }),
    verdict: verdict({ stop: true }),
  },
]

describe('reduceDiagnosis', () => {
  it.each(rows)('$name', (row) => {
    const step = reduceDiagnosis(row.before, {
      type: 'found',
      diagnosis: found(row.kind, row.retryAfterMs ?? null),
      usedTokens: row.usedTokens ?? 0,
      canRefreshToken: row.canRefreshToken ?? false,
      fallback: row.fallback ?? false,
    })
    expect(step.state).toEqual(row.after)
    expect(step.verdict).toEqual(row.verdict)
  })

  it.each<[string, DiagnosisState, 'opened' | 'retried', DiagnosisState]>([
    [
      'opened forgets everything, the announced kind too',
      state({ refusals: 1, staleTokens: 2, announced: 'unauthorized', settled: true }),
      'opened',
      fresh,
    ],
    [
      'retried forgets refusals, the stale token and settling, but keeps the announced kind',
      state({ refusals: 1, staleTokens: 2, announced: 'unreachable', settled: true }),
      'retried',
      state({ announced: 'unreachable' }),
    ],
  ])('%s', (_name, before, type, after) => {
    expect(reduceDiagnosis(before, { type })).toEqual({ state: after, verdict: null })
  })

  it('does not change the state it is given', () => {
    const before = state({ refusals: 1 })
    reduceDiagnosis(before, {
      type: 'found',
      diagnosis: found('wrong-path'),
      usedTokens: 0,
      canRefreshToken: false,
      fallback: false,
    })
    expect(before).toEqual(state({ refusals: 1 }))
  })
})
