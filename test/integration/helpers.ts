import { afterEach, beforeEach, expect } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import { createLifeline, type ConnectionSnapshot, type ConnectionStatus, type LifelineClient } from '../../src/core'
import type { LifelineOptions, WebSocketConstructor, WebSocketLike } from '../../src/core'
import { createLongPollTransport } from '../../src/core/longpoll-transport'
import type { Transport } from '../../src/core/transport'
import { createEchoServer, createFaultProxy, type EchoServer, type EchoServerOptions } from '../../src/testing'
import type { FaultProxy } from '../../src/testing'

/** Short policies for real-time tests (RELIABILITY.md allows shortened parameters). */
export const FAST = { minDelayMs: 50, maxDelayMs: 500, connectTimeoutMs: 1000, closeTimeoutMs: 500 } as const

const CONNECTING = 0
const OPEN = 1
const CLOSED = 3

/** Every socket one client constructed, with the "at most one CONNECTING/OPEN" check done at each construction. */
export interface SocketTracker {
  /** `ws`'s client, recording every instance. Pass as `environment.WebSocket`. */
  readonly WebSocket: WebSocketConstructor
  /** Every socket constructed, oldest first (past 100, sockets already CLOSED are forgotten but the newest 50). */
  readonly sockets: readonly NodeWebSocket[]
  /** `Date.now()` of each construction (one per connection attempt that reached the transport). */
  readonly attempts: readonly number[]
  /** Descriptions of every construction that found another socket of the same client still CONNECTING or OPEN. */
  readonly overlaps: readonly string[]
  /** Sockets currently CONNECTING or OPEN. */
  live(): number
}

/** Creates a tracker whose `WebSocket` class records every socket a client makes. */
export function trackSockets(): SocketTracker {
  const sockets: NodeWebSocket[] = []
  const attempts: number[] = []
  const overlaps: string[] = []
  const live = () => sockets.filter((socket) => socket.readyState === CONNECTING || socket.readyState === OPEN).length
  class TrackedWebSocket extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args)
      const others = live()
      if (others > 0)
        overlaps.push(`socket #${sockets.length + 1} constructed while ${others} other(s) CONNECTING/OPEN`)
      sockets.push(this)
      attempts.push(Date.now())
      // Long churn runs: forget old sockets that are already CLOSED, so the tracker does not weigh on the heap.
      if (sockets.length > 100) {
        const keep = sockets.filter((socket, index) => index >= sockets.length - 50 || socket.readyState !== CLOSED)
        sockets.splice(0, sockets.length, ...keep)
      }
    }
  }
  return { WebSocket: TrackedWebSocket as unknown as WebSocketConstructor, sockets, attempts, overlaps, live }
}

/** A client with its tracker and a log of every status change. */
export interface TestClient {
  readonly client: LifelineClient
  readonly tracker: SocketTracker
  /** Every status change: the snapshot and `performance.now()` when it was published (the latest 200–400 in long runs). */
  readonly history: readonly { snapshot: ConnectionSnapshot; at: number }[]
}

/** Polls `check` every 5 ms until it returns true; rejects after `timeoutMs` naming `what`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/** Resolves with `performance.now()` when the client's status satisfies `wanted` (at once if it already does). */
export function waitForStatus(
  client: LifelineClient,
  wanted: ConnectionStatus | ((snapshot: ConnectionSnapshot) => boolean),
  timeoutMs: number,
): Promise<number> {
  const matches = (snapshot: ConnectionSnapshot) =>
    typeof wanted === 'function' ? wanted(snapshot) : snapshot.status === wanted
  if (matches(client.getSnapshot())) return Promise.resolve(performance.now())
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop()
      const { status, lastError } = client.getSnapshot()
      const name = typeof wanted === 'function' ? 'a matching snapshot' : `status '${wanted}'`
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${name} (status '${status}', ${lastError?.code})`))
    }, timeoutMs)
    const stop = client.subscribe(() => {
      if (!matches(client.getSnapshot())) return
      clearTimeout(timer)
      stop()
      resolve(performance.now())
    })
  })
}

/** Real-time sleep, for the integration tier only. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Text messages the echo server received on `connectionId` (or on every connection), in order. */
export function receivedTexts(server: EchoServer, connectionId?: number): string[] {
  return server.received
    .filter((message) => !message.isBinary && (connectionId === undefined || message.connectionId === connectionId))
    .map((message) => message.data as string)
    .filter((text) => text !== 'ping')
}

/** Counts how often each of `texts` appears in `list`. */
export function counts(list: readonly string[], texts: readonly string[]): number[] {
  return texts.map((text) => list.filter((item) => item === text).length)
}

interface StartOptions {
  server?: EchoServerOptions
}

/**
 * The integration harness: an echo server, fault proxies and clients created on demand, and after each test the
 * checks every scenario shares (RELIABILITY.md "Invariants"): every client disposed with zero resources, never two
 * sockets CONNECTING/OPEN for one client, every socket closed, server connections back to zero, no unhandled
 * rejection or uncaught error.
 */
export interface Harness {
  /** The echo server (after `start`). */
  readonly server: EchoServer
  /** Starts the echo server. */
  start(options?: StartOptions): Promise<EchoServer>
  /** A fault proxy in front of the echo server. */
  proxy(): Promise<FaultProxy>
  /** A client with a socket tracker, `FAST` policies and `ws` as its WebSocket, disposed after the test. */
  client(options: Partial<LifelineOptions> & Pick<LifelineOptions, 'url'>): TestClient
  /** Unhandled rejections and uncaught errors seen so far in this test. */
  readonly problems: readonly unknown[]
}

/** Registers the harness's beforeEach/afterEach hooks and returns it. Call once per test file. */
export function useHarness(): Harness {
  let server: EchoServer | null = null
  let proxies: FaultProxy[] = []
  let clients: TestClient[] = []
  const problems: unknown[] = []
  const onRejection = (reason: unknown) => problems.push(['unhandledRejection', reason])
  const onException = (error: unknown) => problems.push(['uncaughtException', error])

  beforeEach(() => {
    problems.length = 0
    process.on('unhandledRejection', onRejection)
    process.on('uncaughtException', onException)
  })

  afterEach(async () => {
    try {
      for (const { client } of clients) client.dispose()
      for (const { client } of clients) {
        expect(client.resources(), 'resources after dispose()').toEqual({ timers: 0, listeners: 0, sockets: 0 })
      }
      const sockets = clients.flatMap(({ tracker }) => tracker.sockets)
      await waitFor(() => sockets.every((socket) => socket.readyState === CLOSED), 2000, 'every client socket CLOSED')
      await Promise.all(proxies.map((proxy) => proxy.close()))
      if (server) {
        const echo = server
        await waitFor(() => echo.connections === 0, 2000, `server connections back to 0 (${echo.connections})`)
      }
      // Let rejections of the last turn surface before checking.
      await new Promise((resolve) => setImmediate(resolve))
      for (const { tracker } of clients) expect(tracker.overlaps, 'sockets CONNECTING/OPEN at once').toEqual([])
      expect(problems, 'unhandled rejections / uncaught errors').toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtException', onException)
      await Promise.all(proxies.map((proxy) => proxy.close()))
      await server?.close()
      server = null
      proxies = []
      clients = []
    }
  })

  return {
    get server() {
      if (!server) throw new Error('call start() first')
      return server
    },
    async start(options = {}) {
      server = await createEchoServer(options.server)
      return server
    },
    async proxy() {
      if (!server) throw new Error('call start() first')
      const proxy = await createFaultProxy({ target: server.url })
      proxies.push(proxy)
      return proxy
    },
    client(options) {
      const tracker = trackSockets()
      const client = createLifeline({
        ...FAST,
        ...options,
        environment: { WebSocket: tracker.WebSocket, ...options.environment },
      })
      const history: { snapshot: ConnectionSnapshot; at: number }[] = []
      let last = client.getSnapshot().status
      history.push({ snapshot: client.getSnapshot(), at: performance.now() })
      client.subscribe(() => {
        const snapshot = client.getSnapshot()
        if (snapshot.status === last) return
        last = snapshot.status
        history.push({ snapshot, at: performance.now() })
        if (history.length > 400) history.splice(0, 200)
      })
      const entry = { client, tracker, history }
      clients.push(entry)
      return entry
    },
    problems,
  }
}

/** Every `transport` the client's snapshot showed while open, in order (repeats collapsed). */
export function transportsSeen(client: LifelineClient): Array<ConnectionSnapshot['transport']> {
  const seen: Array<ConnectionSnapshot['transport']> = []
  const record = () => {
    const { status, transport } = client.getSnapshot()
    if (status === 'open' && seen.at(-1) !== transport) seen.push(transport)
  }
  record()
  client.subscribe(record)
  return seen
}

/** Waits until the client is open over `transport`; resolves with how long that took (ms). */
export async function openOn(
  client: LifelineClient,
  transport: 'websocket' | 'longpoll',
  timeoutMs: number,
): Promise<number> {
  const started = performance.now()
  await waitFor(
    () => client.getSnapshot().status === 'open' && client.getSnapshot().transport === transport,
    timeoutMs,
    `open over ${transport} (now ${client.getSnapshot().status} over ${String(client.getSnapshot().transport)})`,
  )
  return performance.now() - started
}

/**
 * The long-poll transport behind the WebSocket interface, so that `createLifeline` (which builds a WebSocket
 * transport) runs its whole stack over long-poll and nothing else: protocol, channels, outbox, reconnects, resume;
 * the fallback's own choices stay out. `onTransport` sees each transport created (to drop it after a test).
 */
export function longPollWebSocket(onTransport?: (transport: Transport) => void): WebSocketConstructor {
  class LongPollWebSocket implements WebSocketLike {
    readyState = 0
    binaryType = 'arraybuffer'
    onopen: WebSocketLike['onopen'] = null
    onmessage: WebSocketLike['onmessage'] = null
    onclose: WebSocketLike['onclose'] = null
    onerror: WebSocketLike['onerror'] = null
    private readonly transport: Transport

    constructor(url: string) {
      this.transport = createLongPollTransport(
        {
          url,
          fetch: globalThis.fetch,
          timers: {
            setTimeout: (callback, ms) => setTimeout(callback, ms),
            clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
          },
        },
        {
          open: () => {
            this.readyState = OPEN
            this.onopen?.({})
          },
          message: (data) => this.onmessage?.({ data }),
          close: (code, reason, wasClean) => {
            this.readyState = CLOSED
            this.onclose?.({ code, reason, wasClean })
          },
          error: () => this.onerror?.({}),
        },
      )
      onTransport?.(this.transport)
    }

    get bufferedAmount(): number {
      return this.transport.buffered()
    }

    send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
      this.transport.send(data)
    }

    close(code = 1000, reason = ''): void {
      this.readyState = 2
      this.transport.close(code, reason)
    }

    terminate(): void {
      this.readyState = CLOSED
      this.transport.drop()
    }
  }
  return LongPollWebSocket as unknown as WebSocketConstructor
}
