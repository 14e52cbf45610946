import { describe, expect, it } from 'vitest'
import { counts, receivedTexts, sleep, useHarness, waitFor, waitForStatus } from './helpers'

const h = useHarness()

const intervalMs = 300
const timeoutMs = 300
const boundMs = intervalMs + timeoutMs + 200
const lanes = 5
const trialsPerLane = 4

/** Sorted copy. */
const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b)

describe('half-open links (integration)', () => {
  it(`R6 a blackholed live link is detected within interval + timeout + 200 ms in ${lanes * trialsPerLane}/${lanes * trialsPerLane} trials, then replaced`, async () => {
    const server = await h.start()
    const detections: number[] = []

    // Independent lanes (own proxy, own client) run side by side so the trials fit the time budget.
    const lane = async (laneIndex: number) => {
      const proxy = await h.proxy()
      const { client } = h.client({
        url: proxy.url,
        minDelayMs: 50,
        maxDelayMs: 200,
        heartbeat: { intervalMs, timeoutMs },
      })
      await waitForStatus(client, 'open', 1000)
      for (let trial = 1; trial <= trialsPerLane; trial++) {
        // Blackhole at a random phase of the heartbeat.
        await sleep(Math.random() * intervalMs)
        expect(client.getSnapshot().status, `lane ${laneIndex} trial ${trial}: healthy before the fault`).toBe('open')
        proxy.blackhole()
        const blackholedAt = performance.now()
        const detectedAt = await waitForStatus(client, (snapshot) => snapshot.status !== 'open', boundMs + 1000)
        detections.push(detectedAt - blackholedAt)
        expect(client.getSnapshot().lastError?.code).toBe('HEARTBEAT_TIMEOUT')

        const text = `lane-${laneIndex}-trial-${trial}`
        client.send(text)
        proxy.restore()
        await waitForStatus(client, 'open', 1000)
        await waitFor(() => receivedTexts(server).includes(text), 1000, `${text} delivered after the new link opened`)
        await waitFor(() => client.getSnapshot().outbox.inFlight === 0, 1000, `${text} confirmed`)
      }
    }
    await Promise.all(Array.from({ length: lanes }, (_, index) => lane(index + 1)))

    const times = sorted(detections)
    const median = times[Math.floor(times.length / 2)]!
    console.info(
      `R6 half-open detection over ${times.length} trials (I=${intervalMs}, T=${timeoutMs}, bound ${boundMs} ms): ` +
        `min ${times[0]!.toFixed(0)} / median ${median.toFixed(0)} / max ${times.at(-1)!.toFixed(0)} ms`,
    )
    expect(times).toHaveLength(lanes * trialsPerLane)
    for (const time of times) expect(time).toBeLessThanOrEqual(boundMs)
    const texts = Array.from({ length: lanes * trialsPerLane }, (_, index) => {
      return `lane-${Math.floor(index / trialsPerLane) + 1}-trial-${(index % trialsPerLane) + 1}`
    })
    expect(counts(receivedTexts(server), texts).every((count) => count === 1)).toBe(true)
  })

  it('R6 with a heartbeat, messages written into a link that died silently are resent after detection (none lost)', async () => {
    const server = await h.start()
    const proxy = await h.proxy()
    const { client } = h.client({ url: proxy.url, minDelayMs: 50, maxDelayMs: 200, heartbeat: { intervalMs, timeoutMs } })
    await waitForStatus(client, 'open', 1000)
    proxy.blackhole()
    // Written while the link looks open: the socket drains them into a link that silently drops every byte.
    const texts = ['lost-1', 'lost-2', 'lost-3']
    for (const text of texts) client.send(text)
    await sleep(50)
    expect(client.getSnapshot().status).toBe('open')
    expect(client.getSnapshot().outbox.inFlight).toBe(3)
    await waitForStatus(client, (snapshot) => snapshot.status !== 'open', boundMs + 1000)
    proxy.restore()
    await waitForStatus(client, 'open', 2000)
    await waitFor(() => client.getSnapshot().outbox.inFlight === 0, 2000, 'resent items confirmed by a pong')
    expect(counts(receivedTexts(server), texts)).toEqual([1, 1, 1])
    expect(receivedTexts(server).filter((text) => texts.includes(text))).toEqual(texts)
  })

  it('R6 a healthy link with a heartbeat is not declared dead (no false timeouts) and measures latency', async () => {
    const server = await h.start()
    const { client, history } = h.client({ url: server.url, heartbeat: { intervalMs: 100, timeoutMs: 100 } })
    await waitForStatus(client, 'open', 1000)
    await sleep(1000)
    expect(client.getSnapshot().status).toBe('open')
    expect(history.map((entry) => entry.snapshot.status)).toEqual(['connecting', 'open'])
    expect(client.getSnapshot().latencyMs).not.toBeNull()
    expect(server.totalConnections).toBe(1)
  })

  it('R6 without a heartbeat, nothing replaces a blackholed link (the heartbeat is what detects it)', async () => {
    await h.start()
    const proxy = await h.proxy()
    const { client } = h.client({ url: proxy.url })
    await waitForStatus(client, 'open', 1000)
    proxy.blackhole()
    await sleep(boundMs)
    expect(client.getSnapshot().status).toBe('open')
  })
})
