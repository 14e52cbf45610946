import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { createLifeline, type LifelineClient, type WebSocketConstructor } from '../../src/core'
import { createEchoServer, type EchoServer } from '../../src/testing'
import { FAST, receivedTexts, waitFor, waitForStatus } from './helpers'

// Raw mode with a heartbeat whose pong is never recognised: the server answers every frame (it echoes the ping) but
// never with what `isPong` matches. Sends must still be confirmed (by drain + settle) instead of staying in flight.

let server: EchoServer | undefined
let client: LifelineClient | undefined
afterEach(async () => {
  client?.dispose()
  await server?.close()
  vi.restoreAllMocks()
})

describe('raw mode: a heartbeat whose pong never matches', () => {
  it('confirms sends by drain + settle, never resends them after a reconnect, and warns once', async () => {
    server = await createEchoServer({ pong: false })
    const warnings: unknown[][] = []
    vi.spyOn(console, 'warn').mockImplementation((...args) => warnings.push(args))
    client = createLifeline({
      url: server.url,
      ...FAST,
      heartbeat: { intervalMs: 100, timeoutMs: 1000 },
      outbox: { maxMessages: 3 },
      environment: { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined },
    })
    await waitForStatus(client, 'open', 2000)
    for (let index = 1; index <= 6; index++) {
      // Today the 4th send throws QUEUE_FULL: nothing is ever confirmed.
      client.send(`m${index}`)
      await waitFor(() => client!.getSnapshot().outbox.inFlight === 0, 2000, `m${index} confirmed`)
    }
    expect(client.getSnapshot().outbox).toMatchObject({ queued: 0, inFlight: 0, failed: 0 })
    // A reconnect does not resend what was confirmed.
    server.terminateAll()
    await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 3000)
    await waitForStatus(client, 'open', 3000)
    await new Promise((resolve) => setTimeout(resolve, 400))
    const sent = receivedTexts(server).filter((text) => text.startsWith('m'))
    expect(sent).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    await waitFor(() => warnings.length > 0, 2000, 'the pong warning')
    expect(String(warnings[0]?.[0])).toMatch(/isPong/)
    expect(warnings.filter((args) => /isPong/.test(String(args[0])))).toHaveLength(1)
  })
})
