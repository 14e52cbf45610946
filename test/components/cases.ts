// Scripted snapshots and outbox items for the component tests, free of test-runner imports so that a page bundled for
// real Chromium (test/e2e/components.page.tsx) renders the same cases.
import {
  lifelineError,
  resolveCloseMeaning,
  type CloseInfo,
  type ConnectionSnapshot,
  type DiagnosisKind,
  type LifelineErrorCode,
  type OutboxItem,
} from '../../src/core'
import { diagnosisError } from '../../src/core/diagnose'
import { idleSnapshot } from '../../src/store'

/** A healthy-looking idle snapshot to merge cases over. */
export const idle: ConnectionSnapshot = idleSnapshot

/** The `lastClose` of a close with `code` (meaning from the default table). */
export function closed(code: number, reason = '', at = Date.now()): CloseInfo {
  return { code, reason, wasClean: true, at, meaning: resolveCloseMeaning(code) }
}

/** A `lastError` with `code`. */
export const error = (code: LifelineErrorCode) => lifelineError(code)

/** A `HANDSHAKE_FAILED` error with a diagnosis of `kind`. */
export const diagnosed = (kind: DiagnosisKind, status: number | null = null) =>
  diagnosisError({ kind, status, retryAfterMs: null, reason: null, hint: '' })

/** An outbox item. */
export function item(id: string, data: OutboxItem['data'], change: Partial<OutboxItem> = {}): OutboxItem {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data).byteLength : 8
  return { id, data, bytes, state: 'queued', attempts: 0, createdAt: 0, expiresAt: null, error: null, ...change }
}

/**
 * Every snapshot the banner has words for, the state it must show and the words it must say, seen 1 s after `now`
 * (when a banner with the default `showAfterMs` appears).
 */
export function bannerCases(now: number) {
  return [
    {
      name: 'offline',
      snapshot: { status: 'offline', online: false },
      state: 'offline',
      text: 'You are offline. Waiting for the network…',
    },
    {
      name: 'reconnecting with a countdown',
      snapshot: { status: 'reconnecting', attempt: 2, nextRetryAt: now + 6000, lastClose: closed(1006) },
      state: 'reconnecting',
      text: 'Connection lost. Reconnecting…',
      countdown: 'Retrying in 5 s.',
    },
    {
      name: 'an attempt running after a failure',
      snapshot: { status: 'connecting', attempt: 3, lastClose: closed(1006) },
      state: 'reconnecting',
      text: 'Connection lost. Reconnecting…',
    },
    {
      name: 'connected through the long-poll fallback',
      snapshot: { status: 'open', transport: 'longpoll' },
      state: 'degraded',
      text: 'Connected in slow mode. Updates may be delayed.',
    },
    {
      name: 'refreshing the token after 4001',
      snapshot: { status: 'connecting', lastClose: closed(4001) },
      state: 'refreshing',
      text: 'Refreshing your session…',
    },
    {
      name: 'the session expired (4003)',
      snapshot: { status: 'reconnecting', attempt: 1, nextRetryAt: now + 3000, lastClose: closed(4003) },
      state: 'expired',
      text: 'Your session expired. Starting a new one…',
      countdown: 'Retrying in 2 s.',
    },
    {
      name: 'rate limited (4002) with the wait',
      snapshot: {
        status: 'reconnecting',
        attempt: 1,
        nextRetryAt: now + 90_000,
        lastClose: closed(4002, '{"retryAfterMs":90000}'),
      },
      state: 'throttled',
      text: 'The server is busy and asked us to wait 1 min 30 s.',
      countdown: 'Retrying in 1 min 29 s.',
    },
    {
      name: 'a handshake refused with 429 (diagnosed rate-limited) while reconnecting',
      snapshot: {
        status: 'reconnecting',
        attempt: 2,
        nextRetryAt: now + 20_000,
        lastError: diagnosed('rate-limited', 429),
      },
      state: 'throttled',
      text: 'The server is busy and asked us to wait 20 s.',
      countdown: 'Retrying in 19 s.',
    },
    {
      name: 'failed on a stop close code (1008), with its meaning',
      snapshot: { status: 'failed', lastClose: closed(1008), lastError: error('CONNECTION_CLOSED') },
      state: 'failed',
      text: 'Connection failed. The server refused it. Try again later.',
    },
    {
      name: 'failed after maxAttempts, with the diagnosis',
      snapshot: { status: 'failed', lastClose: closed(1006), lastError: error('MAX_ATTEMPTS') },
      state: 'failed',
      text: 'Connection failed. The server is unreachable. Check your network and retry.',
    },
    ...(
      [
        ['offline', null, 'Check your network.'],
        ['unreachable', null, 'The server is unreachable. Check your network and retry.'],
        ['unauthorized', 401, 'Your sign-in expired. Sign in again.'],
        ['origin-refused', 403, 'The server refused this site. Contact support.'],
        ['wrong-path', 404, 'The service was not found. Contact support.'],
        ['upgrade-stripped', 200, 'A proxy or firewall blocks it. Try another network.'],
        ['rate-limited', 429, 'Too many attempts. Try again later.'],
        ['server-error', 503, 'The server has a problem. Try again later.'],
        ['unknown', null, 'Try again in a moment.'],
      ] as const
    ).map(([kind, status, reason]) => ({
      name: `failed after maxAttempts, the last handshake diagnosed ${kind}`,
      snapshot: {
        status: 'failed' as const,
        lastError: lifelineError('MAX_ATTEMPTS', '5 attempts', diagnosed(kind, status)),
      },
      state: 'failed',
      text: `Connection failed. ${reason}`,
    })),
    {
      name: 'failed with a handshake error of its own (diagnosed unauthorized)',
      snapshot: { status: 'failed', lastError: diagnosed('unauthorized', 401) },
      state: 'failed',
      text: 'Connection failed. Your sign-in expired. Sign in again.',
    },
    {
      name: 'failed for a reason without words of its own',
      snapshot: { status: 'failed', lastError: error('PROTOCOL_ERROR') },
      state: 'failed',
      text: 'Connection failed. Try again in a moment.',
    },
  ] satisfies { name: string; snapshot: Partial<ConnectionSnapshot>; state: string; text: string; countdown?: string }[]
}

/** Outbox items in every state: queued, sending, failed with a reason, and binary. */
export const mixedItems = (): OutboxItem[] => [
  item('a', 'hello'),
  item('b', 'world', { state: 'sending', attempts: 1 }),
  item('c', 'broken', { state: 'failed', error: error('MESSAGE_REFUSED') }),
  item('d', new Uint8Array([1, 2]), { bytes: 2 }),
  item('e', '{"type":"chat","text":"A message long enough to be cut short in the list preview, as most are"}'),
]
