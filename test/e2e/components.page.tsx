// The page driven by components.node.test.ts: the three drop-in components with no props but maxAttempts, inside a
// LifelineProvider, in StrictMode, talking to a real lifeline server (`?ws=<url>`, `&fallback` for the long-poll
// fallback), or, with `?scripted`, to a client
// whose snapshot and outbox the test sets from the unit tests' cases. Bundled by esbuild and served on 127.0.0.1; the
// test reads it through `window.lifeline` and clicks it like a user.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { ConnectionBanner, getConnectionBannerState, OfflineQueue, ReconnectCountdown } from '../../src/components'
import {
  createLifeline,
  lifelineProtocol,
  longPollFallback,
  rawProtocol,
  type ConnectionSnapshot,
  type LifelineClient,
  type OutboxItem,
} from '../../src/core'
import { LifelineProvider } from '../../src/react'
import { bannerCases, closed, idle, mixedItems } from '../components/cases'

/** One entry of the page's timeline; `at` is `performance.now()` in the page. */
export type TimelineEntry =
  | { kind: 'troubled'; troubled: boolean; at: number }
  | { kind: 'banner'; state: string; at: number }
  | { kind: 'click'; target: string; at: number }

/** What the test reads from the page (plain data: it crosses `page.evaluate`). */
export interface PageView {
  status: string
  transport: string | null
  attempt: number
  /** `nextRetryAt - Date.now()`, read in the same task as the texts below. */
  remainingMs: number | null
  bannerState: string
  bannerText: string
  bannerCountdown: string | null
  countdownState: string
  countdownTime: string | null
  countdownAttempt: string | null
  queueState: string
  queueSummary: string | null
  queueItems: { state: string; preview: string }[]
  polite: string
  assertive: string
  /** `data-lifeline` of every "Retry now" button and of every element saying "Retrying in …", in document order. */
  retryButtons: string[]
  retryingIn: string[]
}

/** The page's handle, as `window.lifeline`. */
export interface PageHandle {
  view(): PageView
  publish(channel: string, values: unknown[]): string[]
  timeline: TimelineEntry[]
  /** Uncaught errors and unhandled rejections seen by the page. */
  errors: string[]
  /** `performance.now()` of the page, to compare with the timeline. */
  now(): number
  /** Scripted page: the names of the cases, and shows one (`null`: healthy, with the outbox empty). */
  cases: string[]
  showCase(name: string | null): void
}

const params = new URLSearchParams(location.search)
const url = params.get('ws')
const scripted = params.has('scripted')
if (!url && !scripted) throw new Error('components page needs ?ws=<url> or ?scripted')

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))
document.documentElement.lang = 'en'

/** Every banner case, each with the outbox in every item state, and the countdown's connecting state. */
const scriptedCases: Record<string, { snapshot: Partial<ConnectionSnapshot>; items: OutboxItem[] }> = {
  ...Object.fromEntries(
    bannerCases(Date.now() + 60_000).map((entry, index) => [
      entry.name,
      // Every other case with nothing failed: the queue's `waiting` state.
      { snapshot: entry.snapshot, items: mixedItems().filter((item) => index % 2 === 1 || item.state !== 'failed') },
    ]),
  ),
  'an attempt running, only failed messages': {
    snapshot: { status: 'connecting', attempt: 3, lastClose: closed(1006) },
    items: mixedItems().filter((item) => item.state === 'failed'),
  },
}
let script: (snapshot: Partial<ConnectionSnapshot>, items: readonly OutboxItem[]) => void = () => undefined

/** A client that only reports what the test scripts. */
function scriptedClient(): LifelineClient {
  let snapshot: ConnectionSnapshot = { ...idle, status: 'open', transport: 'websocket' }
  let items: readonly OutboxItem[] = []
  const listeners = new Set<() => void>()
  script = (change, next) => {
    snapshot = { ...idle, status: 'open', transport: 'websocket', ...change }
    items = next
    for (const listener of listeners) listener()
  }
  const nothing = () => undefined
  return {
    url: 'ws://scripted.invalid/',
    maxAttempts: Infinity,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    on: () => nothing,
    connect: nothing,
    close: nothing,
    retry: nothing,
    send: () => '',
    sendJson: () => '',
    outbox: { items: () => items, retry: nothing, discard: nothing },
    protocol: rawProtocol(),
    retain: () => nothing,
    dispose: nothing,
    getWebSocket: () => null,
    resources: () => ({ timers: 0, listeners: listeners.size, sockets: 0 }),
    now: () => Date.now(),
  }
}

const protocol = lifelineProtocol()
// Waits of 3 to 4 s between attempts: long enough to read a countdown and to press Retry now well before it ends.
const fallback = params.has('fallback') ? longPollFallback({ upgradeProbeMs: 1000, probeTimeoutMs: 1000 }) : undefined
const client = url
  ? createLifeline({
      url,
      protocol,
      minDelayMs: 3000,
      maxDelayMs: 4000,
      maxAttempts: 20,
      ...(fallback && { fallback }),
    })
  : scriptedClient()

const timeline: TimelineEntry[] = []
let troubled = false
client.subscribe(() => {
  const now = getConnectionBannerState(client.getSnapshot()) !== null
  if (now !== troubled) timeline.push({ kind: 'troubled', troubled: (troubled = now), at: performance.now() })
})
addEventListener(
  'click',
  (event) => {
    const target = (event.target as HTMLElement).closest('[data-lifeline]')?.getAttribute('data-lifeline') ?? ''
    timeline.push({ kind: 'click', target, at: performance.now() })
  },
  true,
)

const main = document.createElement('main')
document.body.append(main)
/** `&layout`: the three drop-ins between two 10 px markers, in a flex row and in a grid, each with a 16 px gap. */
const layout = (display: 'flex' | 'grid') => (
  <div data-layout={display} style={{ display, gap: 16, gridAutoFlow: 'column', justifyContent: 'start' }}>
    <span data-marker="before" style={{ display: 'block', width: 10, height: 10 }} />
    <ConnectionBanner showAfterMs={0} />
    <ReconnectCountdown />
    <OfflineQueue />
    <span data-marker="after" style={{ display: 'block', width: 10, height: 10 }} />
  </div>
)
createRoot(main).render(
  <StrictMode>
    <LifelineProvider client={client}>
      <h1>Components</h1>
      {params.has('layout') ? (
        <>
          {layout('flex')}
          {layout('grid')}
        </>
      ) : (
        <>
          <ConnectionBanner showAfterMs={scripted ? 0 : undefined} />
          <ReconnectCountdown maxAttempts={20} />
          <OfflineQueue defaultExpanded />
        </>
      )}
    </LifelineProvider>
  </StrictMode>,
)

const part = (name: string) => document.querySelector(`[data-lifeline="${name}"]`)
const text = (name: string) => part(name)?.textContent ?? null

// Every change of the banner's data-state, as it happens in the DOM.
let bannerState = ''
new MutationObserver(() => {
  const state = part('banner')?.getAttribute('data-state') ?? 'absent'
  if (state !== bannerState) timeline.push({ kind: 'banner', state: (bannerState = state), at: performance.now() })
}).observe(main, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] })

const handle: PageHandle = {
  view() {
    const snapshot = client.getSnapshot()
    return {
      status: snapshot.status,
      transport: snapshot.transport,
      attempt: snapshot.attempt,
      remainingMs: snapshot.nextRetryAt === null ? null : snapshot.nextRetryAt - Date.now(),
      bannerState: part('banner')?.getAttribute('data-state') ?? 'absent',
      bannerText: text('banner-message') ?? '',
      bannerCountdown: text('banner-countdown'),
      countdownState: part('countdown')?.getAttribute('data-state') ?? 'absent',
      countdownTime: text('countdown-time'),
      countdownAttempt: text('countdown-attempt'),
      queueState: part('queue')?.getAttribute('data-state') ?? 'absent',
      queueSummary: text('queue-summary'),
      queueItems: [...document.querySelectorAll('[data-lifeline="queue-item"]')].map((item) => ({
        state: item.getAttribute('data-state') ?? '',
        preview: item.querySelector('[data-lifeline="queue-preview"]')?.textContent ?? '',
      })),
      polite: part('banner-announcer')?.querySelector('[role="status"]')?.textContent ?? '',
      assertive: part('banner-announcer')?.querySelector('[role="alert"]')?.textContent ?? '',
      retryButtons: [...document.querySelectorAll('button')]
        .filter((button) => button.textContent === 'Retry now')
        .map((button) => button.dataset.lifeline ?? ''),
      retryingIn: [...document.querySelectorAll<HTMLElement>('[data-lifeline]')]
        .filter((element) => element.childElementCount === 0 && element.textContent?.startsWith('Retrying in'))
        .map((element) => element.dataset.lifeline ?? ''),
    }
  },
  publish: (channel, values) => values.map((value) => protocol.publish(channel, value)),
  timeline,
  errors,
  now: () => performance.now(),
  cases: Object.keys(scriptedCases),
  showCase(name) {
    const entry = name === null ? { snapshot: {}, items: [] } : scriptedCases[name]
    if (!entry) throw new Error(`no case ${name}`)
    script(entry.snapshot, entry.items)
  },
}
;(globalThis as { lifeline?: PageHandle }).lifeline = handle
