// useChannel under test: `listeners` components, each with useChannel on the run's channel, each rendering its count
// and the last id. onMessage counts every message (for lost / out-of-order); a layout effect counts commits and marks
// the component done when it has rendered the last id. With `transport: 'longpoll'` the client runs over the HTTP
// long-poll transport from its first connection: a storage that says the choice was long-poll (the way a remembered
// choice works) and an upgrade probe too far away to ever run.
import { useEffect, useLayoutEffect } from 'react'
import { createRoot } from 'react-dom/client'
import { createLifeline, LifelineProvider, lifelineProtocol, longPollFallback, useChannel } from '../../src'
import { createProbe, readConfig, type ListenerStats } from './probe'

interface Payload {
  id: number
  /** Publish time (latency workload). */
  t?: number
  pad: string
}

/** Says "long-poll" for every key and remembers nothing. */
const rememberedLongPoll = {
  getItem: () => 'longpoll',
  setItem: () => undefined,
  removeItem: () => undefined,
}

const config = readConfig()
const client = createLifeline({
  url: config.url,
  protocol: lifelineProtocol(),
  ...(config.transport === 'longpoll'
    ? { fallback: longPollFallback({ storage: rememberedLongPoll, upgradeProbeMs: 3_600_000 }) }
    : {}),
})
const probe = createProbe(config, () => client.getSnapshot().transport ?? 'none')
let subscribed = 0

function Counter({ stats }: { stats: ListenerStats }) {
  const { last, status } = useChannel<Payload>(config.channel, {
    onMessage: (message) => {
      probe.receive(stats, message.data.id, message.data.t)
    },
    onGap: () => probe.gap(),
  })
  const lastId = last?.data.id ?? 0
  useLayoutEffect(() => {
    probe.committed(stats, lastId)
  })
  useEffect(() => {
    if (status !== 'subscribed') return
    subscribed += 1
    if (subscribed === config.listeners) probe.ready()
  }, [status])
  return (
    <p>
      {stats.received} messages, last {lastId}
    </p>
  )
}

const container = document.getElementById('root')
if (!container) throw new Error('bench page without #root')
createRoot(container).render(
  <LifelineProvider client={client}>
    {probe.listeners.map((stats, index) => (
      <Counter key={index} stats={stats} />
    ))}
  </LifelineProvider>,
)
