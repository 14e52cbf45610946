import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createLifeline, type CloseInfo, type LifelineClient, type WebSocketConstructor } from '../../src/core'
import { createEchoServer, type EchoServer } from '../../src/testing'
import { FAST, sleep, waitForStatus } from './helpers'

const environment = { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined }
let server: EchoServer | undefined
let client: LifelineClient | undefined
afterEach(async () => {
  client?.dispose()
  await server?.close()
})

describe('shouldReconnect(close)', () => {
  it('is asked after every close the client did not ask for; false stops, true lets the table decide', async () => {
    server = await createEchoServer()
    const asked: CloseInfo[] = []
    client = createLifeline({
      url: server.url,
      ...FAST,
      environment,
      shouldReconnect: (close) => {
        asked.push(close)
        return close.code !== 4000
      },
    })
    await waitForStatus(client, 'open', 2000)
    server.closeAll(1012, 'restart')
    await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 2000)
    await waitForStatus(client, 'open', 3000)
    expect(asked.map((close) => [close.code, close.meaning.action])).toEqual([[1012, 'reconnect-spread']])
    server.closeAll(4000, 'go away')
    await waitForStatus(client, 'failed', 2000)
    expect(client.getSnapshot().lastError?.code).toBe('CONNECTION_CLOSED')
    expect(asked.at(-1)?.code).toBe(4000)
    await sleep(300)
    expect(server.totalConnections).toBe(2)
    // Our own close is not asked about.
    client.retry()
    await waitForStatus(client, 'open', 3000)
    client.close()
    await waitForStatus(client, 'closed', 2000)
    expect(asked).toHaveLength(2)
  })
})

describe('getWebSocket()', () => {
  it('hands out the live socket read-only, and null when there is none', async () => {
    server = await createEchoServer()
    client = createLifeline({ url: server.url, ...FAST, environment, protocols: ['chat'], autoConnect: false })
    expect(client.getWebSocket()).toBeNull()
    client.connect()
    await waitForStatus(client, 'open', 2000)
    const socket = client.getWebSocket()!
    expect(socket.readyState).toBe(1)
    expect(socket.bufferedAmount).toBe(0)
    expect(() => socket.send('x')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }))
    expect(() => socket.close()).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }))
    expect(() => {
      socket.onmessage = null
    }).toThrow()
    expect(client.getSnapshot().status).toBe('open')
    client.close()
    await waitForStatus(client, 'closed', 2000)
    expect(client.getWebSocket()).toBeNull()
  })
})
