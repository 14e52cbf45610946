// The page driven by event-source.node.test.ts: useEventSource on a channel of a real lifeline server (`?url=<events
// URL>`; the token comes from `globalThis.__eventToken`, set by an init script, never from a URL), with the connection
// components on `result.client`, the last events and a resumed / gap indicator. Two histories: `onMessage` (every
// message, in order: what an app that must see each one uses) and an effect on `lastMessage` (updated at most once per
// animation frame, as documented: a subsequence).
import { StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { ConnectionBanner, ReconnectCountdown } from '../../src/components'
import type { InboundMessage } from '../../src/core'
import { useEventSource } from '../../src/react'

/** One message as the page saw it. */
export interface Seen {
  id: string
  type: string
  data: unknown
}

/** What the test reads from the page (plain data: it crosses `page.evaluate`). */
export interface EventSourceView {
  status: string
  attempt: number
  resumed: boolean | null
  /** `lastError` as `CODE: message`, or `null`. */
  lastError: string | null
  /** The text of the resumed / gap indicator. */
  resumedText: string
  /** Every message, from `onMessage`. */
  history: Seen[]
  /** Every `lastMessage` the effect saw. */
  lastMessageHistory: Seen[]
}

/** The page's handle, as `window.eventPage`. */
export interface EventSourcePageHandle {
  view(): EventSourceView
  now(): number
  /** Uncaught errors and unhandled rejections seen by the page. */
  errors: string[]
}

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))

const history: Seen[] = []
const lastMessageHistory: Seen[] = []
let latest = { status: 'idle', attempt: 0, resumed: null as boolean | null, lastError: null as string | null }

const seen = (message: InboundMessage): Seen => ({
  id: message.lastEventId ?? '',
  type: message.type ?? 'message',
  data: typeof message.data === 'string' ? (JSON.parse(message.data) as unknown) : null,
})

const SHOWN = 5

function resumedLabel(resumed: boolean | null): string {
  if (resumed === null) return 'no reconnect yet'
  return resumed ? 'resumed: nothing missed' : 'gap: history was lost'
}

function App(props: { url: string; token: string }) {
  const [count, setCount] = useState(0)
  const result = useEventSource(props.url, {
    getToken: () => props.token,
    minDelayMs: 200,
    maxDelayMs: 1000,
    onMessage: (message) => {
      history.push(seen(message))
      setCount(history.length)
    },
  })
  const { lastMessage, status, attempt, session, lastError } = result
  useEffect(() => {
    if (lastMessage) lastMessageHistory.push(seen(lastMessage))
  }, [lastMessage])
  useEffect(() => {
    latest = {
      status,
      attempt,
      resumed: session.resumed,
      lastError: lastError
        ? `${lastError.code}: ${lastError.message} (${String((lastError as { cause?: unknown }).cause)})`
        : null,
    }
  })

  return (
    <main>
      <h1>Event stream</h1>
      {/* `result.client` is `LifelineClient | null`; the components take `LifelineClient | undefined`. */}
      <ConnectionBanner client={result.client ?? undefined} />
      <ReconnectCountdown client={result.client ?? undefined} maxAttempts={20} />
      <dl>
        <dt>Status</dt>
        <dd data-testid="status">{status}</dd>
        <dt>Messages</dt>
        <dd data-testid="count">{count}</dd>
        <dt>Resume</dt>
        <dd data-testid="resumed" data-resumed={String(session.resumed)}>
          {resumedLabel(session.resumed)}
        </dd>
      </dl>
      <h2>Last events</h2>
      <ol aria-label="Last events">
        {history.slice(-SHOWN).map((entry) => (
          <li key={entry.id}>
            {entry.type} {entry.id} {JSON.stringify(entry.data)}
          </li>
        ))}
      </ol>
    </main>
  )
}

const params = new URLSearchParams(location.search)
const url = params.get('url')
if (!url) throw new Error('event-source page needs ?url=<events URL>')
const handle: EventSourcePageHandle = {
  view: () => ({
    ...latest,
    resumedText: document.querySelector('[data-testid="resumed"]')?.textContent ?? '',
    history: [...history],
    lastMessageHistory: [...lastMessageHistory],
  }),
  now: () => performance.now(),
  errors,
}
;(globalThis as unknown as { eventPage: EventSourcePageHandle }).eventPage = handle
document.documentElement.lang = 'en'
const root = document.createElement('div')
document.body.append(root)
createRoot(root).render(
  <StrictMode>
    <App url={url} token={(globalThis as unknown as { __eventToken?: string }).__eventToken ?? ''} />
  </StrictMode>,
)
