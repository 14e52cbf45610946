import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  createLifeline,
  lifelineProtocol,
  type LifelineClient,
  type LifelineProtocol,
  type WebSocketConstructor,
} from '../../src/core'
import { createRecorder, type Recorder } from '../../src/devtools/recorder'
import { createTestServer, type TestServer } from '../../src/testing'
import { sleep, waitFor, waitForStatus } from '../integration/helpers'

const LINGER_MS = 100
const environment = { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined }

let server: TestServer
let protocol: LifelineProtocol
let client: LifelineClient
let recorder: Recorder | null = null

beforeEach(async () => {
  server = await createTestServer()
  protocol = lifelineProtocol({ lingerMs: LINGER_MS })
  client = createLifeline({ url: server.url, protocol, environment, minDelayMs: 50, maxDelayMs: 400 })
  await waitForStatus(client, 'open', 2000)
})
afterEach(async () => {
  recorder?.dispose()
  recorder = null
  client.dispose()
  await server.close()
})

const views = () =>
  (recorder?.getState().channels ?? []).map((view) => `${view.name} ${view.status.state} ${String(view.messages)}`)

describe('devtools recorder: the Channels tab observes without subscribing', () => {
  it('a channel the app leaves is unsubscribed at the server after the linger while the recorder is attached, and leaves the tab', async () => {
    const received: unknown[] = []
    const leaveEarly = protocol.channel('early', { message: (message) => received.push(message.data) })
    recorder = createRecorder(client)
    // Joined after the recorder attached: it appears too, with no polling.
    const leaveLate = protocol.channel('late', { message: (message) => received.push(message.data) })
    await waitFor(() => server.server.stats().subscriptions === 2, 2000, 'two server subscriptions')
    await waitFor(
      () => views().join() === 'early subscribed 0,late subscribed 0',
      2000,
      `both channels shown subscribed (${views().join()})`,
    )
    await server.publish('early', { n: 1 })
    await server.publish('late', { n: 2 })
    await waitFor(() => views().join() === 'early subscribed 1,late subscribed 1', 2000, 'messages counted')
    expect(recorder.getState().channels.map((view) => view.position?.seq)).toEqual([1, 1])
    expect(received).toEqual([{ n: 1 }, { n: 2 }])

    leaveEarly()
    leaveLate()
    await waitFor(
      () => server.server.stats().subscriptions === 0,
      LINGER_MS + 1000,
      `the server to see both unsubscribes (server subscriptions: ${String(server.server.stats().subscriptions)})`,
    )
    expect(protocol.channels?.names()).toEqual([])
    await waitFor(() => views().length === 0, 1000, 'the channels to leave the tab')
    // Nothing published after the leave reaches the client.
    await server.publish('early', { n: 3 })
    await sleep(50)
    expect(received).toEqual([{ n: 1 }, { n: 2 }])

    // The app joins again: the channel is back in the tab, counted from zero.
    const leaveAgain = protocol.channel('early', {})
    await waitFor(() => views().join() === 'early subscribed 0', 2000, `early shown again (${views().join()})`)
    leaveAgain()
    await waitFor(() => views().length === 0, LINGER_MS + 1000, 'early gone again')

    // Disposed, the recorder stops observing: a channel joined later is not shown.
    recorder.dispose()
    const leaveRoom = protocol.channel('room', {})
    await waitFor(() => server.server.stats().subscriptions === 1, 2000, 'room subscribed')
    expect(views()).toEqual([])
    leaveRoom()
  })
})
