import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lifelineProtocol, safeJsonParse } from '../../src/core'
import type { ChannelStatus, OutboxItem } from '../../src/core'
import { encodeMessage, parseClientFrame } from '../../src/server/frames'
import { jsonValue, prototypeSnapshot } from '../support/json-arbitrary'
import { useChannelsHarness } from './channels-harness'
import { waitFor } from './helpers'

const h = useChannelsHarness()
const pristine = prototypeSnapshot()

function expectPrototypesClean(): void {
  expect(prototypeSnapshot()).toEqual(pristine)
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect({}.constructor).toBe(Object)
}

/** What the value looks like once it has been through JSON (the only change JSON may make: `-0` → `0`, done already). */
const expectSame = (received: unknown, sent: unknown): void => {
  expect(received).toEqual(sent)
  expect(JSON.stringify(received)).toBe(JSON.stringify(sent))
}

describe('payload round trip: arbitrary JSON arrives exactly as sent (finding 6)', () => {
  it('client publish → real server → subscriber: 200 arbitrary values, __proto__/constructor/prototype keys included', async () => {
    const server = await h.server()
    const publisher = h.client({ url: server.url })
    const subscriber = h.client({ url: server.url })
    const received: unknown[] = []
    let status: ChannelStatus | null = null
    subscriber.protocol.channel('round-trip', {
      message: (message) => received.push(message.data),
      status: (next) => {
        status = next
      },
    })
    await waitFor(() => status?.state === 'subscribed', 2000, 'the subscriber subscribed')

    let runs = 0
    await fc.assert(
      fc.asyncProperty(jsonValue(6), async (value) => {
        const index = received.length
        publisher.protocol.publish('round-trip', value)
        await waitFor(() => received.length > index, 2000, `delivery of value #${String(runs)}`)
        runs++
        expectSame(received[index], value)
        // The server applied (and reported to onPublished) the same value.
        expectSame(server.received[server.received.length - 1]?.data, value)
      }),
      { numRuns: 200, seed: 424_242, endOnFailure: true },
    )
    expect(runs).toBe(200)
    expect(received).toHaveLength(200)
    expectPrototypesClean()
  })

  it('client encode → server parse and re-encode → client parse, as pure functions: 5 000 values', () => {
    const protocol = lifelineProtocol()
    fc.assert(
      fc.property(jsonValue(8), fc.string({ minLength: 1, maxLength: 50 }), (value, channel) => {
        const item = { id: 'c-1', channel, data: JSON.stringify(value) } as OutboxItem
        const parsed = parseClientFrame(protocol.encode(item) as string)
        if (!parsed.ok || parsed.frame.type !== 'pub') throw new Error(`refused: ${JSON.stringify(parsed)}`)
        expectSame(parsed.frame.data, value)
        const message = safeJsonParse(encodeMessage(channel, 'e1', 1, JSON.stringify(parsed.frame.data)))
        expect(message).toMatchObject({ type: 'msg', ch: channel, epoch: 'e1', seq: 1 })
        expectSame((message as { data: unknown }).data, value)
      }),
      { numRuns: 5000, seed: 99 },
    )
    expectPrototypesClean()
  })
})
