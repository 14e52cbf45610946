// useChannel under test: `listeners` components, each with useChannel on the run's channel, each rendering its count
// and the last id. onMessage counts every message (for lost / out-of-order); a layout effect counts commits and marks
// the component done when it has rendered the last id.
import { useEffect, useLayoutEffect } from 'react'
import { createRoot } from 'react-dom/client'
import { createLifeline, LifelineProvider, lifelineProtocol, useChannel } from '../../src'
import { createProbe, readConfig, type ListenerStats } from './probe'

interface Payload {
  id: number
  pad: string
}

const config = readConfig()
const probe = createProbe(config)
const client = createLifeline({ url: config.url, protocol: lifelineProtocol() })
let subscribed = 0

function Counter({ stats }: { stats: ListenerStats }) {
  const { last, status } = useChannel<Payload>(config.channel, {
    onMessage: (message) => {
      probe.receive(stats, message.data.id)
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
