import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createLifeline, simulateFault, type LifelineClient, type WebSocketConstructor } from '../../src/core'
import { createEchoServer, type EchoServer } from '../../src/testing'
import { FAST, waitForStatus } from './helpers'

const environment = { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined }
let server: EchoServer | undefined
let client: LifelineClient | undefined
afterEach(async () => {
  client?.dispose()
  await server?.close()
})

describe('simulateFault (devtools actions)', () => {
  it('drop-link is handled as an abnormal close: reconnects and resends what was in flight', async () => {
    server = await createEchoServer()
    client = createLifeline({ url: server.url, ...FAST, environment })
    await waitForStatus(client, 'open', 2000)
    expect(simulateFault(client, 'drop-link')).toBe(true)
    expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', lastClose: { code: 1006, wasClean: false } })
    await waitForStatus(client, 'open', 3000)
    expect(server.totalConnections).toBe(2)
  })

  it('offline then online: the client waits offline and connects again when the network is back', async () => {
    server = await createEchoServer()
    client = createLifeline({ url: server.url, ...FAST, environment })
    await waitForStatus(client, 'open', 2000)
    simulateFault(client, 'offline')
    expect(client.getSnapshot()).toMatchObject({ status: 'offline', online: false })
    simulateFault(client, 'online')
    await waitForStatus(client, 'open', 3000)
  })

  it('returns false for a client it does not know', () => {
    expect(simulateFault({} as LifelineClient, 'offline')).toBe(false)
  })
})
