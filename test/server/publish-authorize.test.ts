import { afterEach, describe, expect, it } from 'vitest'
import type { PublishedEvent } from '../../src/server'
import { cleanup, connectReady, startServer } from './helpers'

afterEach(cleanup)

describe('lifeline server: publish authorisation comes before deduplication', () => {
  it('nacks FORBIDDEN, and never acks, a pub reusing an applied id on a forbidden channel', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({
      authorize: ({ action, channel }) => action !== 'publish' || channel !== 'locked',
      onPublished: (event) => published.push(event),
    })
    const { client } = await connectReady(server.url)
    client.send({ type: 'pub', ch: 'open', id: 'm-1', data: 1 })
    await client.next('ack', (frame) => frame.id === 'm-1')

    client.send({ type: 'pub', ch: 'locked', id: 'm-1', data: 2 })
    expect(await client.next('nack', (frame) => frame.id === 'm-1')).toMatchObject({ code: 'FORBIDDEN' })
    client.send({ type: 'ping' })
    await client.next('pong')
    expect(client.all('ack').filter((frame) => frame.id === 'm-1')).toHaveLength(1)
    expect(published.map((event) => event.channel)).toEqual(['open'])
  })

  it('still acks a resend of an applied id on an allowed channel without publishing it again', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ authorize: () => true, onPublished: (event) => published.push(event) })
    const { client } = await connectReady(server.url)
    for (let attempt = 0; attempt < 3; attempt++) {
      client.send({ type: 'pub', ch: 'open', id: 'm-1', data: 1 })
      await client.next('ack', (frame) => frame.id === 'm-1')
    }
    expect(published).toHaveLength(1)
  })

  it('nacks a resend of an applied id once its channel is no longer allowed (authorisation is per message)', async () => {
    let allowed = true
    const server = await startServer({ authorize: () => allowed })
    const { client } = await connectReady(server.url)
    client.send({ type: 'pub', ch: 'open', id: 'm-1', data: 1 })
    await client.next('ack', (frame) => frame.id === 'm-1')
    allowed = false
    client.send({ type: 'pub', ch: 'open', id: 'm-1', data: 1 })
    expect(await client.next('nack', (frame) => frame.id === 'm-1')).toMatchObject({ code: 'FORBIDDEN' })
  })
})
