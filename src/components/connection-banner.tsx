'use client'
import { createContext, forwardRef, useEffect, useState, type ComponentPropsWithoutRef } from 'react'
import type { ConnectionSnapshot, Diagnosis, LifelineClient } from '../core'
import { useClaimed } from './claims'
import { createAnnouncer, createPart, createRoot, mergeLabels, nameParts, useSnapshot } from './parts'
import { formatDuration, useCountdown } from './use-countdown'

/**
 * What the banner is telling the user (the `data-state` of its root and of every part, or `hidden`):
 * - `offline`: the device has no network; nothing is attempted until it comes back.
 * - `reconnecting`: the connection was lost; an attempt is scheduled (with a countdown) or running.
 * - `degraded`: connected, but through the slower HTTP long-poll fallback.
 * - `refreshing`: the server refused the token (close 4001); a new one is being fetched.
 * - `expired`: the server ended the session (close 4003); a fresh one is being started.
 * - `throttled`: the server is rate limiting us (close 4002, or a handshake diagnosed `rate-limited`); waiting as long
 *   as it asked.
 * - `failed`: the client gave up (a stop close code, spent attempts, or a failed token refresh) until `retry()`.
 */
export type ConnectionBannerState =
  'offline' | 'reconnecting' | 'degraded' | 'refreshing' | 'expired' | 'throttled' | 'failed'

/**
 * Every text of {@link ConnectionBanner}, one sentence per {@link ConnectionBannerState}. Pass any subset as `labels`;
 * the rest stay English.
 */
export interface ConnectionBannerLabels {
  /** @default 'You are offline. Waiting for the network…' */
  offline: string
  /** @default 'Connection lost. Reconnecting…' */
  reconnecting: string
  /** @default 'Connected in slow mode. Updates may be delayed.' */
  degraded: string
  /** @default 'Refreshing your session…' */
  refreshing: string
  /** @default 'Your session expired. Starting a new one…' */
  expired: string
  /**
   * Rate limited, given the whole wait before the next attempt, formatted (it does not tick: announced once).
   * @default (wait) => `The server is busy and asked us to wait ${wait}.`
   */
  throttled: (wait: string) => string
  /** The failure, given the sentence from `reasons`. @default (reason) => `Connection failed. ${reason}` */
  failed: (reason: string) => string
  /**
   * Why it failed and what the user can do. Keyed by, in order: the handshake diagnosis' `kind` (`offline`,
   * `unreachable`, `unauthorized`, `origin-refused`, `wrong-path`, `upgrade-stripped`, `rate-limited`,
   * `server-error`) of `lastError` or of its cause; the `lastError` code (`MAX_ATTEMPTS`, `TOKEN_REFRESH_FAILED`);
   * the name of the last close code's meaning (`policy-violation`, `tls-failure`, …); `unknown` when none is listed.
   * Merged over the defaults key by key.
   * @default one sentence for each key above, and `unknown`: 'Try again in a moment.'
   */
  reasons: Readonly<Record<string, string>>
  /** The countdown to the next attempt, given `formatDuration(ms)`. Shown, never announced. @default (time) => `Retrying in ${time}.` */
  retryIn: (time: string) => string
  /** Announced (politely) when the connection is healthy again after the banner was shown. @default 'Reconnected.' */
  reconnected: string
  /** @default 'Retry now' */
  retry: string
  /** @default 'Dismiss' */
  dismiss: string
  /** Formats a wait in ms. @default 5 s, 2 min 5 s */
  formatDuration: (ms: number) => string
}

/** The English labels of {@link ConnectionBanner}. */
export const defaultConnectionBannerLabels: ConnectionBannerLabels = {
  offline: 'You are offline. Waiting for the network…',
  reconnecting: 'Connection lost. Reconnecting…',
  degraded: 'Connected in slow mode. Updates may be delayed.',
  refreshing: 'Refreshing your session…',
  expired: 'Your session expired. Starting a new one…',
  throttled: (wait) => `The server is busy and asked us to wait ${wait}.`,
  failed: (reason) => `Connection failed. ${reason}`,
  reasons: {
    offline: 'Check your network.',
    unreachable: 'The server is unreachable. Check your network and retry.',
    MAX_ATTEMPTS: 'The server is unreachable. Check your network and retry.',
    unauthorized: 'Your sign-in expired. Sign in again.',
    TOKEN_REFRESH_FAILED: 'Your sign-in expired. Sign in again.',
    'origin-refused': 'The server refused this site. Contact support.',
    'wrong-path': 'The service was not found. Contact support.',
    'upgrade-stripped': 'A proxy or firewall blocks it. Try another network.',
    'tls-failure': 'A secure connection failed. Try another network.',
    'rate-limited': 'Too many attempts. Try again later.',
    'server-error': 'The server has a problem. Try again later.',
    'policy-violation': 'The server refused it. Try again later.',
    unknown: 'Try again in a moment.',
  },
  retryIn: (time) => `Retrying in ${time}.`,
  reconnected: 'Reconnected.',
  retry: 'Retry now',
  dismiss: 'Dismiss',
  formatDuration,
}

/**
 * What a snapshot means for the banner, or `null` when all is well (or the app closed the connection on purpose).
 * Exported for design systems that render the banner's states their own way.
 */
export function getConnectionBannerState(snapshot: ConnectionSnapshot): ConnectionBannerState | null {
  const { status, lastClose } = snapshot
  if (status === 'failed' || status === 'offline') return status
  if (status === 'open') return snapshot.transport === 'longpoll' ? 'degraded' : null
  if (status !== 'connecting' && status !== 'reconnecting') return null
  const action = lastClose?.meaning.action
  if (action === 'refresh-token') return 'refreshing'
  if (action === 'session-expired') return 'expired'
  if (status === 'reconnecting' && (action === 'rate-limit' || diagnosisOf(snapshot)?.kind === 'rate-limited')) {
    return 'throttled'
  }
  // A first connect is not trouble; one after a close or a failed attempt is a reconnection.
  return status === 'reconnecting' || snapshot.attempt > 0 || lastClose ? 'reconnecting' : null
}

/** The handshake diagnosis of the last error, or of its cause (`MAX_ATTEMPTS` wraps the last attempt's error). */
function diagnosisOf({ lastError }: ConnectionSnapshot): Diagnosis | undefined {
  type Diagnosed = { diagnosis?: Diagnosis; cause?: Diagnosed } | undefined
  const error = lastError as Diagnosed
  return error?.diagnosis ?? error?.cause?.diagnosis
}

/**
 * The sentence for a banner state, without the countdown (this is also what is announced). `waitMs` is the whole
 * wait before the next attempt, stable while it lasts.
 */
function messageOf(
  state: ConnectionBannerState,
  snapshot: ConnectionSnapshot,
  labels: ConnectionBannerLabels,
  waitMs: number | null,
): string {
  if (state === 'failed') {
    const code = snapshot.lastError?.code
    const key =
      diagnosisOf(snapshot)?.kind ?? (code && code !== 'CONNECTION_CLOSED' ? code : snapshot.lastClose?.meaning.name)
    return labels.failed((key && labels.reasons[key]) || labels.reasons.unknown || '')
  }
  const label = labels[state]
  return typeof label === 'string' ? label : label(labels.formatDuration(waitMs ?? 0))
}

interface BannerContext {
  /** The state shown, `hidden` while healthy, not yet `showAfterMs`, or dismissed. */
  state: ConnectionBannerState | 'hidden'
  /** `null` while server rendering under a provider that creates its client on mount. */
  snapshot: ConnectionSnapshot | null
  labels: ConnectionBannerLabels
  client: LifelineClient | null
  /** The sentence of the shown state. */
  message: string
  /** Time to the next attempt while shown (and no ReconnectCountdown of the client shows it), else `null`. */
  remainingMs: number | null
  dismiss: () => void
  polite: string
  assertive: string
}

const Context = /* @__PURE__ */ createContext<BannerContext | null>(null)

/** Props of {@link ConnectionBanner} and `ConnectionBanner.Root` (a `<div>`). */
export interface ConnectionBannerProps extends ComponentPropsWithoutRef<'div'> {
  /**
   * The client to report on, instead of the nearest `LifelineProvider`'s. `null` (what a hook's `client` is before it
   * has one) is the same as none. @default the provider's client
   */
  client?: LifelineClient | null | undefined
  /**
   * How long trouble must last before the banner shows, in ms, so a brief blip never flashes. It hides at once when
   * the connection is healthy again. A terminal failure shows at once: it cannot be a blip.
   * @default 1000
   */
  showAfterMs?: number | undefined
  /** Texts, merged over {@link defaultConnectionBannerLabels}. @default {} */
  labels?: Partial<ConnectionBannerLabels> | undefined
}

/**
 * The banner's root: a `<div>` with `data-state` (a {@link ConnectionBannerState}, or `hidden`), always rendered so
 * its `Announcer` stays mounted; while hidden, the other parts render nothing and the root is `display: contents`.
 * Every part carries the same `data-state`.
 */
const Root = /* @__PURE__ */ createRoot(
  'banner',
  Context,
  'hidden',
  function useBanner({ client: explicit, showAfterMs = 1000, labels: overrides, ...rest }: ConnectionBannerProps) {
    const [client, snapshot] = useSnapshot(explicit)
    const labels = mergeLabels(defaultConnectionBannerLabels, overrides)
    const current = snapshot && getConnectionBannerState(snapshot)
    const troubled = current !== null
    const [due, setDue] = useState(false)
    const [dismissed, setDismissed] = useState<ConnectionBannerState | null>(null)
    const [wasShown, setWasShown] = useState(false)
    // State derived during render, so no frame shows a stale banner: trouble that lasts (or is terminal) is due; the
    // banner hides at once when healthy; dismissal lasts until the state changes.
    if (due !== troubled && (current === 'failed' || showAfterMs <= 0 || !troubled)) setDue(troubled)
    if (dismissed && dismissed !== current) setDismissed(null)
    useEffect(() => {
      if (!troubled || due) return
      const timer = setTimeout(() => setDue(true), showAfterMs)
      return () => clearTimeout(timer)
    }, [troubled, due, showAfterMs])
    const shown = due ? current : null
    // A new trouble not shown yet ends the last episode: no "restored" after a blip nobody saw.
    if (wasShown !== (shown !== null) && troubled) setWasShown(shown !== null)
    // Counted from when the trouble began (not from when it shows), so the whole wait is the one the client chose.
    const { remainingMs, totalMs } = useCountdown((current && snapshot?.nextRetryAt) ?? null, client)
    // A ReconnectCountdown of this client shows the time already: say it once.
    const timeShownElsewhere = useClaimed(client, 'countdown-time')
    const sentence = shown && snapshot && messageOf(shown, snapshot, labels, totalMs)
    const message = sentence || (wasShown ? labels.reconnected : '')
    const terminal = shown === 'failed'
    const state = (shown !== dismissed && shown) || 'hidden'
    const value: BannerContext = {
      state,
      snapshot,
      labels,
      client,
      message: sentence || '',
      remainingMs: state != 'hidden' && !timeShownElsewhere ? remainingMs : null,
      dismiss: () => setDismissed(current),
      polite: terminal ? '' : message,
      assertive: terminal ? message : '',
    }
    return [value, rest]
  },
)

/** The live regions (visually hidden): the state's sentence, politely; a terminal failure, assertively. */
const Announcer = /* @__PURE__ */ createAnnouncer('banner-announcer', Context)

/** The sentence for the state (a `<p>`); children replace it. */
const Message = /* @__PURE__ */ createPart(
  'p',
  'banner-message',
  Context,
  ({ state, message }) => state != 'hidden' && { children: message },
)

/**
 * Time to the next attempt (a `<span>`, ticking each second, never announced); renders nothing when none is due, or
 * while a `ReconnectCountdown` (its `Time`) of the same client shows it.
 */
const Countdown = /* @__PURE__ */ createPart(
  'span',
  'banner-countdown',
  Context,
  ({ remainingMs, labels }) => remainingMs !== null && { children: labels.retryIn(labels.formatDuration(remainingMs)) },
)

/**
 * Calls `client.retry()` (a `<button>`); not rendered in `degraded`, `aria-disabled` while an attempt is running. While
 * it is rendered, a `ReconnectCountdown` of the same client leaves out its own Retry now.
 */
const RetryButton = /* @__PURE__ */ createPart(
  'button',
  'banner-retry',
  Context,
  ({ state, snapshot, labels, client }) =>
    state != 'hidden' &&
    state != 'degraded' && {
      children: labels.retry,
      'aria-disabled': snapshot?.status === 'connecting' || undefined,
      onClick: () => client?.retry(),
    },
  true,
)

/** Hides the banner until its state changes (a `<button>`). */
const DismissButton = /* @__PURE__ */ createPart(
  'button',
  'banner-dismiss',
  Context,
  ({ state, labels, dismiss }) => state != 'hidden' && { children: labels.dismiss, onClick: dismiss },
)

/** The drop-in: the root with, in order, `Announcer`, `Message`, `Countdown`, `RetryButton` and `DismissButton`. */
const DropIn = /* @__PURE__ */ forwardRef<HTMLDivElement, Omit<ConnectionBannerProps, 'children'>>((props, ref) => (
  <Root {...props} ref={ref}>
    <Announcer />
    <Message />
    <Countdown />
    <RetryButton />
    <DismissButton />
  </Root>
))

const parts = { Root, Announcer, Message, Countdown, RetryButton, DismissButton }

/**
 * Tells users what is happening to the connection, in plain words: offline, reconnecting (with a countdown), slow
 * fallback mode, session refresh or expiry, rate limiting, or a failure with its reason and what to do; with Retry
 * now and Dismiss. Works with no props inside a `LifelineProvider`. Next to a `ReconnectCountdown` of the same client,
 * the time is said once (by the countdown) and Retry now shown once (by the banner). For your own markup, compose its
 * parts:
 * `Root`, `Announcer`, `Message`, `Countdown`, `RetryButton`, `DismissButton`.
 * @example <ConnectionBanner showAfterMs={2000} labels={{ offline: 'No network.' }} />
 */
export const ConnectionBanner = /* @__PURE__ */ Object.assign(DropIn, parts)

if (process.env.NODE_ENV !== 'production') nameParts('ConnectionBanner', DropIn, parts, { Root: Context })
