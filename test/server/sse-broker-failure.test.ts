import { describe, expect, it } from 'vitest'
import { failingBroker } from './failing-broker'
import { capturingLogger, connectReady, logLines, startServer, waitFor } from './helpers'
import { ended, eventsUrl, openStream, useSseHooks } from './sse-helpers'

useSseHooks('no-token-here')

describe('SSE endpoint: the broker fails after the stream opened', () => {
  it('sends lifeline:error, then ends the stream with lifeline:close 1011, frees the connection and logs it', async () => {
    const { broker, deliver, failHistory } = failingBroker()
    const server = await startServer({ broker, logger: capturingLogger })
    await server.publish('news', 1)
    const stream = await openStream(eventsUrl(server))
    expect(stream.status).toBe(200)
    await stream.next('lifeline:subscribed')

    // A gap (seq 5 after 1) makes the server read history again; that read fails.
    failHistory()
    deliver('news', 5)

    const error = await stream.next('lifeline:error')
    expect(JSON.parse(error.data)).toMatchObject({ reason: 'subscription failed' })
    const close = await stream.next('lifeline:close')
    expect(JSON.parse(close.data)).toEqual({ code: 1011, reason: 'subscription failed' })
    await ended(stream)
    await waitFor('connection released', () => server.stats().eventStreams === 0)
    expect(logLines.some((line) => line.includes('subscription failed') && line.includes('news'))).toBe(true)
    // The gapped message never reached the stream: nothing past what history vouched for.
    expect(stream.events.filter((event) => event.event === 'message')).toEqual([])
  })

  it('keeps a stream open when a WebSocket client subscription to another channel fails on the same broker', async () => {
    const { broker, deliver, failHistory } = failingBroker()
    const server = await startServer({ broker, logger: capturingLogger })
    await server.publish('news', 1)
    const stream = await openStream(eventsUrl(server))
    await stream.next('lifeline:subscribed')
    const { client } = await connectReady(server.url)
    client.send({ type: 'sub', ch: 'other' })
    await client.next('subscribed')
    await server.publish('other', 1)

    failHistory()
    deliver('other', 9)
    expect(await client.next('error')).toMatchObject({ ch: 'other', reason: 'subscription failed' })
    expect(stream.ended).toBe(false)
    await server.publish('news', 'still open')
    await waitFor('live message', () => stream.events.some((event) => event.data === '"still open"'))
    expect(stream.events.map((event) => event.event)).not.toContain('lifeline:error')
  })
})
