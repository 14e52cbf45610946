import { afterEach, beforeEach, expect } from 'vitest'
import type { WebSocket as NodeWebSocket } from 'ws'
import { createLifeline, lifelineProtocol } from '../../src/core'
import type {
  ConnectionSnapshot,
  LifelineClient,
  LifelineOptions,
  LifelineProtocol,
  LifelineProtocolOptions,
} from '../../src/core'
import type { ChannelStatus, ClientFrame, WebSocketConstructor } from '../../src/core'
import type { Broker, BrokerListener } from '../../src/server'
import { createFaultProxy, createTestServer } from '../../src/testing'
import type { FaultProxy, TestServer, TestServerOptions } from '../../src/testing'
import { FAST, trackSockets, waitFor, type SocketTracker } from './helpers'
import type { Numbered, SequenceChecker } from './sequence-checker'

/** Short server policies (RELIABILITY.md allows shortened parameters): heartbeat 500 ms, resume window 3 s. */
export const SERVER: TestServerOptions = { heartbeat: { intervalMs: 500 }, resume: { windowMs: 3000 } }

/** Client heartbeat for these tests: a dead link is noticed within about a second. */
export const HEARTBEAT = { intervalMs: 300, timeoutMs: 600 } as const

/** A lifeline client, its protocol, its sockets and every frame it wrote. */
export interface ChannelsClient {
  readonly client: LifelineClient
  readonly protocol: LifelineProtocol
  readonly tracker: SocketTracker
  /** Every text frame the client wrote, parsed, oldest first. */
  readonly sent: readonly ClientFrame[]
  /** Every status change. */
  readonly statuses: readonly ConnectionSnapshot['status'][]
}

/** Options of {@link ChannelsHarness.client}: the client's, plus those of its `lifelineProtocol()`. */
export type ChannelsClientOptions = Partial<LifelineOptions> & { url: string; channels?: LifelineProtocolOptions }

/**
 * The harness of the channel scenarios: reference test servers, fault proxies and lifeline clients made on demand,
 * and after each test the invariants every scenario shares (RELIABILITY.md): clients disposed with zero resources,
 * never two sockets CONNECTING/OPEN for one client, server connections and subscriptions back to zero, no unhandled
 * rejection or uncaught error.
 */
export interface ChannelsHarness {
  /** A test server with {@link SERVER} policies under `options`, closed after the test. */
  server(options?: TestServerOptions): Promise<TestServer>
  /** A fault proxy in front of `server`, closed after the test; `url` is the proxied lifeline URL. */
  proxy(server: TestServer): Promise<FaultProxy & { lifelineUrl: string }>
  /** A client with `lifelineProtocol()`, `FAST` policies, {@link HEARTBEAT} and a socket tracker; disposed after the test. */
  client(options: ChannelsClientOptions): ChannelsClient
  /** Unhandled rejections and uncaught errors seen so far in this test. */
  readonly problems: readonly unknown[]
}

/** Registers the harness's hooks and returns it. Call once per test file. */
export function useChannelsHarness(): ChannelsHarness {
  let servers: TestServer[] = []
  let proxies: FaultProxy[] = []
  let clients: ChannelsClient[] = []
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
      await waitFor(() => sockets.every((socket) => socket.readyState === 3), 2000, 'every client socket CLOSED')
      await Promise.all(proxies.map((proxy) => proxy.close()))
      for (const server of servers) {
        await waitFor(() => server.connections === 0, 2000, `server connections back to 0 (${server.connections})`)
        expect(server.server.stats().subscriptions, 'server subscriptions').toBe(0)
      }
      await new Promise((resolve) => setImmediate(resolve))
      for (const { tracker } of clients) expect(tracker.overlaps, 'sockets CONNECTING/OPEN at once').toEqual([])
      expect(problems, 'unhandled rejections / uncaught errors').toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtException', onException)
      await Promise.all(proxies.map((proxy) => proxy.close()))
      await Promise.all(servers.map((server) => server.close()))
      servers = []
      proxies = []
      clients = []
    }
  })

  return {
    async server(options = {}) {
      const server = await createTestServer({ ...SERVER, ...options })
      servers.push(server)
      return server
    },
    async proxy(server) {
      const proxy = await createFaultProxy({ target: server.url })
      proxies.push(proxy)
      return Object.assign(proxy, { lifelineUrl: `${proxy.url}/lifeline` })
    },
    client({ channels, ...options }) {
      const tracker = trackSockets()
      const sent: ClientFrame[] = []
      const Tracked = tracker.WebSocket as unknown as typeof NodeWebSocket
      class Recording extends Tracked {
        constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
          super(...args)
          const send = this.send.bind(this) as (...rest: unknown[]) => void
          this.send = ((data: unknown, ...rest: unknown[]) => {
            if (typeof data === 'string') sent.push(JSON.parse(data) as ClientFrame)
            send(data, ...rest)
          }) as NodeWebSocket['send']
        }
      }
      const protocol = lifelineProtocol(channels)
      const client = createLifeline({
        ...FAST,
        heartbeat: HEARTBEAT,
        protocol,
        ...options,
        environment: { WebSocket: Recording as unknown as WebSocketConstructor, ...options.environment },
      })
      const statuses: ConnectionSnapshot['status'][] = [client.getSnapshot().status]
      client.subscribe(() => {
        const { status } = client.getSnapshot()
        if (status !== statuses[statuses.length - 1]) statuses.push(status)
      })
      const entry = { client, protocol, tracker, sent, statuses }
      clients.push(entry)
      return entry
    },
    problems,
  }
}

/** A bounded publisher: `perTick` payloads per channel every `everyMs`, round robin, until stopped or `maxTicks`. */
export interface Load {
  /** Stops publishing; resolves once the last publish settled. */
  stop(): Promise<void>
  /** Publish failures (there must be none). */
  readonly errors: unknown[]
}

/** Publishes numbered payloads from the server side (the application backend) on `channels`. */
export function serverLoad(options: {
  server: TestServer
  checker: SequenceChecker
  channels: readonly string[]
  everyMs: number
  perTick?: number
  maxTicks: number
}): Load {
  const { server, checker, channels, everyMs, perTick = 1, maxTicks } = options
  const errors: unknown[] = []
  const pending = new Set<Promise<unknown>>()
  let ticks = 0
  const tick = () => {
    if (++ticks > maxTicks) return clearInterval(timer)
    for (let round = 0; round < perTick; round++) {
      for (const channel of channels) {
        const published = server.publish(channel, checker.next(channel)).catch((error: unknown) => errors.push(error))
        pending.add(published)
        void published.finally(() => pending.delete(published))
      }
    }
  }
  const timer = setInterval(tick, everyMs)
  return {
    async stop() {
      clearInterval(timer)
      await Promise.all(pending)
    },
    errors,
  }
}

/** Publishes numbered payloads from a client, through its outbox, every `everyMs` until stopped or `maxTicks`. */
export function clientLoad(options: {
  protocol: LifelineProtocol
  checker: SequenceChecker
  channels: readonly string[]
  everyMs: number
  maxTicks: number
}): Load {
  const { protocol, checker, channels, everyMs, maxTicks } = options
  const errors: unknown[] = []
  let ticks = 0
  const timer = setInterval(() => {
    if (++ticks > maxTicks) return clearInterval(timer)
    for (const channel of channels) publishNumbered(protocol, checker, channel, errors)
  }, everyMs)
  return {
    stop() {
      clearInterval(timer)
      return Promise.resolve()
    },
    errors,
  }
}

/** Publishes the next numbered payload of `channel`; a refusal is recorded in `errors` and withdrawn from the checker. */
export function publishNumbered(
  protocol: LifelineProtocol,
  checker: SequenceChecker,
  channel: string,
  errors?: unknown[],
): Numbered {
  const payload = checker.next(channel)
  try {
    protocol.publish(channel, payload)
  } catch (error) {
    checker.unpublish(channel, payload.n)
    if (!errors) throw error
    errors.push(error)
  }
  return payload
}

/** What {@link subscribeAll} returns. */
export interface Subscribed {
  /** Leaves every channel. */
  leave(): void
  /** Every status each channel reported, oldest first. */
  readonly statuses: ReadonlyMap<string, ChannelStatus[]>
  /** How many times each channel was confirmed `resumed: true` / `resumed: false` after a resubscribe with `since`. */
  resumes(): { resumed: number; notResumed: number }
}

/** Listens as `subscriber` on every channel and resolves once each is subscribed. */
export async function subscribeAll(
  entry: ChannelsClient,
  checker: SequenceChecker,
  subscriber: string,
  channels: readonly string[],
): Promise<Subscribed> {
  const statuses = new Map<string, ChannelStatus[]>(channels.map((channel) => [channel, []]))
  const leaves = channels.map((channel) => {
    const listener = checker.listen(subscriber, channel)
    return entry.protocol.channel(channel, { ...listener, status: (status) => statuses.get(channel)!.push(status) })
  })
  const subscribed = () => [...statuses.values()].filter((list) => list.some((status) => status.state === 'subscribed'))
  await waitFor(
    () => subscribed().length === channels.length,
    3000,
    `${subscriber} subscribed to ${channels.length} channels`,
  )
  return {
    leave: () => leaves.forEach((leave) => leave()),
    statuses,
    resumes() {
      const all = [...statuses.values()].flat()
      return {
        resumed: all.filter((status) => status.resumed === true).length,
        notResumed: all.filter((status) => status.resumed === false).length,
      }
    },
  }
}

/** Waits until every subscriber caught up with every publish. */
export function caughtUp(checker: SequenceChecker, timeoutMs = 5000): Promise<void> {
  return waitFor(() => checker.caughtUp(), timeoutMs, 'every subscriber caught up').catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: ${checker.lagging()}`)
  })
}

/** `count` channel names `prefix-0` … */
export function channelNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index)}`)
}

/**
 * A broker in front of `inner` whose answers come late, as a networked one's (Redis) do: `subscribe` and `history`
 * resolve after up to `maxLagMs`, and each listener gets its messages in order but up to `maxLagMs` behind. So live
 * messages arrive while a subscription is still reading history, and history may already hold what arrives live:
 * the server must merge the two by seq (R17).
 */
export function laggingBroker(inner: Broker, maxLagMs = 5): Broker {
  const lag = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * maxLagMs))
  return {
    publish: (channel, payload) => inner.publish(channel, payload),
    async subscribe(channel, listener) {
      let stopped = false
      let chain = Promise.resolve()
      const lagging: BrokerListener = (message) => {
        chain = chain.then(lag).then(() => {
          if (!stopped) listener(message)
        })
      }
      const unsubscribe = await inner.subscribe(channel, lagging)
      await lag()
      return () => {
        stopped = true
        unsubscribe()
      }
    },
    async history(channel, since) {
      const history = await inner.history(channel, since)
      await lag()
      return history
    },
    reset: (channel) => inner.reset(channel),
    close: () => inner.close(),
  }
}
