import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { InboundData } from '../../src/core'
import { useHarness, waitFor, waitForStatus } from './helpers'

const h = useHarness()

const text = 'héllo wörld — 日本語のテキスト — emoji 🎉👩‍👩‍👧 — 𝄞 clef — ' + 'Ωµ€'.repeat(50)

describe('payloads (integration)', () => {
  it('R11 sliced into 1-byte TCP chunks, multi-byte UTF-8 text and a 20 KB binary payload arrive byte-identical at the server and back', async () => {
    const server = await h.start()
    const proxy = await h.proxy()
    proxy.slice(1)
    const { client } = h.client({ url: proxy.url, connectTimeoutMs: 2000 })
    const inbound: InboundData[] = []
    client.on('message', ({ data }) => inbound.push(data))
    await waitForStatus(client, 'open', 2000)

    const binary = new Uint8Array(randomBytes(20 * 1024))
    client.send(text)
    client.send(binary)
    await waitFor(() => inbound.length === 2, 4000, 'both echoes')

    const [textAtServer, binaryAtServer] = server.received
    expect(textAtServer).toMatchObject({ isBinary: false, data: text })
    expect(binaryAtServer?.isBinary).toBe(true)
    expect(Buffer.compare(binaryAtServer!.data as Buffer, binary)).toBe(0)
    expect(inbound[0]).toBe(text)
    expect(inbound[1]).toBeInstanceOf(ArrayBuffer)
    expect(Buffer.compare(Buffer.from(inbound[1] as ArrayBuffer), binary)).toBe(0)
    expect(proxy.stats.chunksForwarded).toBeGreaterThan(2 * binary.byteLength)
  })

  it('binary frames from the server are delivered as ArrayBuffer with the same bytes', async () => {
    const server = await h.start()
    const { client } = h.client({ url: server.url })
    const inbound: InboundData[] = []
    client.on('message', ({ data }) => inbound.push(data))
    await waitForStatus(client, 'open', 1000)
    const bytes = Uint8Array.from([0, 1, 2, 127, 128, 254, 255])
    server.send(bytes)
    await waitFor(() => inbound.length === 1, 1000, 'the binary frame')
    expect(inbound[0]).toBeInstanceOf(ArrayBuffer)
    expect([...new Uint8Array(inbound[0] as ArrayBuffer)]).toEqual([...bytes])
  })

  it('a send of a typed-array view sends only the viewed bytes, copied at send time', async () => {
    const server = await h.start()
    const { client } = h.client({ url: server.url, autoConnect: false })
    const backing = Uint8Array.from([9, 9, 1, 2, 3, 9, 9])
    client.send(backing.subarray(2, 5))
    backing.fill(0)
    client.connect()
    await waitFor(() => server.received.length === 1, 1000, 'the binary message')
    expect([...(server.received[0]!.data as Buffer)]).toEqual([1, 2, 3])
  })
})
