import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  createLifeline,
  longPollFallback,
  simulateFault,
  type CloseInfo,
  type LifelineClient,
  type WebSocketConstructor,
} from '../../src/core'
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

describe('url as a function', () => {
  it('is resolved before every attempt; a rejection or a bad URL is a failed attempt under the backoff', async () => {
    server = await createEchoServer()
    const live = server.url
    const answers: Array<() => string | Promise<string>> = [
      () => Promise.reject(new Error('no server yet')),
      () => 'http://[bad',
      () => live,
      () => Promise.resolve(live),
    ]
    let calls = 0
    client = createLifeline({
      url: () => answers[Math.min(calls++, answers.length - 1)]!(),
      ...FAST,
      environment,
    })
    expect(client.url).toBe('')
    await waitForStatus(client, 'open', 3000)
    expect(calls).toBe(3)
    expect(client.url).toBe(new URL(live).href)
    server.terminateAll()
    await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 2000)
    await waitForStatus(client, 'open', 3000)
    expect(calls).toBe(4)
  })

  it('counts failures toward maxAttempts and reports URL_FAILED', async () => {
    client = createLifeline({
      url: () => {
        throw new Error('lookup failed')
      },
      ...FAST,
      maxAttempts: 2,
      environment,
    })
    await waitForStatus(client, 'failed', 3000)
    expect(client.getSnapshot().lastError?.code).toBe('MAX_ATTEMPTS')
    expect((client.getSnapshot().lastError?.cause as { code?: string } | undefined)?.code).toBe('URL_FAILED')
  })

  it('is refused with a fallback (not supported yet)', () => {
    expect(() => createLifeline({ url: () => 'ws://127.0.0.1:1', fallback: longPollFallback(), environment })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    )
  })
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
