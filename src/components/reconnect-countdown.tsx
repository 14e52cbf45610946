'use client'
import { createContext, forwardRef, type ComponentPropsWithoutRef } from 'react'
import type { LifelineClient } from '../core'
import { useClaimed } from './claims'
import { createPart, createRoot, nameParts, useSnapshot } from './parts'
import { formatDuration, useCountdown } from './use-countdown'

/**
 * Where the countdown is (the `data-state` of its root and of every part): `waiting` for a scheduled attempt, `connecting` while an attempt
 * after a failure runs, `inactive` otherwise (connected, offline with nothing scheduled, closed, failed).
 */
export type ReconnectCountdownState = 'waiting' | 'connecting' | 'inactive'

/** Every text of {@link ReconnectCountdown}. Pass any subset as `labels`; the rest stay English. */
export interface ReconnectCountdownLabels {
  /** The wait, given `formatDuration(ms)`. @default (time) => `Retrying in ${time}.` */
  retryIn: (time: string) => string
  /** While the attempt runs. @default 'Reconnecting…' */
  connecting: string
  /** The attempt number, and the maximum when known. @default (attempt, max) => `Attempt ${attempt} of ${max}` or `Attempt ${attempt}` */
  attempt: (attempt: number, max: number | null) => string
  /** Accessible name of the progress bar. @default 'Time until the next attempt' */
  progress: string
  /** @default 'Retry now' */
  retry: string
  /** Formats a wait in ms. @default 5 s, 2 min 5 s */
  formatDuration: (ms: number) => string
}

/** The English labels of {@link ReconnectCountdown}. */
export const defaultReconnectCountdownLabels: ReconnectCountdownLabels = {
  retryIn: (time) => `Retrying in ${time}.`,
  connecting: 'Reconnecting…',
  attempt: (attempt, max) => `Attempt ${attempt}` + (max ? ` of ${max}` : ''),
  progress: 'Time until the next attempt',
  retry: 'Retry now',
  formatDuration,
}

interface CountdownContext {
  state: ReconnectCountdownState
  attempt: number
  max: number | null
  remainingMs: number | null
  totalMs: number | null
  labels: ReconnectCountdownLabels
  /** `null` while server rendering under a provider that creates its client on mount. */
  client: LifelineClient | null
  /** A ConnectionBanner of the same client shows Retry now: the countdown leaves its own out. */
  retryShownElsewhere: boolean
}

const Context = /* @__PURE__ */ createContext<CountdownContext | null>(null)

/** Props of {@link ReconnectCountdown} and `ReconnectCountdown.Root` (a `<div>`). */
export interface ReconnectCountdownProps extends ComponentPropsWithoutRef<'div'> {
  /**
   * The client to report on, instead of the nearest `LifelineProvider`'s. `null` (what a hook's `client` is before it
   * has one) is the same as none. @default the provider's client
   */
  client?: LifelineClient | null | undefined
  /**
   * The maximum in "attempt n of max"; `Infinity` shows "attempt n".
   * @default the client's `maxAttempts`
   */
  maxAttempts?: number | undefined
  /** Texts, merged over {@link defaultReconnectCountdownLabels}. @default {} */
  labels?: Partial<ReconnectCountdownLabels> | undefined
}

/**
 * The countdown's root: a `<div>` with `data-state` (a {@link ReconnectCountdownState}), always rendered; while
 * `inactive` the other parts render nothing and the root is `display: contents`. It is not a live region: announcing
 * is the banner's job.
 */
const Root = /* @__PURE__ */ createRoot(
  'countdown',
  Context,
  'inactive',
  function useReconnectCountdown({ client: explicit, maxAttempts, labels, ...rest }: ReconnectCountdownProps) {
    const [client, snapshot] = useSnapshot(explicit)
    const { status = 'idle', attempt = 0, nextRetryAt = null } = snapshot ?? {}
    const state: ReconnectCountdownState =
      status === 'reconnecting' && nextRetryAt !== null
        ? 'waiting'
        : status === 'connecting' && attempt > 0
          ? 'connecting'
          : 'inactive'
    const value: CountdownContext = {
      state,
      attempt,
      max: (maxAttempts ??= client?.maxAttempts) && maxAttempts < Infinity ? maxAttempts : null,
      ...useCountdown(state === 'waiting' ? nextRetryAt : null, client),
      labels: { ...defaultReconnectCountdownLabels, ...labels },
      client,
      retryShownElsewhere: useClaimed(client, 'banner-retry'),
    }
    return [value, rest]
  },
)

/**
 * "Retrying in 5 s." (a `<span>`, re-rendered each second, never announced), or "Reconnecting…" during the attempt.
 * While it is rendered, a `ConnectionBanner` of the same client leaves out its own countdown.
 */
const Time = /* @__PURE__ */ createPart(
  'span',
  'countdown-time',
  Context,
  ({ state, remainingMs, labels }) =>
    state !== 'inactive' && {
      children: remainingMs === null ? labels.connecting : labels.retryIn(labels.formatDuration(remainingMs)),
    },
  true,
)

/** "Attempt 2 of 5" (a `<span>`). */
const Attempt = /* @__PURE__ */ createPart(
  'span',
  'countdown-attempt',
  Context,
  ({ state, attempt, max, labels }) =>
    state !== 'inactive' && attempt > 0 && { children: labels.attempt(attempt, max) },
)

/**
 * The wait so far as a `<progress>` (named by `labels.progress`; indeterminate while the attempt runs). Not a live
 * region: its value changes each second silently.
 */
const Progress = /* @__PURE__ */ createPart(
  'progress',
  'countdown-progress',
  Context,
  ({ state, remainingMs, totalMs, labels }) => {
    const max = Math.max(totalMs ?? 0, 1)
    return (
      state !== 'inactive' && {
        'aria-label': labels.progress,
        max,
        value: remainingMs === null ? undefined : max - Math.min(remainingMs, max),
      }
    )
  },
)

/**
 * Calls `client.retry()` now (a `<button>`); `aria-disabled` while an attempt is already running. Not rendered while a
 * `ConnectionBanner` of the same client shows its Retry now (it stays there across the outage, so focus is not lost).
 */
const RetryButton = /* @__PURE__ */ createPart(
  'button',
  'countdown-retry',
  Context,
  ({ state, labels, client, retryShownElsewhere }) =>
    state !== 'inactive' &&
    !retryShownElsewhere && {
      children: labels.retry,
      'aria-disabled': state === 'connecting' || undefined,
      onClick: () => client?.retry(),
    },
)

/** The drop-in: the root with, in order, `Time`, `Attempt`, `Progress` and `RetryButton`. */
const DropIn = /* @__PURE__ */ forwardRef<HTMLDivElement, Omit<ReconnectCountdownProps, 'children'>>((props, ref) => (
  <Root {...props} ref={ref}>
    <Time />
    <Attempt />
    <Progress />
    <RetryButton />
  </Root>
))

const parts = { Root, Time, Attempt, Progress, RetryButton }

/**
 * Time to the next reconnection attempt (from `nextRetryAt`, on the client's clock), the attempt number, a progress
 * bar of the wait, and Retry now. Ticks silently. Works with no props inside a `LifelineProvider`. Next to a
 * `ConnectionBanner` of the same client, it shows the time and leaves Retry now to the banner while the banner shows
 * it. Compose its parts for your own markup:
 * `Root`, `Time`, `Attempt`, `Progress`, `RetryButton`.
 * @example <ReconnectCountdown />
 */
export const ReconnectCountdown = /* @__PURE__ */ Object.assign(DropIn, parts)

if (process.env.NODE_ENV !== 'production') nameParts('ReconnectCountdown', DropIn, parts, { Root: Context })
