// The app of ruw-move.node.test.ts, written for react-use-websocket the way its README shows: useWebSocket with
// shouldReconnect, and an effect on lastMessage that appends each message to a history. The test bundles this file
// twice: as it is ("before"), and with only the import line below moved to react-lifeline's compat entry ("after").
// To keep 100,000 messages tractable the history is a count with an order check (numbers) plus the other texts, still
// one state update per lastMessage, in the effect.
import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import useWebSocket, { ReadyState } from 'react-use-websocket'

/** The app's history of lastMessage: numbered messages counted and checked in order, other texts kept. */
export interface History {
  /** Numbered messages seen. */
  count: number
  /** The number expected next. */
  next: number
  /** Numbered messages that were not the one expected. */
  outOfOrder: number
  /** The first of them, as `expected → got`. */
  firstOutOfOrder: string | null
  /** Every other text, in order. */
  texts: string[]
}

/** What the test reads from the page (plain data: it crosses `page.evaluate`). */
export interface AppView {
  readyState: number
  history: History
  /** Every readyState the app rendered with, each with `performance.now()`, consecutive repeats left out. */
  states: { state: number; at: number }[]
}

/** The page's handle, as `window.app`. */
export interface AppHandle {
  view(): AppView
  send(texts: string[]): void
  now(): number
  /** Uncaught errors and unhandled rejections seen by the page. */
  errors: string[]
}

const empty: History = { count: 0, next: 0, outOfOrder: 0, firstOutOfOrder: null, texts: [] }

function append(history: History, data: unknown): History {
  const text = typeof data === 'string' ? data : String(data)
  if (!/^\d+$/.test(text)) return { ...history, texts: [...history.texts, text] }
  const got = Number(text)
  const wrong = got !== history.next
  return {
    ...history,
    count: history.count + 1,
    next: got + 1,
    outOfOrder: history.outOfOrder + (wrong ? 1 : 0),
    firstOutOfOrder: history.firstOutOfOrder ?? (wrong ? `${String(history.next)} → ${text}` : null),
  }
}

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))
const states: AppView['states'] = []
let latest: { readyState: number; history: History; send: (text: string) => void } = {
  readyState: -1,
  history: empty,
  send: () => undefined,
}

function App(props: { url: string }) {
  const { sendMessage, lastMessage, readyState } = useWebSocket(props.url, { shouldReconnect: () => true })
  const [history, setHistory] = useState<History>(empty)

  useEffect(() => {
    if (lastMessage) setHistory((previous) => append(previous, lastMessage.data))
  }, [lastMessage])

  useEffect(() => {
    latest = { readyState, history, send: (text) => sendMessage(text) }
    if (states.at(-1)?.state !== readyState) states.push({ state: readyState, at: performance.now() })
  })

  return (
    <p>
      {readyState === ReadyState.OPEN ? 'Connected' : 'Not connected'}, {history.count} messages
    </p>
  )
}

const url = new URLSearchParams(location.search).get('ws')
if (!url) throw new Error('ruw-move page needs ?ws=<url>')
const handle: AppHandle = {
  view: () => ({ readyState: latest.readyState, history: latest.history, states: [...states] }),
  send: (texts) => texts.forEach((text) => latest.send(text)),
  now: () => performance.now(),
  errors,
}
;(globalThis as unknown as { app: AppHandle }).app = handle
const root = document.createElement('div')
document.body.append(root)
createRoot(root).render(<App url={url} />)
