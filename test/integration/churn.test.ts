import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { receivedTexts, sleep, useHarness, waitFor, waitForStatus } from './helpers'

const h = useHarness()

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use after a full collection, in bytes. */
async function settledHeap(): Promise<number> {
  await sleep(10)
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

describe('churn (integration)', () => {
  it('R29 1000 connect/close cycles: resources and server connections back to zero, heap not growing', async () => {
    const server = await h.start()
    const { client, tracker } = h.client({ url: server.url, autoConnect: false })
    const cycle = async () => {
      client.connect()
      await waitForStatus(client, 'open', 1000)
      client.send('x')
      client.close()
      await waitForStatus(client, 'closed', 1000)
    }
    for (let index = 0; index < 20; index++) await cycle()
    const before = await settledHeap()
    for (let index = 0; index < 1000; index++) await cycle()
    await waitFor(() => server.connections === 0, 1000, 'server connections back to 0')
    const after = await settledHeap()

    expect(client.resources()).toEqual({ timers: 0, listeners: 1, sockets: 0 }) // 1: the harness's own subscriber
    expect(server.totalConnections).toBe(1020)
    expect(tracker.attempts).toHaveLength(1020)
    expect(tracker.overlaps).toEqual([])
    // Each send before a clean close is confirmed by the close handshake: delivered once, never resent.
    expect(receivedTexts(server)).toHaveLength(1020)
    expect(client.getSnapshot().outbox).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
    console.info(`R29 heap growth over 1000 cycles: ${((after - before) / 1e6).toFixed(2)} MB`)
    expect(after - before, `heap grew ${((after - before) / 1e6).toFixed(1)} MB`).toBeLessThan(4e6)
  })

  it('R29 100 clients created, connected and disposed mid-handshake or open: no socket, timer or server connection left', async () => {
    const server = await h.start()
    const clients = Array.from({ length: 100 }, () => h.client({ url: server.url }))
    await sleep(5)
    for (const [index, { client }] of clients.entries()) {
      // Half of them go away while still connecting, half once open.
      if (index % 2 === 0) client.dispose()
    }
    await Promise.all(
      clients.filter((_, index) => index % 2 === 1).map(({ client }) => waitForStatus(client, 'open', 2000)),
    )
    for (const { client } of clients) client.dispose()
    for (const { client } of clients) expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
    await waitFor(() => server.connections === 0, 2000, 'server connections back to 0')
  })

  it('rapid connect/close/retry toggles never hold two sockets and settle on one server connection', async () => {
    const server = await h.start()
    const { client, tracker } = h.client({ url: server.url, autoConnect: false, minDelayMs: 20, maxDelayMs: 50 })
    const actions = [() => client.connect(), () => client.close(), () => client.retry()]
    for (let index = 0; index < 150; index++) {
      actions[Math.floor(Math.random() * actions.length)]!()
      if (index % 3 === 0) await sleep(Math.random() * 3)
    }
    client.connect()
    await waitForStatus(client, 'open', 1000)
    await waitFor(() => server.connections === 1, 1000, 'exactly one server connection')
    await sleep(100)
    expect(server.connections).toBe(1)
    expect(tracker.live()).toBe(1)
    expect(tracker.overlaps).toEqual([])
  })
})
