// The page driven by fallback.node.test.ts: one client with the long-poll fallback, subscribed to `feed`, checking
// every message it gets for gaps and duplicates; the test reads it through `window.lifeline`.
import { createLifeline, lifelineProtocol, longPollFallback } from '../../src/core'

/** What the test reads from the page (plain data). */
export interface FallbackView {
  status: string
  transport: string | null
  /** Every transport the client was open on, in order (repeats collapsed). */
  transports: string[]
  received: number
  duplicated: number
  /** Messages whose number did not follow the previous one. */
  outOfOrder: number
  gaps: number
  applied: number
  errors: string[]
}

export interface FallbackHandle {
  view(): FallbackView
  publish(count: number): void
}

const params = new URLSearchParams(location.search)
const url = params.get('ws')
if (!url) throw new Error('fallback page needs ?ws=<url>')

const errors: string[] = []
addEventListener('error', (event) => errors.push(String(event.message)))
addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)))

const protocol = lifelineProtocol()
const client = createLifeline({
  url,
  protocol,
  minDelayMs: 50,
  maxDelayMs: 250,
  heartbeat: { intervalMs: 1000, timeoutMs: 2000 },
  fallback: longPollFallback({ upgradeProbeMs: 1000, probeTimeoutMs: 1000 }),
})

const seen = new Set<number>()
let last = 0
let duplicated = 0
let outOfOrder = 0
let gaps = 0
let published = 0
const transports: string[] = []
client.subscribe(() => {
  const { status, transport } = client.getSnapshot()
  if (status === 'open' && transport && transports.at(-1) !== transport) transports.push(transport)
})
protocol.channel('feed', {
  message(message) {
    const n = (message.data as { n: number }).n
    if (seen.has(n)) duplicated += 1
    else if (n !== last + 1) outOfOrder += 1
    seen.add(n)
    last = Math.max(last, n)
  },
  gap() {
    gaps += 1
  },
})

const handle: FallbackHandle = {
  view() {
    const snapshot = client.getSnapshot()
    return {
      status: snapshot.status,
      transport: snapshot.transport,
      transports: [...transports],
      received: seen.size,
      duplicated,
      outOfOrder,
      gaps,
      applied: published - snapshot.outbox.queued - snapshot.outbox.inFlight,
      errors,
    }
  },
  publish(count) {
    for (let index = 0; index < count; index++) protocol.publish('uplink', { n: ++published })
  },
}
;(globalThis as unknown as { lifeline: FallbackHandle }).lifeline = handle
