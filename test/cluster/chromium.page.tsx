// The page driven by chromium.test.ts: a `useChannel('feed')` component inside a LifelineProvider, in StrictMode,
// connected through the cluster's balancer (`?ws=<url>`). It checks every message it renders for order, gaps and
// duplicates; the test reads it through `window.lifeline`.
import { StrictMode, useEffect } from 'react'
import { createRoot } from 'react-dom/client'
import { createLifeline, lifelineProtocol } from '../../src/core'
import { LifelineProvider, useChannel, useConnection } from '../../src/react'

/** What the test reads from the page (plain data). */
export interface ClusterPageView {
  status: string
  /** Highest number received. */
  last: number
  received: number
  duplicated: number
  /** Messages whose number did not follow the previous one. */
  outOfOrder: number
  gaps: number
  /** Times the client left `open`. */
  drops: number
  errors: string[]
}

const url = new URLSearchParams(location.search).get('ws')
if (!url) throw new Error('the cluster page needs ?ws=<url>')

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))

const client = createLifeline({
  url,
  protocol: lifelineProtocol(),
  minDelayMs: 200,
  maxDelayMs: 2000,
  heartbeat: { intervalMs: 1000, timeoutMs: 2000 },
})
const seen = new Set<number>()
const counts = { last: 0, duplicated: 0, outOfOrder: 0, gaps: 0, drops: 0 }
let wasOpen = false
client.subscribe(() => {
  const open = client.getSnapshot().status === 'open'
  if (wasOpen && !open) counts.drops += 1
  wasOpen = open
})

function Feed() {
  const { last, status } = useChannel<{ n: number }>('feed', {
    onMessage(message) {
      const { n } = message.data
      if (seen.has(n)) counts.duplicated += 1
      else if (n !== counts.last + 1) counts.outOfOrder += 1
      seen.add(n)
      counts.last = Math.max(counts.last, n)
    },
    onGap() {
      counts.gaps += 1
    },
  })
  const connection = useConnection((snapshot) => snapshot.status)
  useEffect(() => {
    document.title = `${connection} ${String(last?.data.n ?? 0)}`
  })
  return (
    <p>
      <span data-testid="status">{connection}</span> · feed {status} · last{' '}
      <span data-testid="last">{last?.data.n ?? 0}</span>
    </p>
  )
}

const root = document.createElement('div')
document.body.append(root)
createRoot(root).render(
  <StrictMode>
    <LifelineProvider client={client}>
      <Feed />
    </LifelineProvider>
  </StrictMode>,
)

;(globalThis as unknown as { lifeline: { view(): ClusterPageView } }).lifeline = {
  view: () => ({ status: client.getSnapshot().status, received: seen.size, ...counts, errors: [...errors] }),
}
