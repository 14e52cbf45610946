// Many real lifeline clients (createLifeline + lifelineProtocol over `ws`, or forced onto long-poll) in the test
// process, for the multi-node scenarios: each subscribed to some channels, publishing stamped payloads through its
// outbox, with every status change timed.
import { WebSocket as NodeWebSocket } from 'ws'
import { createLifeline, lifelineProtocol } from '../../../src/core'
import type { LifelineClient, LifelineOptions, LifelineProtocol, WebSocketConstructor } from '../../../src/core'
import { longPollWebSocket } from '../../integration/helpers'
import type { MultiChecker, Stamped } from './multi-checker'

/** One client of the swarm. */
export interface SwarmClient {
  readonly name: string
  readonly client: LifelineClient
  readonly protocol: LifelineProtocol
  /** `performance.now()` of every transition to `open`. */
  readonly opens: number[]
  /** `performance.now()` of every transition away from `open`. */
  readonly drops: number[]
  /** Channels confirmed subscribed at least once. */
  readonly subscribed: Set<string>
}

/** Options of {@link createSwarm}. */
export interface SwarmOptions {
  /** `ws://…/lifeline` of the balancer. */
  url: string
  /** Clients. */
  count: number
  /** Client options on top of the defaults here. @default {} */
  client?: Partial<LifelineOptions>
  /** Force every client onto long-poll from its first connection. @default false */
  longPoll?: boolean
  /** Clients started per batch, and the pause between batches (ms), so 1,000 do not hit one event loop turn. */
  batch?: { size: number; pauseMs: number }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Starts `count` clients, `batch.size` at a time. */
export async function createSwarm(options: SwarmOptions): Promise<{ clients: SwarmClient[]; dispose(): void }> {
  const { size, pauseMs } = options.batch ?? { size: 50, pauseMs: 50 }
  const clients: SwarmClient[] = []
  const transports: Array<{ drop(): void }> = []
  const WebSocket =
    options.longPoll === true
      ? longPollWebSocket((transport) => transports.push(transport))
      : (NodeWebSocket as unknown as WebSocketConstructor)
  for (let index = 0; index < options.count; index++) {
    const protocol = lifelineProtocol()
    const client = createLifeline({
      url: options.url,
      protocol,
      minDelayMs: 200,
      maxDelayMs: 2000,
      connectTimeoutMs: 3000,
      heartbeat: { intervalMs: 5000, timeoutMs: 3000 },
      ...options.client,
      environment: { WebSocket, ...options.client?.environment },
    })
    const entry: SwarmClient = {
      name: `c${String(index)}`,
      client,
      protocol,
      opens: [],
      drops: [],
      subscribed: new Set(),
    }
    let last = client.getSnapshot().status
    client.subscribe(() => {
      const { status } = client.getSnapshot()
      if (status === last) return
      if (status === 'open') entry.opens.push(performance.now())
      else if (last === 'open') entry.drops.push(performance.now())
      last = status
    })
    clients.push(entry)
    if ((index + 1) % size === 0) await sleep(pauseMs)
  }
  return {
    clients,
    dispose() {
      for (const { client } of clients) client.dispose()
      for (const transport of transports) transport.drop()
    },
  }
}

/** Subscribes `entry` to `channels`, each with the checker's listener. */
export function subscribe(entry: SwarmClient, checker: MultiChecker, channels: readonly string[]): void {
  for (const channel of channels) {
    const listener = checker.listen(entry.name, channel)
    entry.protocol.channel(channel, {
      ...listener,
      status: (status) => {
        if (status.state === 'subscribed') entry.subscribed.add(channel)
      },
    })
  }
}

/** Publishes the next stamped payload of `entry` on `channel`; a refusal withdraws it and counts in `errors`. */
export function publishStamped(entry: SwarmClient, checker: MultiChecker, channel: string, errors: unknown[]): void {
  const payload = checker.next(channel, entry.name)
  try {
    entry.protocol.publish(channel, payload)
  } catch (error) {
    checker.withdraw(payload)
    errors.push(error)
  }
}

/** Withdraws every payload the outbox gives up on (`messageFailed`), recording the failures. */
export function withdrawFailures(entry: SwarmClient, checker: MultiChecker, failures: unknown[]): void {
  entry.client.on('messageFailed', (event) => {
    failures.push(event.error)
    checker.withdraw(JSON.parse(event.item.data as string) as Stamped)
  })
}

/** Counts of the swarm's outboxes. */
export function outboxes(clients: readonly SwarmClient[]): { queued: number; inFlight: number; failed: number } {
  const total = { queued: 0, inFlight: 0, failed: 0 }
  for (const { client } of clients) {
    const { queued, inFlight, failed } = client.getSnapshot().outbox
    total.queued += queued
    total.inFlight += inFlight
    total.failed += failed
  }
  return total
}

/** How long `outstanding` must stay the same, with every outbox empty, before {@link drain} stops waiting. */
const SETTLE_MS = 3000

/**
 * Waits until every outbox is empty and every subscriber has every message (`outstanding` 0), or, after a reported
 * gap, until nothing more arrives for {@link SETTLE_MS} (the checker's report then tells excused from lost); at most
 * `timeoutMs`. Resolves with how long it took and what was still outstanding.
 */
export async function drain(
  clients: readonly SwarmClient[],
  checker: MultiChecker,
  timeoutMs: number,
): Promise<{ ms: number; outstanding: number; outbox: ReturnType<typeof outboxes> }> {
  const started = performance.now()
  let last = -1
  let since = started
  for (;;) {
    const outbox = outboxes(clients)
    const outstanding = checker.outstanding()
    const now = performance.now()
    if (outstanding !== last) {
      last = outstanding
      since = now
    }
    const empty = outbox.queued + outbox.inFlight === 0
    if ((empty && (outstanding === 0 || now - since >= SETTLE_MS)) || now - started >= timeoutMs) {
      return { ms: now - started, outstanding, outbox }
    }
    await sleep(100)
  }
}
