import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createLifeline,
  MessageTooLargeError,
  type Clock,
  type LifelineClient,
  type LifelineError,
  type LifelineOptions,
  type OutboxItem,
  type SignalSource,
  type Timers,
  type WebSocketLike,
} from '../../src/core'

/** Every fake socket of the current test, and the most that were ever CONNECTING/OPEN at the same time. */
const sockets: FakeSocket[] = []
let mostLive = 0

const liveCount = () => sockets.filter((socket) => socket.readyState <= 1).length
const noteLive = () => {
  mostLive = Math.max(mostLive, liveCount())
}

/** A WebSocket the test drives by hand: it records what the client does and fires what the server would. */
class FakeSocket implements WebSocketLike {
  readyState = 0
  bufferedAmount = 0
  binaryType = 'blob'
  readonly sent: unknown[] = []
  readonly closeCalls: { code: number | undefined; reason: string | undefined }[] = []
  terminated = false
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    sockets.push(this)
    noteLive()
  }

  send(data: unknown): void {
    if (this.readyState === 0) throw new Error('InvalidStateError: still CONNECTING')
    this.sent.push(data)
  }
  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason })
    if (this.readyState < 2) this.readyState = 2
  }
  terminate(): void {
    this.terminated = true
    this.readyState = 3
  }

  // The server side.
  serverOpen(): void {
    this.readyState = 1
    noteLive()
    this.onopen?.({})
  }
  serverSend(data: unknown): void {
    this.onmessage?.({ data })
  }
  serverClose(code: number, reason = '', wasClean = true): void {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean })
  }
  /** Connection refused: an error, then a 1006 close without a close frame. */
  refuse(): void {
    this.readyState = 3
    this.onerror?.({})
    this.onclose?.({ code: 1006, reason: '', wasClean: false })
  }
}

/** A network or visibility source the test flips. */
function controllableSignal(initial: boolean): SignalSource & { set(value: boolean): void; listeners(): number } {
  let value = initial
  const listeners = new Set<(value: boolean) => void>()
  return {
    get: () => value,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(next) {
      value = next
      for (const listener of [...listeners]) listener(next)
    },
    listeners: () => listeners.size,
  }
}

/** Timers and clocks over the (faked) globals, so vi.useFakeTimers() drives them. */
const timers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}
const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() }

interface Setup {
  client: LifelineClient
  network: ReturnType<typeof controllableSignal>
  visibility: ReturnType<typeof controllableSignal>
  errors: LifelineError[]
  failed: { item: OutboxItem; error: LifelineError }[]
  messages: unknown[]
}

function setup(options: Partial<LifelineOptions> = {}, { online = true, random = 0.5 } = {}): Setup {
  const network = controllableSignal(online)
  const visibility = controllableSignal(true)
  const client = createLifeline({
    url: 'wss://example.com/ws',
    minDelayMs: 1000,
    maxDelayMs: 30_000,
    ...options,
    environment: {
      WebSocket: FakeSocket,
      timers,
      clock,
      random: () => random,
      network,
      visibility,
      location: undefined,
    },
  })
  const errors: LifelineError[] = []
  const failed: Setup['failed'] = []
  const messages: unknown[] = []
  client.on('error', (error) => errors.push(error))
  client.on('messageFailed', (event) => failed.push(event))
  client.on('message', (message) => messages.push(message.data))
  return { client, network, visibility, errors, failed, messages }
}

const last = () => sockets.at(-1)!
/** Lets promise callbacks (getToken) run without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0)

/** Full jitter with random 0.5: the middle of [min, min(max, min·2^attempt)]. */
const delayOf = (attempt: number, min = 1000, max = 30_000) => min + 0.5 * (Math.min(max, min * 2 ** attempt) - min)
/** After an open connection ends with 1006 (a crash), the first retry spreads over [min, 10·min] at least. */
const crashDelayOf = (attempt: number, min = 1000, max = 30_000) =>
  Math.max(min + 0.5 * (Math.min(max, 10 * min) - min), delayOf(attempt, min, max))

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

beforeEach(() => {
  vi.useFakeTimers()
  sockets.length = 0
  mostLive = 0
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})

afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
  vi.useRealTimers()
  // The invariant of every scenario: never two sockets CONNECTING/OPEN at once.
  expect(mostLive).toBeLessThanOrEqual(1)
  expect(unhandled).toEqual([])
})

describe('client: connection refused (R2)', () => {
  it('follows the backoff schedule, shows reconnecting with nextRetryAt, and never overlaps attempts', () => {
    const { client } = setup()
    expect(client.getSnapshot().status).toBe('connecting')
    for (let attempt = 1; attempt <= 7; attempt++) {
      expect(sockets).toHaveLength(attempt)
      last().refuse()
      const delay = delayOf(attempt)
      expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', attempt, nextRetryAt: Date.now() + delay })
      expect(client.getSnapshot().lastError?.code).toBe('TRANSPORT_ERROR')
      vi.advanceTimersByTime(delay - 1)
      expect(sockets).toHaveLength(attempt)
      vi.advanceTimersByTime(1)
      expect(sockets).toHaveLength(attempt + 1)
      expect(client.getSnapshot()).toMatchObject({ status: 'connecting', nextRetryAt: null })
    }
    client.dispose()
  })

  it('gives up with MAX_ATTEMPTS after maxAttempts retries, and retry() starts over', () => {
    const { client } = setup({ maxAttempts: 2 })
    last().refuse()
    vi.advanceTimersByTime(delayOf(1))
    last().refuse()
    vi.advanceTimersByTime(delayOf(2))
    last().refuse()
    expect(client.getSnapshot()).toMatchObject({ status: 'failed', attempt: 2, nextRetryAt: null })
    expect(client.getSnapshot().lastError?.code).toBe('MAX_ATTEMPTS')
    vi.advanceTimersByTime(600_000)
    expect(sockets).toHaveLength(3)
    client.retry()
    expect(sockets).toHaveLength(4)
    expect(client.getSnapshot()).toMatchObject({ status: 'connecting', attempt: 0 })
    client.dispose()
  })

  it('resets the attempt counter only after the connection stays open stableAfterMs', () => {
    const { client } = setup({ stableAfterMs: 5000 })
    last().refuse()
    vi.advanceTimersByTime(delayOf(1))
    last().serverOpen()
    vi.advanceTimersByTime(4999)
    last().serverClose(1006, '', false)
    expect(client.getSnapshot().attempt).toBe(2)
    vi.advanceTimersByTime(crashDelayOf(2))
    last().serverOpen()
    vi.advanceTimersByTime(5000)
    expect(client.getSnapshot().attempt).toBe(0)
    last().serverClose(1006, '', false)
    expect(client.getSnapshot()).toMatchObject({ attempt: 1, nextRetryAt: Date.now() + crashDelayOf(1) })
    client.dispose()
  })
})

describe('client: connect timeout', () => {
  it('terminates an attempt that never opens, then retries after the backoff', () => {
    const { client } = setup({ connectTimeoutMs: 3000 })
    const first = last()
    vi.advanceTimersByTime(2999)
    expect(first.terminated).toBe(false)
    vi.advanceTimersByTime(1)
    expect(first.terminated).toBe(true)
    expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', attempt: 1 })
    expect(client.getSnapshot().lastError?.code).toBe('CONNECT_TIMEOUT')
    vi.advanceTimersByTime(delayOf(1))
    expect(sockets).toHaveLength(2)
    client.dispose()
  })

  it('ignores a terminated socket that opens or closes late (no zombie)', () => {
    const { client } = setup({ connectTimeoutMs: 3000 })
    const first = last()
    vi.advanceTimersByTime(3000)
    vi.advanceTimersByTime(delayOf(1))
    const second = last()
    first.onopen?.({})
    first.onclose?.({ code: 4001, reason: '', wasClean: true })
    expect(client.getSnapshot().status).toBe('connecting')
    second.serverOpen()
    expect(client.getSnapshot().status).toBe('open')
    client.dispose()
  })
})

describe('client: heartbeat', () => {
  const heartbeat = { intervalMs: 1000, timeoutMs: 500 }

  it('sends a ping every interval while open and measures latency from the pong', () => {
    const { client, messages } = setup({ heartbeat })
    const socket = last()
    socket.serverOpen()
    vi.advanceTimersByTime(999)
    expect(socket.sent).toEqual([])
    vi.advanceTimersByTime(1)
    expect(socket.sent).toEqual(['ping'])
    vi.advanceTimersByTime(40)
    socket.serverSend('pong')
    expect(client.getSnapshot().latencyMs).toBe(40)
    expect(messages).toEqual([])
    vi.advanceTimersByTime(960)
    expect(socket.sent).toEqual(['ping', 'ping'])
    vi.advanceTimersByTime(7)
    socket.serverSend('pong')
    expect(client.getSnapshot().latencyMs).toBe(7)
    client.dispose()
  })

  it('declares the link dead (HEARTBEAT_TIMEOUT) when nothing answers within the timeout, and reconnects', () => {
    const { client } = setup({ heartbeat })
    const socket = last()
    socket.serverOpen()
    vi.advanceTimersByTime(1000 + 499)
    expect(client.getSnapshot().status).toBe('open')
    vi.advanceTimersByTime(1)
    expect(socket.terminated).toBe(true)
    expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', attempt: 1 })
    expect(client.getSnapshot().lastError?.code).toBe('HEARTBEAT_TIMEOUT')
    vi.advanceTimersByTime(delayOf(1))
    expect(sockets).toHaveLength(2)
    client.dispose()
  })

  it('counts any inbound frame as an answer', () => {
    const { client, messages } = setup({ heartbeat })
    const socket = last()
    socket.serverOpen()
    vi.advanceTimersByTime(1000)
    for (let beat = 0; beat < 10; beat++) {
      // A ping just went out: a data frame 400 ms later, within the 500 ms timeout, answers it.
      vi.advanceTimersByTime(400)
      socket.serverSend(`data ${beat}`)
      vi.advanceTimersByTime(600)
    }
    expect(socket.sent).toHaveLength(11)
    expect(client.getSnapshot().status).toBe('open')
    expect(messages).toHaveLength(10)
    client.dispose()
  })

  it('pings at once when the page becomes visible while open', () => {
    const { client, visibility } = setup({ heartbeat: { intervalMs: 25_000, timeoutMs: 500 } })
    const socket = last()
    socket.serverOpen()
    visibility.set(false)
    visibility.set(true)
    expect(socket.sent).toEqual(['ping'])
    vi.advanceTimersByTime(500)
    expect(client.getSnapshot().lastError?.code).toBe('HEARTBEAT_TIMEOUT')
    client.dispose()
  })

  it('ignores an unsolicited pong: no latency, not delivered as a message', () => {
    const { client, messages } = setup({ heartbeat })
    last().serverOpen()
    last().serverSend('pong')
    expect(client.getSnapshot().latencyMs).toBeNull()
    expect(messages).toEqual([])
    client.dispose()
  })

  it('stops pinging once closed', () => {
    const { client } = setup({ heartbeat })
    const socket = last()
    socket.serverOpen()
    client.close()
    socket.serverClose(1000)
    vi.advanceTimersByTime(10_000)
    expect(socket.sent).toEqual([])
    expect(client.resources().timers).toBe(0)
    client.dispose()
  })
})

describe('client: clock jumps (R24)', () => {
  it.each([
    ['forward an hour', 3_600_000],
    ['back an hour', -3_600_000],
  ])('causes no heartbeat timeout when the wall clock jumps %s while pongs keep coming', (_, jump) => {
    const { client } = setup({ heartbeat: { intervalMs: 1000, timeoutMs: 500 } })
    const socket = last()
    socket.serverOpen()
    vi.advanceTimersByTime(1000)
    for (let beat = 0; beat < 10; beat++) {
      // A ping just went out; the wall clock jumps before its pong arrives 10 ms later.
      vi.setSystemTime(Date.now() + jump)
      vi.advanceTimersByTime(10)
      socket.serverSend('pong')
      expect(client.getSnapshot().latencyMs).toBe(10)
      vi.advanceTimersByTime(990)
    }
    expect(socket.sent).toHaveLength(11)
    socket.serverSend('pong')
    expect(client.getSnapshot().status).toBe('open')
    expect(sockets).toHaveLength(1)
    client.dispose()
  })

  it('runs a server-imposed wait (4002) on its timer even if the wall clock jumps back', () => {
    const { client } = setup()
    last().serverOpen()
    last().serverClose(4002, '{"retryAfterMs":12000}')
    vi.setSystemTime(Date.now() - 3_600_000)
    vi.advanceTimersByTime(11_999)
    expect(sockets).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(sockets).toHaveLength(2)
    client.dispose()
  })
})

describe('client: network and visibility (R27)', () => {
  it('makes no attempt while offline and one at once when back online, skipping the remaining backoff', () => {
    const { client, network } = setup()
    last().refuse()
    vi.advanceTimersByTime(delayOf(1))
    last().refuse()
    expect(client.getSnapshot().nextRetryAt).toBe(Date.now() + delayOf(2))
    network.set(false)
    expect(client.getSnapshot()).toMatchObject({ status: 'offline', nextRetryAt: null, online: false })
    vi.advanceTimersByTime(600_000)
    expect(sockets).toHaveLength(2)
    network.set(true)
    vi.advanceTimersByTime(100)
    expect(sockets).toHaveLength(3)
    expect(client.getSnapshot()).toMatchObject({ status: 'connecting', online: true })
    client.dispose()
  })

  it('skips the remaining backoff on ONLINE while reconnecting', () => {
    const { client, network } = setup()
    for (let attempt = 1; attempt <= 4; attempt++) {
      last().refuse()
      if (attempt < 4) vi.advanceTimersByTime(delayOf(attempt))
    }
    expect(client.getSnapshot().status).toBe('reconnecting')
    network.set(true)
    expect(sockets).toHaveLength(5)
    client.dispose()
  })

  it('makes no attempt when created offline, and one as soon as the network returns', () => {
    const { client, network } = setup({}, { online: false })
    expect(client.getSnapshot().status).toBe('offline')
    vi.advanceTimersByTime(600_000)
    expect(sockets).toHaveLength(0)
    network.set(true)
    expect(sockets).toHaveLength(1)
    client.dispose()
  })

  it('drops an attempt in progress when the network goes away', () => {
    const { client, network } = setup()
    const first = last()
    network.set(false)
    expect(first.terminated).toBe(true)
    expect(client.getSnapshot().status).toBe('offline')
    client.dispose()
  })

  it('runs a pending retry now when the page becomes visible', () => {
    const { client, visibility } = setup()
    for (let attempt = 1; attempt <= 5; attempt++) {
      last().refuse()
      if (attempt < 5) vi.advanceTimersByTime(delayOf(attempt))
    }
    expect(client.getSnapshot().nextRetryAt! - Date.now()).toBe(delayOf(5))
    visibility.set(false)
    expect(sockets).toHaveLength(5)
    visibility.set(true)
    expect(sockets).toHaveLength(6)
    client.dispose()
  })

  it('keeps a 4002 wait through ONLINE and VISIBLE, opening only when it ends (R14)', () => {
    const { client, network, visibility } = setup()
    last().serverOpen()
    last().serverClose(4002, '{"retryAfterMs":12000}')
    expect(client.getSnapshot().nextRetryAt).toBe(Date.now() + 12_000)
    vi.advanceTimersByTime(3000)
    visibility.set(true)
    network.set(false)
    network.set(true)
    expect(sockets).toHaveLength(1)
    expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', nextRetryAt: Date.now() + 9000 })
    vi.advanceTimersByTime(8999)
    expect(sockets).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(sockets).toHaveLength(2)
    client.dispose()
  })
})

describe('client: outbox', () => {
  it('queues sends while closed and flushes them in order on open', () => {
    const { client } = setup({ autoConnect: false })
    client.send('a')
    client.sendJson({ b: 1 })
    client.send(new Uint8Array([1, 2, 3]))
    expect(client.getSnapshot().outbox).toEqual({ queued: 3, inFlight: 0, failed: 0, bytes: 1 + 7 + 3 })
    client.connect()
    const socket = last()
    expect(socket.sent).toEqual([])
    socket.serverOpen()
    expect(socket.sent.slice(0, 2)).toEqual(['a', '{"b":1}'])
    expect(new Uint8Array(socket.sent[2] as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]))
    expect(client.getSnapshot().outbox).toMatchObject({ queued: 0, inFlight: 3 })
    client.dispose()
  })

  it('confirms written items only once bufferedAmount is back to 0', () => {
    const { client } = setup()
    const socket = last()
    socket.serverOpen()
    socket.bufferedAmount = 100
    client.send('a')
    client.send('b')
    vi.advanceTimersByTime(60_000)
    expect(client.getSnapshot().outbox).toMatchObject({ inFlight: 2 })
    socket.bufferedAmount = 0
    vi.advanceTimersByTime(1000)
    expect(client.getSnapshot().outbox).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
    expect(client.outbox.items()).toEqual([])
    client.dispose()
  })

  it('resends unconfirmed items, in order, after a drop', () => {
    const { client } = setup()
    const first = last()
    first.serverOpen()
    first.bufferedAmount = 100
    for (const text of ['a', 'b', 'c']) client.send(text)
    expect(first.sent).toEqual(['a', 'b', 'c'])
    first.serverClose(1006, '', false)
    expect(client.getSnapshot().outbox).toMatchObject({ queued: 3, inFlight: 0 })
    client.send('d')
    vi.advanceTimersByTime(crashDelayOf(1))
    last().serverOpen()
    expect(last().sent).toEqual(['a', 'b', 'c', 'd'])
    client.dispose()
  })

  it('keeps queued sends through a 4002 wait and flushes them in order after it (R14)', () => {
    const { client } = setup()
    last().serverOpen()
    last().serverClose(4002, '{"retryAfterMs":12000}')
    for (const text of ['a', 'b', 'c']) client.send(text)
    vi.advanceTimersByTime(12_000)
    last().serverOpen()
    expect(last().sent).toEqual(['a', 'b', 'c'])
    client.dispose()
  })

  it('fails the largest in-flight message on 1009 with MessageTooLargeError, keeps the rest, and rejects as large at once', () => {
    const { client, failed } = setup()
    const first = last()
    first.serverOpen()
    first.bufferedAmount = 10_000
    client.send('small')
    const big = client.send('x'.repeat(500))
    client.send('medium'.repeat(10))
    first.serverClose(1009, 'too big')
    expect(failed).toHaveLength(1)
    expect(failed[0]!.item.id).toBe(big)
    expect(failed[0]!.error).toBeInstanceOf(MessageTooLargeError)
    expect(client.outbox.items().map((item) => item.state)).toEqual(['queued', 'failed', 'queued'])
    expect(() => client.send('y'.repeat(500))).toThrow(MessageTooLargeError)
    expect(() => client.send('y'.repeat(10_000))).toThrow(MessageTooLargeError)
    expect(() => client.send('y'.repeat(499))).not.toThrow()
    vi.advanceTimersByTime(delayOf(1))
    last().serverOpen()
    expect(last().sent).toEqual(['small', 'medium'.repeat(10), 'y'.repeat(499)])
    client.dispose()
  })

  it('throws QueueFullError at the limit and keeps what was queued', () => {
    const { client } = setup({ autoConnect: false, outbox: { maxMessages: 2 } })
    client.send('a')
    client.send('b')
    expect(() => client.send('c')).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }))
    expect(client.outbox.items().map((item) => item.data)).toEqual(['a', 'b'])
    client.dispose()
  })
})

describe('client: token refresh (4001)', () => {
  /** A getToken the test answers by hand. */
  function manualToken() {
    const pending: { resolve(value: unknown): void; reject(error: unknown): void }[] = []
    const getToken = vi.fn(
      () =>
        new Promise<string>((resolve, reject) => {
          pending.push({ resolve: resolve as (value: unknown) => void, reject })
        }),
    )
    return { getToken, pending }
  }

  it('calls getToken once per 4001 even when the close is reported twice and the attempt is re-opened meanwhile (single-flight)', async () => {
    const { getToken, pending } = manualToken()
    const { client, network } = setup({ getToken })
    await settle()
    expect(getToken).toHaveBeenCalledTimes(1)
    pending[0]!.resolve('t1')
    await settle()
    const first = last()
    first.serverOpen()
    first.serverClose(4001, 'expired')
    first.serverClose(4001, 'expired')
    await settle()
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(client.getSnapshot().status).toBe('connecting')
    network.set(false)
    network.set(true)
    await settle()
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(sockets).toHaveLength(1)
    pending[1]!.resolve('t2')
    await settle()
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(sockets).toHaveLength(2)
    last().serverOpen()
    expect(client.getSnapshot().status).toBe('open')
    client.dispose()
  })

  it('reconnects at once after 4001 without waiting for a backoff', async () => {
    const getToken = vi.fn(() => 'token')
    const { client } = setup({ getToken })
    await settle()
    last().serverOpen()
    last().serverClose(4001)
    await settle()
    expect(sockets).toHaveLength(2)
    expect(client.getSnapshot().nextRetryAt).toBeNull()
    client.dispose()
  })

  it('fails after 3 refreshes in 30 s', async () => {
    const getToken = vi.fn(() => 'token')
    const { client } = setup({ getToken })
    for (let refresh = 0; refresh < 3; refresh++) {
      await settle()
      last().serverOpen()
      last().serverClose(4001)
    }
    await settle()
    last().serverOpen()
    last().serverClose(4001)
    expect(client.getSnapshot().status).toBe('failed')
    expect(client.getSnapshot().lastError?.code).toBe('TOKEN_REFRESH_FAILED')
    client.dispose()
  })

  it.each<[string, () => unknown]>([
    [
      'throwing',
      () => {
        throw new Error('auth service down')
      },
    ],
    ['rejecting', () => Promise.reject(new Error('auth service down'))],
    ['returning a number', () => 42],
    ['returning undefined', () => undefined],
    ['returning an empty string', () => ''],
    ['returning an object', () => ({ token: 'x' })],
  ])(
    'turns a getToken %s into TOKEN_REFRESH_FAILED, backs off, and leaves no unhandled rejection',
    async (_, answer) => {
      let calls = 0
      const getToken = vi.fn(() => (++calls === 1 ? 'first' : answer())) as unknown as () => string
      const { client, errors } = setup({ getToken })
      await settle()
      last().serverOpen()
      last().serverClose(4001)
      await settle()
      expect(client.getSnapshot()).toMatchObject({
        status: 'reconnecting',
        attempt: 1,
        nextRetryAt: Date.now() + delayOf(1),
      })
      expect(client.getSnapshot().lastError?.code).toBe('TOKEN_REFRESH_FAILED')
      expect(errors.at(-1)?.code).toBe('TOKEN_REFRESH_FAILED')
      expect(sockets).toHaveLength(1)
      client.dispose()
    },
  )

  it('turns a hanging getToken into TOKEN_REFRESH_FAILED after connectTimeoutMs, and backs off', async () => {
    const getToken = vi.fn(() => new Promise<string>(() => undefined))
    const { client } = setup({ getToken, connectTimeoutMs: 4000 })
    await vi.advanceTimersByTimeAsync(3999)
    expect(client.getSnapshot().status).toBe('connecting')
    await vi.advanceTimersByTimeAsync(1)
    expect(client.getSnapshot()).toMatchObject({ status: 'reconnecting', attempt: 1 })
    expect(client.getSnapshot().lastError?.code).toBe('TOKEN_REFRESH_FAILED')
    expect(sockets).toHaveLength(0)
    client.dispose()
  })
})

describe('client: hung getToken', () => {
  it('asks getToken again after a hung call timed out, instead of waiting on it forever', async () => {
    let calls = 0
    const getToken = vi.fn(() => (++calls === 1 ? new Promise<string>(() => undefined) : 'fresh'))
    const { client } = setup({ getToken, connectTimeoutMs: 4000 })
    await vi.advanceTimersByTimeAsync(4000 + delayOf(1))
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(sockets).toHaveLength(1)
    last().serverOpen()
    expect(client.getSnapshot().status).toBe('open')
    client.dispose()
  })
})

describe('client: dispose', () => {
  it.each<[string, (setup: Setup) => Promise<void> | void]>([
    ['while connecting', () => undefined],
    [
      'while open with a heartbeat and a pending drain',
      ({ client }) => {
        last().serverOpen()
        last().bufferedAmount = 10
        client.send('a')
        vi.advanceTimersByTime(1500)
      },
    ],
    ['while reconnecting', () => last().refuse()],
    ['while offline', ({ network }) => network.set(false)],
    [
      'while closing',
      ({ client }) => {
        last().serverOpen()
        client.close()
      },
    ],
    [
      'while a released holder lingers',
      ({ client }) => {
        last().serverOpen()
        client.retain(1000)()
      },
    ],
  ])('releases every timer, listener and socket %s', async (_, arrange) => {
    const context = setup({ heartbeat: { intervalMs: 1000, timeoutMs: 500 } })
    const { client, network, visibility } = context
    const unsubscribe = client.subscribe(() => undefined)
    await arrange(context)
    client.dispose()
    expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
    expect(vi.getTimerCount()).toBe(0)
    expect(network.listeners() + visibility.listeners()).toBe(0)
    expect(sockets.every((socket) => socket.readyState >= 2)).toBe(true)
    unsubscribe()
    vi.advanceTimersByTime(600_000)
    expect(client.getSnapshot().status).toBe('closed')
  })

  it('releases everything while waiting for getToken, and ignores the late token', async () => {
    let resolve: (token: string) => void = () => undefined
    const getToken = vi.fn(() => new Promise<string>((done) => (resolve = done)))
    const { client } = setup({ getToken })
    client.dispose()
    expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
    resolve('late')
    await settle()
    expect(sockets).toHaveLength(0)
    expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
  })
})

describe('client: network read afresh on connect() (regression: a stale flag kept a client offline forever)', () => {
  it('reads the network afresh on connect(): created offline, back online while idle → connects', () => {
    const { client, network } = setup({ autoConnect: false }, { online: false })
    network.set(true)
    client.connect()
    expect(sockets).toHaveLength(1)
    client.dispose()
  })

  it('reads the network afresh on connect(): gone offline while idle → no attempt (R27)', () => {
    const { client, network } = setup({ autoConnect: false })
    network.set(false)
    client.connect()
    expect(sockets).toHaveLength(0)
    expect(client.getSnapshot().status).toBe('offline')
    client.dispose()
  })
})
