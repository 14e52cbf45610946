import { WebSocket } from 'ws'
import { createLifeline, lifelineProtocol } from '../../src/core'
import type { ChannelGap, LifelineClient } from '../../src/core'
import { createLifelineServer, createMemoryBroker } from '../../src/server'
import type { Broker, LifelineServer } from '../../src/server'
import { waitFor } from './helpers'

// A server restart (close, then a new server on the same port), as README "The server" describes it: channels resume
// when the broker outlives the server; without one, history is gone and each channel reports one epoch-changed gap.

const open: { clients: LifelineClient[]; servers: LifelineServer[]; brokers: Broker[] } = {
  clients: [],
  servers: [],
  brokers: [],
}

afterEach(async () => {
  for (const client of open.clients.splice(0)) client.close()
  await Promise.all(open.servers.splice(0).map((server) => server.close()))
  await Promise.all(open.brokers.splice(0).map((broker) => broker.close()))
})

async function server(options: { port?: number; broker?: Broker } = {}): Promise<LifelineServer> {
  const started = await createLifelineServer({
    port: options.port ?? 0,
    ...(options.broker ? { broker: options.broker } : {}),
  })
  open.servers.push(started)
  return started
}

function subscriber(url: string) {
  const protocol = lifelineProtocol()
  const client = createLifeline({
    url,
    protocol,
    environment: { WebSocket },
    minDelayMs: 20,
    maxDelayMs: 100,
    connectTimeoutMs: 1000,
  })
  open.clients.push(client)
  const received: unknown[] = []
  const gaps: ChannelGap[] = []
  const resumed: (boolean | null)[] = []
  protocol.channel('room', {
    message: (message) => received.push(message.data),
    gap: (gap) => gaps.push(gap),
    status: (status) => {
      if (status.state === 'subscribed') resumed.push(status.resumed)
    },
  })
  return { client, received, gaps, resumed }
}

async function restart(first: LifelineServer, broker?: Broker): Promise<LifelineServer> {
  const { port } = first
  await first.close()
  open.servers.splice(open.servers.indexOf(first), 1)
  return server({ port, ...(broker ? { broker } : {}) })
}

describe('a server restart', () => {
  it('with a broker that outlives the server: every channel resumes, no gap, what was published meanwhile replayed', async () => {
    const broker = createMemoryBroker()
    open.brokers.push(broker)
    const first = await server({ broker })
    const entry = subscriber(first.url)
    await waitFor(() => entry.resumed.length === 1, 3000, 'subscribed')
    await first.publish('room', 1)
    await first.publish('room', 2)
    await waitFor(() => entry.received.length === 2, 3000, 'two messages')

    const second = await restart(first, broker)
    // Published while the client is away (another process sharing the broker would do the same).
    await broker.publish('room', '3')
    await waitFor(() => entry.resumed.length === 2, 5000, 'resubscribed after the restart')
    await second.publish('room', 4)
    await waitFor(() => entry.received.length === 4, 3000, 'four messages')

    expect(entry.received).toEqual([1, 2, 3, 4])
    expect(entry.resumed).toEqual([null, true])
    expect(entry.gaps).toEqual([])
  })

  it('without one (the server made its own): one gap per channel, reason epoch-changed, then the new stream', async () => {
    const first = await server()
    const entry = subscriber(first.url)
    await waitFor(() => entry.resumed.length === 1, 3000, 'subscribed')
    await first.publish('room', 1)
    await waitFor(() => entry.received.length === 1, 3000, 'one message')

    const second = await restart(first)
    await waitFor(() => entry.resumed.length === 2, 5000, 'resubscribed after the restart')
    await second.publish('room', 2)
    await waitFor(() => entry.received.length === 2, 3000, 'the next message')

    expect(entry.received).toEqual([1, 2])
    expect(entry.resumed).toEqual([null, false])
    expect(entry.gaps.map((gap) => gap.reason)).toEqual(['epoch-changed'])
    const [gap] = entry.gaps
    expect(gap!.from).toMatchObject({ seq: 1 })
    expect(gap!.to.epoch).not.toBe(gap!.from!.epoch)
  })
})
