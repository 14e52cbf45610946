import { describe, expect, it, vi } from 'vitest'
import { MessageTooLargeError, type LifelineError, type SignalSource } from '../../src/core'
import type { OutboxItem } from '../../src/core'
import { counts, receivedTexts, sleep, useHarness, waitFor, waitForStatus } from './helpers'

const h = useHarness()

/** A network source the test flips by hand (starts online). */
function manualNetwork(): SignalSource & { set(online: boolean): void } {
  let online = true
  const listeners = new Set<(value: boolean) => void>()
  return {
    get: () => online,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(value) {
      online = value
      for (const listener of listeners) listener(value)
    },
  }
}

/** A getToken that counts calls and concurrent calls, answering `token-<n>` after `delayMs`. */
function tokenSource(delayMs = 10) {
  let running = 0
  let maxConcurrent = 0
  const getToken = vi.fn(async () => {
    const call = getToken.mock.calls.length
    running++
    maxConcurrent = Math.max(maxConcurrent, running)
    await sleep(delayMs)
    running--
    return `token-${call}`
  })
  return { getToken, maxConcurrent: () => maxConcurrent }
}

const authMessage = (token: string) => JSON.stringify({ auth: token })

describe('close codes from the server (integration)', () => {
  it('R13 4001: getToken once per 4001 (single-flight), reconnect without backoff, the new token sent first', async () => {
    const server = await h.start()
    const { getToken, maxConcurrent } = tokenSource()
    const { client, history } = h.client({ url: server.url, getToken, authMessage, minDelayMs: 1000, maxDelayMs: 2000 })
    await waitForStatus(client, 'open', 1000)
    expect(getToken).toHaveBeenCalledTimes(1)
    await waitFor(() => receivedTexts(server, 1).length === 1, 500, 'auth on connection 1')
    expect(receivedTexts(server, 1)).toEqual([authMessage('token-1')])

    client.send('before')
    await waitFor(() => client.getSnapshot().outbox.inFlight === 0, 1000, 'before confirmed')
    const seen = history.length
    server.closeAll(4001, 'token expired')
    const closedAt = performance.now()
    await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 500)
    client.send('during')
    const reopenedAt = await waitForStatus(client, 'open', 1000)
    // minDelayMs is 1000: a reopen this fast skipped the backoff.
    expect(reopenedAt - closedAt).toBeLessThan(150)
    expect(history.slice(seen).map((entry) => entry.snapshot.status)).toEqual(['connecting', 'open'])
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(maxConcurrent()).toBe(1)
    await waitFor(() => receivedTexts(server, 2).length === 2, 500, 'auth and queued send on connection 2')
    expect(receivedTexts(server, 2)).toEqual([authMessage('token-2'), 'during'])
    expect(client.getSnapshot().lastClose).toMatchObject({ code: 4001, reason: 'token expired' })
  })

  it('R13 a 4001 after maxTokenRefreshes (3) refreshes within the window ends in failed with TOKEN_REFRESH_FAILED', async () => {
    const server = await h.start()
    const { getToken } = tokenSource(0)
    const { client } = h.client({ url: server.url, getToken, authMessage })
    await waitForStatus(client, 'open', 1000)
    for (let refresh = 1; refresh <= 3; refresh++) {
      server.closeAll(4001)
      await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 500)
      await waitForStatus(client, 'open', 500)
      expect(getToken).toHaveBeenCalledTimes(1 + refresh)
    }
    server.closeAll(4001)
    await waitForStatus(client, 'failed', 500)
    expect(client.getSnapshot().lastError?.code).toBe('TOKEN_REFRESH_FAILED')
    await sleep(300)
    expect(getToken).toHaveBeenCalledTimes(4)
    expect(server.totalConnections).toBe(4)
    expect(client.getSnapshot().status).toBe('failed')
  })

  it('R13 getToken is single-flight: close() and connect() while a call is pending reuse that call', async () => {
    const server = await h.start()
    const { getToken, maxConcurrent } = tokenSource(100)
    const { client, tracker } = h.client({ url: server.url, getToken, authMessage })
    await sleep(20)
    expect(client.getSnapshot().status).toBe('connecting')
    client.close()
    client.connect()
    client.close()
    client.connect()
    await waitForStatus(client, 'open', 1000)
    expect(getToken).toHaveBeenCalledTimes(1)
    expect(maxConcurrent()).toBe(1)
    expect(tracker.attempts).toHaveLength(1)
    await waitFor(() => receivedTexts(server).length === 1, 500, 'auth message')
    expect(receivedTexts(server)).toEqual([authMessage('token-1')])
  })

  it('R13 4001 without getToken → failed with TOKEN_REFRESH_FAILED', async () => {
    const server = await h.start()
    const { client } = h.client({ url: server.url })
    await waitForStatus(client, 'open', 1000)
    server.closeAll(4001)
    await waitForStatus(client, 'failed', 500)
    expect(client.getSnapshot().lastError?.code).toBe('TOKEN_REFRESH_FAILED')
  })

  const badTokens: [string, () => unknown][] = [
    [
      'throwing synchronously',
      () => {
        throw new Error('auth service down')
      },
    ],
    ['rejecting', () => Promise.reject(new Error('auth service down'))],
    ['returning a number', () => 42],
    ['returning an empty string', () => ''],
    ['hanging (longer than connectTimeoutMs)', () => new Promise(() => undefined)],
  ]
  it.each(badTokens)(
    'R13 getToken %s → typed TOKEN_REFRESH_FAILED, backoff, no unhandled rejection; the next call is used',
    async (_, bad) => {
      const server = await h.start()
      const minDelayMs = 100
      const calledAt: number[] = []
      const getToken = vi.fn((): string | Promise<string> => {
        calledAt.push(performance.now())
        return getToken.mock.calls.length === 1 ? (bad() as string) : 'good-token'
      })
      const { client, tracker } = h.client({
        url: server.url,
        getToken,
        authMessage,
        minDelayMs,
        maxDelayMs: 200,
        connectTimeoutMs: 300,
      })
      const errors: LifelineError[] = []
      client.on('error', (error) => errors.push(error))
      await waitForStatus(client, 'reconnecting', 1000)
      const snapshot = client.getSnapshot()
      expect(snapshot.lastError?.code).toBe('TOKEN_REFRESH_FAILED')
      expect(snapshot.nextRetryAt! - Date.now()).toBeGreaterThanOrEqual(minDelayMs - 20)
      expect(errors.map((error) => error.code)).toEqual(['TOKEN_REFRESH_FAILED'])
      expect(tracker.attempts).toHaveLength(0)

      await waitForStatus(client, 'open', 1500)
      expect(getToken).toHaveBeenCalledTimes(2)
      expect(calledAt[1]! - calledAt[0]!).toBeGreaterThanOrEqual(minDelayMs - 2)
      await waitFor(() => receivedTexts(server).length === 1, 500, 'auth message')
      expect(receivedTexts(server)).toEqual([authMessage('good-token')])
    },
  )

  it('R14 4002 with {"retryAfterMs":800}: no attempt before 800 ms (not even on connect() or an online event); queued sends flushed in order after', async () => {
    const server = await h.start()
    const network = manualNetwork()
    const { client, tracker } = h.client({
      url: server.url,
      minDelayMs: 50,
      maxDelayMs: 300,
      environment: { network },
    })
    await waitForStatus(client, 'open', 1000)
    const total = server.totalConnections
    server.closeAll(4002, '{"retryAfterMs":800}')
    await waitForStatus(client, 'reconnecting', 500)
    const { lastClose, nextRetryAt } = client.getSnapshot()
    expect(lastClose?.code).toBe(4002)
    expect(nextRetryAt! - lastClose!.at).toBe(800)
    const queued = ['q-1', 'q-2', 'q-3']
    for (const text of queued) client.send(text)

    await sleep(100)
    client.connect()
    network.set(false)
    network.set(true)
    await sleep(550)
    expect(server.totalConnections).toBe(total)
    expect(tracker.attempts).toHaveLength(1)

    await waitForStatus(client, 'open', 1000)
    expect(tracker.attempts[1]! - lastClose!.at).toBeGreaterThanOrEqual(800 - 2)
    await waitFor(() => receivedTexts(server, total + 1).length === 3, 1000, 'queued sends')
    expect(receivedTexts(server, total + 1)).toEqual(queued)
  })

  const hostile: [string, number, number][] = [
    // reason, expected wait (ms), lowest allowed wait
    ['{"retryAfterMs":-1}', 5000, 5000],
    ['{"retryAfterMs":1e12}', 300_000, 50],
    ['not json', 5000, 5000],
    ['{"retryAfterMs":"800"}', 5000, 5000],
    ['{"__proto__":{"retryAfterMs":1}}', 5000, 5000],
    ['{"retryAfterMs":0}', 50, 50],
  ]
  it.each(hostile)(
    'R14 4002 with a hostile reason %s → wait clamped into [minDelayMs, 5 min] (%d ms)',
    async (reason, wait, lowest) => {
      const server = await h.start()
      const { client } = h.client({ url: server.url, minDelayMs: 50, maxDelayMs: 300 })
      await waitForStatus(client, 'open', 1000)
      server.closeAll(4002, reason)
      await waitForStatus(client, (snapshot) => snapshot.lastClose?.code === 4002, 500)
      const { lastClose, nextRetryAt, status } = client.getSnapshot()
      expect(status).toBe('reconnecting')
      const delay = nextRetryAt! - lastClose!.at
      expect(delay).toBeGreaterThanOrEqual(Math.max(50, lowest))
      expect(delay).toBeLessThanOrEqual(300_000)
      expect(delay).toBe(wait)
      if (wait > 1000) {
        await sleep(400)
        expect(server.totalConnections).toBe(1)
      }
    },
  )

  it('R15 4003: onSessionExpired and the sessionExpired event once, then a fresh connection', async () => {
    const server = await h.start()
    const onSessionExpired = vi.fn()
    const { client } = h.client({ url: server.url, onSessionExpired })
    const events = vi.fn()
    client.on('sessionExpired', events)
    await waitForStatus(client, 'open', 1000)
    server.closeAll(4003, 'session expired')
    await waitForStatus(client, (snapshot) => snapshot.status !== 'open', 500)
    await waitForStatus(client, 'open', 1000)
    await sleep(100)
    expect(onSessionExpired).toHaveBeenCalledTimes(1)
    expect(events).toHaveBeenCalledTimes(1)
    expect(server.totalConnections).toBe(2)
    expect(client.getSnapshot().lastClose?.meaning.name).toBe('session-expired')
  })

  it('1008 policy violation → failed with the reason kept, no reconnect', async () => {
    const server = await h.start()
    const { client, tracker } = h.client({ url: server.url, minDelayMs: 50, maxDelayMs: 200 })
    await waitForStatus(client, 'open', 1000)
    server.closeAll(1008, 'forbidden origin')
    await waitForStatus(client, 'failed', 500)
    expect(client.getSnapshot()).toMatchObject({
      nextRetryAt: null,
      lastClose: { code: 1008, reason: 'forbidden origin' },
    })
    await sleep(400)
    expect(server.totalConnections).toBe(1)
    expect(tracker.attempts).toHaveLength(1)
    expect(client.getSnapshot().status).toBe('failed')
  })

  it('R21 1009 for a 4 KB message among small ones: that message fails with MESSAGE_TOO_LARGE, the small ones arrive, ≤ 2 reconnects, a later send that size throws', async () => {
    const server = await h.start({ server: { maxPayload: 1024 } })
    const { client } = h.client({ url: server.url, minDelayMs: 50, maxDelayMs: 200 })
    const failed: { item: OutboxItem; error: LifelineError }[] = []
    client.on('messageFailed', (event) => failed.push(event))
    await waitForStatus(client, 'open', 1000)

    const big = 'B'.repeat(4096)
    const small = ['s-1', 's-2', 's-3', 's-4']
    client.send(small[0]!)
    client.send(small[1]!)
    const bigId = client.send(big)
    client.send(small[2]!)
    client.send(small[3]!)

    await waitFor(() => failed.length > 0, 1500, 'messageFailed')
    await waitFor(() => counts(receivedTexts(server), small).every((count) => count >= 1), 1500, 'small messages')
    await waitFor(
      () => client.getSnapshot().outbox.inFlight + client.getSnapshot().outbox.queued === 0,
      1000,
      'drained',
    )
    expect(failed).toHaveLength(1)
    expect(failed[0]!.item.id).toBe(bigId)
    expect(failed[0]!.error).toBeInstanceOf(MessageTooLargeError)
    expect(failed[0]!.error.code).toBe('MESSAGE_TOO_LARGE')
    expect(client.getSnapshot().outbox.failed).toBe(1)
    expect(server.totalConnections).toBeLessThanOrEqual(3)
    expect(receivedTexts(server)).not.toContain(big)
    // Sent after the big one: the server never read them on the first connection.
    expect(counts(receivedTexts(server), small.slice(2))).toEqual([1, 1])
    expect(
      receivedTexts(server)
        .filter((text) => small.includes(text))
        .slice(-2),
    ).toEqual(small.slice(2))

    expect(() => client.send('C'.repeat(4096))).toThrow(MessageTooLargeError)
    expect(client.getSnapshot().outbox.queued).toBe(0)
  })

  it.each([1001, 1012])(
    '%d (restart announced) → reconnect from attempt 1 within the spread window [min, 10·min]',
    async (code) => {
      const minDelayMs = 50
      const server = await h.start()
      const { client } = h.client({ url: server.url, minDelayMs, maxDelayMs: 2000 })
      await waitForStatus(client, 'open', 1000)
      server.closeAll(code, 'restarting')
      const closedAt = performance.now()
      await waitForStatus(client, 'reconnecting', 500)
      const { nextRetryAt, lastClose, attempt } = client.getSnapshot()
      expect(attempt).toBe(1)
      expect(nextRetryAt! - lastClose!.at).toBeGreaterThanOrEqual(minDelayMs)
      expect(nextRetryAt! - lastClose!.at).toBeLessThanOrEqual(10 * minDelayMs)
      const openedAt = await waitForStatus(client, 'open', 10 * minDelayMs + 500)
      expect(openedAt - closedAt).toBeLessThanOrEqual(10 * minDelayMs + 300)
    },
  )

  it('1013 try again later → backoff with a 5 s floor', async () => {
    const server = await h.start()
    const { client } = h.client({ url: server.url, minDelayMs: 50, maxDelayMs: 300 })
    await waitForStatus(client, 'open', 1000)
    server.closeAll(1013)
    await waitForStatus(client, 'reconnecting', 500)
    const { nextRetryAt, lastClose } = client.getSnapshot()
    expect(nextRetryAt! - lastClose!.at).toBe(5000)
  })

  it('1000 from the server (unexpected) → reconnects with backoff', async () => {
    const server = await h.start()
    const { client } = h.client({ url: server.url, minDelayMs: 50, maxDelayMs: 200 })
    await waitForStatus(client, 'open', 1000)
    server.closeAll(1000, 'bye')
    await waitForStatus(client, 'reconnecting', 500)
    await waitForStatus(client, 'open', 1000)
    expect(server.totalConnections).toBe(2)
  })
})
