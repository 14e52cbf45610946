import { fullJitter } from './backoff'
import type { ClientParts } from './client-types'
import { lifelineError, MessageTooLargeError, type LifelineError } from './errors'
import type { OutboxItem } from './outbox'
import type { Transport } from './transport'
import type { OutboundData } from './types'
import { measureMessage } from './validate'

/** Raw mode: how long a drained write must be followed by a live link before it counts as delivered, ms. */
const SETTLE_MS = 250

/** Writes the outbox and decides when written items count as delivered. */
export interface Delivery {
  /** Checks the size (against the option and the learnt limit), queues, writes if possible. Returns the id. */
  enqueue(data: OutboundData, channel?: string): string
  /** Fails expired items; writes every queued item if the connection is open, then waits for their confirmation. */
  flush(): void
  /** Stops waiting for a drain (the transport is going away). */
  stop(): void
  /** Fails `item` with `error`; it stays visible as `failed`. */
  fail(item: OutboxItem, error: LifelineError): void
  /** The server refused messages over `bytes`: queued items over it fail now, larger sends are refused up front. */
  limit(bytes: number, error?: LifelineError): void
  /** A close (`code`) failed the item in flight that most likely caused it. */
  failSuspect(code: number): void
  /** Written items go back to the queue (their attempts spent: failed). */
  requeue(): void
  /** A heartbeat ping was written: its pong confirms the items written before it. */
  pinged(): void
  /** The last ping was answered. */
  answered(): void
  /** The server applied an item: refusals in a row start over. */
  confirmed(): void
  /** The server did not apply `id` and asks for it later (`nack{UNAVAILABLE}`): back to the queue, sent after a wait. */
  defer(id: string): void
  /** A ping went unanswered on a live link (see `HeartbeatHost.unmatched`). */
  unmatched(): void
  /** Puts failed items (one, or all) back in the queue. */
  retry(id?: string): void
  /** Removes items (one, or all) without sending them. */
  discard(id?: string): void
}

/** Creates the {@link Delivery} of one client. */
export function createDelivery(parts: ClientParts): Delivery {
  const { outbox, protocol, later, env, failed, publish } = parts
  /** The transport to write to while the connection is open and stored items are restored; else `null`. */
  const writer = (): Transport | null =>
    parts.runtime.state.status === 'open' && parts.restored ? parts.connection.transport : null
  let learnedLimit = Infinity
  let cancelDrain: (() => void) | null = null
  /** `nack{UNAVAILABLE}`s in a row, and the wait before the outbox sends again (docs/protocol.md §5). */
  let deferrals = 0
  let cancelDeferral: (() => void) | null = null
  /** Items written before the unanswered ping: its pong confirms them. */
  let covered: string[] = []
  /** Whether a pong was ever recognised. */
  let ponged = false
  /** Pings went unanswered on a live link and no pong was ever recognised: the heartbeat confirms nothing. */
  let unmatched = false

  function fail(item: OutboxItem, error: LifelineError): void {
    outbox.fail(item.id, error)
    failed({ ...item, state: 'failed', error })
  }

  /** Queued items over a limit learned from the server fail now instead of being refused one by one. */
  function limit(bytes: number, error: LifelineError = new MessageTooLargeError(bytes + 1, bytes)): void {
    learnedLimit = Math.min(learnedLimit, bytes)
    for (const other of outbox.queued()) if (other.bytes > learnedLimit) fail(other, error)
  }

  function flush(): void {
    for (const item of outbox.expire(env.clock.now())) failed(item, lifelineError('MESSAGE_EXPIRED'))
    // The server asked for a pause: everything waits, so that order is kept and a struggling broker is not hammered.
    const transport = cancelDeferral ? null : writer()
    if (!transport) return
    const items = outbox.queued()
    for (const item of items) {
      transport.send(protocol.encode(item))
      outbox.markSending(item.id)
    }
    if (!items.length || protocol.confirmBy !== 'drain') return
    // With a heartbeat, a pong answering a ping written after these items proves the server read them (TCP keeps
    // order), so a link that died silently cannot lose them. Without one, the drain + settle window is the best signal.
    const heartbeat = parts.heartbeat()
    heartbeat?.confirm()
    if ((!heartbeat || unmatched) && !cancelDrain) waitForDrain(0)
  }

  /**
   * Raw mode: a written item is confirmed once the socket has handed every byte to the network and the link has then
   * stayed up for a settle window. Bytes in the kernel have not reached the server yet: a close that follows within the
   * window (RST or FIN on a link that died, the server's 1009 for that very message) requeues or fails the item
   * instead of losing it.
   */
  function waitForDrain(ms: number): void {
    cancelDrain = later(() => {
      cancelDrain = null
      const transport = parts.connection.transport
      if (!transport) return
      if (transport.buffered() > 0) return waitForDrain(25)
      const written = new Set(outbox.sending().map((item) => item.id))
      const settleMs = Math.max(SETTLE_MS, 2 * (parts.latency ?? 0))
      cancelDrain = later(() => {
        cancelDrain = null
        if (!parts.connection.transport) return
        const sending = outbox.sending()
        if (sending.every((item) => written.has(item.id))) outbox.confirm()
        else for (const id of written) outbox.confirm(id)
        publish()
        if (sending.length > written.size) waitForDrain(0)
      }, settleMs)
    }, ms)
  }

  return {
    enqueue(data, channel) {
      const copy =
        data instanceof ArrayBuffer
          ? data.slice(0)
          : ArrayBuffer.isView(data)
            ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
            : data
      const bytes = measureMessage(copy as OutboundData)
      const max = Math.min(parts.maxBytes, learnedLimit)
      if (bytes > max) throw new MessageTooLargeError(bytes, max)
      const item = outbox.add(copy as OutboundData, bytes, env.clock.now(), channel)
      flush()
      publish()
      return item.id
    },
    flush,
    stop() {
      cancelDrain?.()
      cancelDrain = null
    },
    fail,
    limit,
    failSuspect(code) {
      const item = outbox.failSuspect(code)
      if (!item?.error) return
      if (code === 1009) limit(item.bytes - 1, item.error)
      failed(item)
    },
    requeue() {
      for (const item of outbox.requeue()) failed(item)
    },
    confirmed() {
      deferrals = 0
    },
    defer(id) {
      outbox.defer(id)
      if (!cancelDeferral) {
        const context = {
          attempt: ++deferrals,
          minDelayMs: parts.config.minDelayMs,
          maxDelayMs: parts.config.maxDelayMs,
          previousDelayMs: 0,
          random: env.random,
        }
        cancelDeferral = later(() => {
          cancelDeferral = null
          flush()
        }, fullJitter(context))
      }
      publish()
    },
    pinged() {
      covered = outbox.sending().map((item) => item.id)
    },
    unmatched() {
      // A server that answers, but never with what `isPong` matches: the heartbeat would confirm nothing, every send
      // would stay in flight and be resent after each reconnect. Drain + settle confirms them instead.
      if (ponged || unmatched) return
      unmatched = true
      if (process.env.NODE_ENV !== 'production') {
        console.warn(
          '[lifeline] heartbeat pings are answered, but never with a recognised pong: check heartbeat.isPong (and ' +
            'heartbeat.message). Sends are confirmed by drain + settle instead.',
        )
      }
      if (protocol.confirmBy === 'drain' && outbox.sending().length && !cancelDrain) waitForDrain(0)
    },
    answered() {
      ponged = true
      if (protocol.confirmBy !== 'drain') return
      for (const id of covered) outbox.confirm(id)
      // Items written after that ping need a pong of their own.
      if (outbox.stats().inFlight) parts.heartbeat()?.confirm()
    },
    retry(id) {
      outbox.retry(id)
      flush()
      publish()
    },
    discard(id) {
      for (const item of outbox.discard(id)) {
        if (item.state !== 'failed') failed(item, lifelineError('MESSAGE_DISCARDED'))
      }
      publish()
    },
  }
}
