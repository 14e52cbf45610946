import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBroker } from '../../src/server'
import type { Broker, BrokerHealth } from '../../src/server'
import { call, capturingLogger, cleanup, connectReady, logLines, startServer, waitFor } from './helpers'

afterEach(async () => {
  await cleanup()
  logLines.length = 0
})

const healthUrl = (url: string): string => `${url.replace(/^ws/, 'http')}/healthz`

/** A memory broker whose store reachability the test switches, and whose publish fails while "down". */
function switchableBroker(): { broker: Broker; set(status: BrokerHealth['status']): void } {
  const inner = createMemoryBroker()
  const listeners = new Set<(health: BrokerHealth) => void>()
  let health: BrokerHealth = { status: 'ok', since: Date.now() }
  const unavailable = Object.assign(new Error('Redis call failed'), { code: 'BROKER_UNAVAILABLE' })
  const broker: Broker = {
    publish: (channel, payload) =>
      health.status === 'ok' ? inner.publish(channel, payload) : Promise.reject(unavailable),
    subscribe: (channel, listener) => inner.subscribe(channel, listener),
    history: (channel, since) => inner.history(channel, since),
    reset: (channel) => inner.reset(channel),
    close: () => inner.close(),
    health: () => health,
    onHealth(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
  }
  return {
    broker,
    set(status) {
      health = { status, since: Date.now() }
      for (const listener of listeners) listener(health)
    },
  }
}

describe('broker health: stats(), logs and GET <path>/healthz', () => {
  it('answers 200 {"status":"ok"} with the memory broker, and stats().broker is ok', async () => {
    const server = await startServer()
    const reply = await call(healthUrl(server.url), {})
    expect(reply.status).toBe(200)
    expect(reply.headers.get('cache-control')).toBe('no-store')
    expect(reply.body).toEqual({ status: 'ok' })
    expect(server.stats().broker).toMatchObject({ status: 'ok' })
    expect((await call(healthUrl(server.url), { method: 'POST' })).status).not.toBe(200)
  })

  it('says degraded while the broker is down (503, stats, one log line per change), and nacks pub as UNAVAILABLE', async () => {
    const { broker, set } = switchableBroker()
    const server = await startServer({ broker, logger: capturingLogger })
    const { client } = await connectReady(server.url)
    set('down')
    set('down')
    expect(server.stats().broker).toMatchObject({ status: 'down' })
    const down = await call(healthUrl(server.url), {})
    expect(down).toMatchObject({ status: 503, body: { status: 'degraded', broker: 'down' } })
    client.send({ type: 'pub', id: 'p1', ch: 'a', data: 1 })
    expect(await client.next('nack')).toMatchObject({ id: 'p1', code: 'UNAVAILABLE' })
    set('ok')
    expect((await call(healthUrl(server.url), {})).status).toBe(200)
    client.send({ type: 'pub', id: 'p1', ch: 'a', data: 1 })
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'p1' })
    expect(logLines.filter((line) => line.includes('broker unreachable'))).toHaveLength(1)
    expect(logLines.filter((line) => line.includes('broker reachable again'))).toHaveLength(1)
    await broker.close()
  })

  it('after an UNAVAILABLE nack refuses later pubs alike until the refused one is resent, so order is kept', async () => {
    const { broker, set } = switchableBroker()
    const server = await startServer({ broker })
    const { client } = await connectReady(server.url)
    await client.subscribe('a')
    set('down')
    client.send({ type: 'pub', id: 'p1', ch: 'a', data: 1 })
    expect(await client.next('nack')).toMatchObject({ id: 'p1', code: 'UNAVAILABLE' })
    // The broker is back before the next one arrives: applying p2 now would put it ahead of p1.
    set('ok')
    client.send({ type: 'pub', id: 'p2', ch: 'a', data: 2 })
    expect(await client.next('nack')).toMatchObject({ id: 'p2', code: 'UNAVAILABLE' })
    client.send({ type: 'pub', id: 'p1', ch: 'a', data: 1 })
    client.send({ type: 'pub', id: 'p2', ch: 'a', data: 2 })
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'p1' })
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'p2' })
    await waitFor('both messages', () => client.all('msg').length === 2)
    expect(client.all('msg').map((frame) => frame.data)).toEqual([1, 2])
    await broker.close()
  })
})
