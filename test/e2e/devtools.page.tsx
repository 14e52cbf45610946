// The page driven by devtools.node.test.ts: a chat feed (useChannel), the banner and the queue, and
// `<LifelineDevtools initialIsOpen />` (the public entry, its panel loaded lazily), in StrictMode, talking to a real
// lifeline server (`?ws=<url>`). Every distinct state the components show is recorded as it happens in the DOM; after
// an export, `replay()` renders the same components on `replayTrace(trace)` in a second root, with a second panel, and
// records theirs. Bundled by esbuild and served on 127.0.0.1; the test reads it through `window.lifeline`.
import { StrictMode, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'
import { flushSync } from 'react-dom'
import { ConnectionBanner, OfflineQueue } from '../../src/components'
import { createLifeline, lifelineProtocol } from '../../src/core'
import { LifelineDevtools, type DevtoolsTrace } from '../../src/devtools'
import { LifelineProvider, useChannel } from '../../src/react'
// The replay module only (the testing index also exports the Node servers).
import { replayTrace } from '../../src/testing/replay'

/** Shorter than the defaults so an outage shows several attempts in a few seconds. */
export const BACKOFF = { minDelayMs: 200, maxDelayMs: 1600 }

/** The page's handle, as `window.lifeline` (plain data crosses `page.evaluate`). */
export interface DevtoolsPageHandle {
  status(): { status: string; attempt: number; lastClose: { code: number; wasClean: boolean } | null; online: boolean }
  /** The feed: `<channel status>:<n,n,...>`. */
  feed(): string
  publish(text: string): void
  /** Distinct states of the live components, in order: `<banner state>|<banner message>|<queue state>|<summary>`. */
  liveStates: string[]
  /** The last trace the panel exported (Actions → Export trace), as JSON text. */
  exported: string | null
  /** Renders the components and a second panel on `replayTrace(exported)`, steps to the end; their states. */
  replay(): Promise<string[]>
  errors: string[]
}

const params = new URLSearchParams(location.search)
const url = params.get('ws')
if (!url) throw new Error('devtools page needs ?ws=<url>')

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))
document.documentElement.lang = 'en'

const protocol = lifelineProtocol()
// `&slow`: waits of 10 s, so a reconnection within a second or two can only come from an action.
const backoff = params.has('slow') ? { minDelayMs: 10_000, maxDelayMs: 10_000 } : BACKOFF
const client = createLifeline({ url: `${url}?token=s3cret`, protocol, ...backoff, connectTimeoutMs: 2000 })

function Feed(): ReactNode {
  const { messages, status } = useChannel<{ n: number }>('news')
  return (
    <p data-testid="feed">
      {status}:{messages.map((message) => message.data.n).join(',')}
    </p>
  )
}

/** The components' state in `root`, the seconds of any wait blanked (a replay is read at another time). */
function stateOf(root: Element): string {
  const part = (name: string) => root.querySelector(`[data-lifeline="${name}"]`)
  const parts = [
    part('banner')?.getAttribute('data-state') ?? 'absent',
    part('banner-message')?.textContent ?? '',
    part('queue')?.getAttribute('data-state') ?? 'absent',
    part('queue-summary')?.textContent ?? '',
  ]
  return parts.join('|').replace(/\d+ s\b/g, 'N s')
}

/** Records each distinct state of the components under `root` as the DOM changes (and now, when `now`). */
function recordStates(root: Element, into: string[], now: boolean): void {
  const record = () => {
    const state = stateOf(root)
    if (into.at(-1) !== state) into.push(state)
  }
  new MutationObserver(record).observe(root, { subtree: true, childList: true, characterData: true, attributes: true })
  if (now) record()
}

let exported: string | null = null
const ui = (target: typeof client, panel: ReactNode) => (
  <LifelineProvider client={target}>
    <ConnectionBanner showAfterMs={0} />
    <OfflineQueue />
    {panel}
  </LifelineProvider>
)

const live = document.createElement('main')
document.body.append(live)
const liveStates: string[] = []
// From the first render on.
recordStates(live, liveStates, false)
createRoot(live).render(
  <StrictMode>
    <h1>Devtools</h1>
    {ui(
      client,
      <>
        <Feed />
        <LifelineDevtools initialIsOpen backoff={backoff} onExport={(trace) => (exported = JSON.stringify(trace))} />
      </>,
    )}
  </StrictMode>,
)

const handle: DevtoolsPageHandle = {
  status() {
    const snapshot = client.getSnapshot()
    const close = snapshot.lastClose
    return {
      status: snapshot.status,
      attempt: snapshot.attempt,
      lastClose: close && { code: close.code, wasClean: close.wasClean },
      online: snapshot.online,
    }
  },
  feed: () => document.querySelector('[data-testid="feed"]')?.textContent ?? '',
  publish: (text) => void protocol.publish('outbox', { text }),
  liveStates,
  get exported() {
    return exported
  },
  async replay() {
    if (!exported) throw new Error('nothing exported yet')
    const replay = replayTrace(JSON.parse(exported) as DevtoolsTrace, { rebase: false })
    const section = document.createElement('section')
    section.setAttribute('aria-label', 'Replay')
    document.body.append(section)
    const panelHost = document.createElement('div')
    panelHost.dataset.replay = ''
    document.body.append(panelHost)
    const states: string[] = []
    const root = createRoot(section)
    flushSync(() => root.render(ui(replay.client, <LifelineDevtools initialIsOpen container={panelHost} />)))
    recordStates(section, states, true)
    // The second panel's recorder must be listening before the first step.
    const panelUp = () => panelHost.querySelector('[data-lifeline-devtools]')?.shadowRoot?.querySelector('.ld-panel')
    for (let frame = 0; frame < 100 && !panelUp(); frame += 1) {
      await new Promise((resolve) => requestAnimationFrame(resolve))
    }
    if (!panelUp()) throw new Error('the replay panel did not open')
    // One step a frame, each rendered before the next (as the live components rendered each snapshot).
    while (replay.step()) await new Promise((resolve) => requestAnimationFrame(resolve))
    await new Promise((resolve) => setTimeout(resolve, 50))
    return states
  },
  errors,
}
;(globalThis as { lifeline?: DevtoolsPageHandle }).lifeline = handle
