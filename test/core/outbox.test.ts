import { describe, expect, it } from 'vitest'
import { MessageTooLargeError, QueueFullError } from '../../src/core'
import { createOutbox, type Outbox, type OutboxItem, type ResolvedOutboxOptions } from '../../src/core/outbox'
import { lifelineError } from '../../src/core'

const defaults: ResolvedOutboxOptions = {
  maxMessages: 1000,
  maxBytes: 1 << 20,
  overflow: 'reject',
  ttlMs: null,
  maxSendAttempts: 5,
}

function outboxWith(options: Partial<ResolvedOutboxOptions> = {}): Outbox {
  let count = 0
  return createOutbox({ ...defaults, ...options }, () => `m${++count}`)
}

/** Adds one message per entry: [data, bytes]. */
function fill(outbox: Outbox, ...entries: [string, number][]): OutboxItem[] {
  return entries.map(([data, bytes]) => outbox.add(data, bytes, 0))
}

const dataOf = (outbox: Outbox) => outbox.items().map((item) => item.data)
const stateOf = (outbox: Outbox) => outbox.items().map((item) => `${String(item.data)}:${item.state}`)

describe('outbox: bounds and overflow', () => {
  it('adds items in order with an id, size, state and timestamps', () => {
    const outbox = outboxWith({ ttlMs: 500 })
    const item = outbox.add('hello', 5, 1000)
    expect(item).toEqual({
      id: 'm1',
      data: 'hello',
      bytes: 5,
      state: 'queued',
      attempts: 0,
      createdAt: 1000,
      expiresAt: 1500,
      error: null,
    })
    outbox.add('world', 5, 1001)
    expect(dataOf(outbox)).toEqual(['hello', 'world'])
    expect(outbox.queued().map((queued) => queued.data)).toEqual(['hello', 'world'])
  })

  it('rejects by count with QueueFullError and loses nothing', () => {
    const outbox = outboxWith({ maxMessages: 3 })
    fill(outbox, ['a', 1], ['b', 1], ['c', 1])
    const before = outbox.items()
    expect(() => outbox.add('d', 1, 0)).toThrow(QueueFullError)
    expect(() => outbox.add('d', 1, 0)).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }))
    expect(outbox.items()).toEqual(before)
    expect(outbox.stats()).toEqual({ queued: 3, inFlight: 0, failed: 0, bytes: 3 })
  })

  it('rejects by bytes with QueueFullError and loses nothing', () => {
    const outbox = outboxWith({ maxBytes: 100 })
    fill(outbox, ['a', 60], ['b', 40])
    expect(() => outbox.add('c', 1, 0)).toThrow(QueueFullError)
    expect(dataOf(outbox)).toEqual(['a', 'b'])
    expect(outbox.stats().bytes).toBe(100)
  })

  it('accepts a message that exactly fills the byte budget', () => {
    const outbox = outboxWith({ maxBytes: 100 })
    fill(outbox, ['a', 60])
    expect(() => outbox.add('b', 40, 0)).not.toThrow()
  })

  it('drops the oldest to make room by count under drop-oldest', () => {
    const outbox = outboxWith({ maxMessages: 3, overflow: 'drop-oldest' })
    fill(outbox, ['a', 1], ['b', 1], ['c', 1], ['d', 1], ['e', 1])
    expect(dataOf(outbox)).toEqual(['c', 'd', 'e'])
    expect(outbox.stats()).toEqual({ queued: 3, inFlight: 0, failed: 0, bytes: 3 })
  })

  it('drops as many of the oldest as the bytes need under drop-oldest', () => {
    const outbox = outboxWith({ maxBytes: 100, overflow: 'drop-oldest' })
    fill(outbox, ['a', 30], ['b', 30], ['c', 30], ['d', 50])
    expect(dataOf(outbox)).toEqual(['c', 'd'])
    expect(outbox.stats().bytes).toBe(80)
  })

  it('never drops an in-flight item under drop-oldest: it skips to the oldest not sending', () => {
    const outbox = outboxWith({ maxMessages: 2, overflow: 'drop-oldest' })
    const [a] = fill(outbox, ['a', 1], ['b', 1])
    outbox.markSending(a!.id)
    outbox.add('c', 1, 0)
    expect(stateOf(outbox)).toEqual(['a:sending', 'c:queued'])
  })

  it('throws QueueFullError under drop-oldest when only in-flight items are left, losing nothing and keeping order', () => {
    const outbox = outboxWith({ maxBytes: 100, overflow: 'drop-oldest' })
    const [x, a] = fill(outbox, ['x', 10], ['a', 60])
    outbox.markSending(a!.id)
    const before = outbox.items()
    expect(() => outbox.add('c', 50, 0)).toThrow(QueueFullError)
    expect(outbox.items()).toEqual(before)
    expect(outbox.stats()).toEqual({ queued: 1, inFlight: 1, failed: 0, bytes: 70 })
    outbox.add('d', 5, 0)
    expect(outbox.items().map((item) => item.id)).toEqual([x!.id, a!.id, 'm3'])
  })

  it('throws QueueFullError for one message larger than the whole budget, even under drop-oldest', () => {
    const outbox = outboxWith({ maxBytes: 100, overflow: 'drop-oldest' })
    fill(outbox, ['a', 10], ['b', 10])
    expect(() => outbox.add('huge', 101, 0)).toThrow(QueueFullError)
    expect(dataOf(outbox)).toEqual(['a', 'b'])
    expect(outbox.stats().bytes).toBe(20)
  })

  it('counts failed items against the limits until they are discarded', () => {
    const outbox = outboxWith({ maxMessages: 1 })
    const [a] = fill(outbox, ['a', 1])
    outbox.fail(a!.id, lifelineError('INVALID_MESSAGE', 'bad'))
    expect(() => outbox.add('b', 1, 0)).toThrow(QueueFullError)
    outbox.discard(a!.id)
    expect(() => outbox.add('b', 1, 0)).not.toThrow()
  })
})

describe('outbox: TTL', () => {
  it('expires an item at createdAt + ttlMs, not before', () => {
    const outbox = outboxWith({ ttlMs: 1000 })
    const item = outbox.add('a', 1, 5000)
    expect(outbox.expire(5999)).toEqual([])
    expect(outbox.expire(6000)).toEqual([item])
    expect(outbox.items()).toEqual([])
    expect(outbox.stats()).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
  })

  it('expires queued and failed items but never one in flight', () => {
    const outbox = outboxWith({ ttlMs: 10 })
    const [a, b] = fill(outbox, ['a', 1], ['b', 1], ['c', 1])
    outbox.markSending(a!.id)
    outbox.fail(b!.id, lifelineError('INVALID_MESSAGE', 'bad'))
    expect(outbox.expire(10).map((item) => item.data)).toEqual(['b', 'c'])
    expect(stateOf(outbox)).toEqual(['a:sending'])
  })

  it('never expires without a TTL', () => {
    const outbox = outboxWith({ ttlMs: null })
    fill(outbox, ['a', 1])
    expect(outbox.expire(Number.MAX_SAFE_INTEGER)).toEqual([])
    expect(outbox.items()[0]!.expiresAt).toBeNull()
  })
})

describe('outbox: sending, confirmation and loss', () => {
  it('counts a write in attempts and moves the item in flight', () => {
    const outbox = outboxWith()
    const [a] = fill(outbox, ['a', 3])
    outbox.markSending(a!.id)
    expect(outbox.items()[0]).toMatchObject({ state: 'sending', attempts: 1 })
    expect(outbox.queued()).toEqual([])
    expect(outbox.stats()).toEqual({ queued: 0, inFlight: 1, failed: 0, bytes: 3 })
  })

  it('confirms one in-flight item by id, or every in-flight item without one, and never a queued one', () => {
    const outbox = outboxWith()
    const [a, b, c] = fill(outbox, ['a', 1], ['b', 1], ['c', 1])
    outbox.markSending(a!.id)
    outbox.markSending(b!.id)
    outbox.confirm(c!.id)
    expect(dataOf(outbox)).toEqual(['a', 'b', 'c'])
    outbox.confirm(b!.id)
    expect(dataOf(outbox)).toEqual(['a', 'c'])
    outbox.confirm()
    expect(stateOf(outbox)).toEqual(['c:queued'])
  })

  it('requeues in-flight items after a lost transport, in their original order (at-least-once)', () => {
    const outbox = outboxWith()
    const [a, b] = fill(outbox, ['a', 1], ['b', 1], ['c', 1])
    outbox.markSending(a!.id)
    outbox.markSending(b!.id)
    expect(outbox.requeue()).toEqual([])
    expect(stateOf(outbox)).toEqual(['a:queued', 'b:queued', 'c:queued'])
    expect(outbox.queued().map((item) => item.data)).toEqual(['a', 'b', 'c'])
    expect(outbox.items()[0]!.attempts).toBe(1)
  })

  it('fails an item written maxSendAttempts times without confirmation (poison guard)', () => {
    const outbox = outboxWith({ maxSendAttempts: 3 })
    const [a] = fill(outbox, ['a', 1], ['b', 1])
    for (let send = 1; send < 3; send++) {
      outbox.markSending(a!.id)
      expect(outbox.requeue()).toEqual([])
    }
    outbox.markSending(a!.id)
    const failed = outbox.requeue()
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ id: a!.id, state: 'failed', attempts: 3, error: { code: 'MESSAGE_DISCARDED' } })
    expect(stateOf(outbox)).toEqual(['a:failed', 'b:queued'])
    expect(outbox.queued().map((item) => item.data)).toEqual(['b'])
  })

  it('fails the largest in-flight item for 1009 with MessageTooLargeError, the oldest on a tie', () => {
    const outbox = outboxWith()
    const [small, big, alsoBig, queued] = fill(outbox, ['small', 10], ['big', 500], ['also-big', 500], ['queued', 9000])
    for (const item of [small, big, alsoBig]) outbox.markSending(item!.id)
    const failed = outbox.failSuspect(1009)
    expect(failed).toMatchObject({ id: big!.id, state: 'failed' })
    expect(failed!.error).toBeInstanceOf(MessageTooLargeError)
    expect(failed!.error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', bytes: 500, limit: 499 })
    expect(outbox.items().find((item) => item.id === queued!.id)!.state).toBe('queued')
    expect(stateOf(outbox)).toEqual(['small:sending', 'big:failed', 'also-big:sending', 'queued:queued'])
  })

  it.each([1007, 1003])('fails the oldest in-flight item for %i with INVALID_MESSAGE', (code) => {
    const outbox = outboxWith()
    const [small, big] = fill(outbox, ['small', 10], ['big', 500])
    outbox.markSending(small!.id)
    outbox.markSending(big!.id)
    const failed = outbox.failSuspect(code)
    expect(failed).toMatchObject({ id: small!.id, state: 'failed', error: { code: 'INVALID_MESSAGE' } })
    expect(stateOf(outbox)).toEqual(['small:failed', 'big:sending'])
  })

  it('fails nothing when nothing is in flight', () => {
    const outbox = outboxWith()
    fill(outbox, ['a', 10])
    expect(outbox.failSuspect(1009)).toBeNull()
    expect(outbox.failSuspect(1007)).toBeNull()
    expect(stateOf(outbox)).toEqual(['a:queued'])
  })
})

describe('outbox: retry and discard', () => {
  function withTwoFailed() {
    const outbox = outboxWith()
    const items = fill(outbox, ['a', 1], ['b', 1], ['c', 1])
    for (const item of items.slice(0, 2)) {
      outbox.markSending(item.id)
      outbox.fail(item.id, lifelineError('INVALID_MESSAGE', 'bad'))
    }
    return { outbox, items }
  }

  it('puts one failed item back in the queue with its attempts and error cleared', () => {
    const { outbox, items } = withTwoFailed()
    outbox.retry(items[0]!.id)
    expect(outbox.items()[0]).toMatchObject({ state: 'queued', attempts: 0, error: null })
    expect(stateOf(outbox)).toEqual(['a:queued', 'b:failed', 'c:queued'])
  })

  it('puts every failed item back in the queue, in order', () => {
    const { outbox } = withTwoFailed()
    outbox.retry()
    expect(outbox.queued().map((item) => item.data)).toEqual(['a', 'b', 'c'])
  })

  it('retries only failed items: an in-flight one stays in flight', () => {
    const outbox = outboxWith()
    const [a] = fill(outbox, ['a', 1])
    outbox.markSending(a!.id)
    outbox.retry(a!.id)
    expect(stateOf(outbox)).toEqual(['a:sending'])
  })

  it('discards one item by id and returns it', () => {
    const { outbox, items } = withTwoFailed()
    expect(outbox.discard(items[1]!.id).map((item) => item.data)).toEqual(['b'])
    expect(dataOf(outbox)).toEqual(['a', 'c'])
    expect(outbox.stats()).toEqual({ queued: 1, inFlight: 0, failed: 1, bytes: 2 })
  })

  it('discards every item and returns them', () => {
    const { outbox } = withTwoFailed()
    expect(outbox.discard().map((item) => item.data)).toEqual(['a', 'b', 'c'])
    expect(outbox.items()).toEqual([])
    expect(outbox.stats()).toEqual({ queued: 0, inFlight: 0, failed: 0, bytes: 0 })
  })

  it('discards nothing for an unknown id', () => {
    const { outbox } = withTwoFailed()
    expect(outbox.discard('nope')).toEqual([])
    expect(dataOf(outbox)).toEqual(['a', 'b', 'c'])
  })
})

describe('outbox: items() and stats() identity', () => {
  it('returns the same frozen array until something changes', () => {
    const outbox = outboxWith()
    fill(outbox, ['a', 1])
    const first = outbox.items()
    expect(outbox.items()).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    outbox.add('b', 1, 0)
    const second = outbox.items()
    expect(second).not.toBe(first)
    expect(first).toHaveLength(1)
    expect(outbox.items()).toBe(second)
  })

  it.each<[string, (outbox: Outbox, item: OutboxItem) => void]>([
    ['add', (outbox) => outbox.add('b', 1, 0)],
    ['markSending', (outbox, item) => outbox.markSending(item.id)],
    ['fail', (outbox, item) => outbox.fail(item.id, lifelineError('INVALID_MESSAGE', 'bad'))],
    ['discard', (outbox, item) => outbox.discard(item.id)],
    ['expire', (outbox) => outbox.expire(Number.MAX_SAFE_INTEGER)],
  ])('gives a new array and new stats after %s', (_, change) => {
    const outbox = outboxWith({ ttlMs: 1 })
    const [item] = fill(outbox, ['a', 1])
    const items = outbox.items()
    const stats = outbox.stats()
    change(outbox, item!)
    expect(outbox.items()).not.toBe(items)
    expect(outbox.stats()).not.toBe(stats)
  })

  it.each<[string, (outbox: Outbox) => void]>([
    ['retry() with nothing failed', (outbox) => outbox.retry()],
    ['confirm() with nothing in flight', (outbox) => outbox.confirm()],
    ['requeue() with nothing in flight', (outbox) => outbox.requeue()],
    ['expire() with nothing expired', (outbox) => outbox.expire(0)],
    ['discard() of an unknown id', (outbox) => outbox.discard('nope')],
    ['markSending() of an unknown id', (outbox) => outbox.markSending('nope')],
    ['failSuspect() with nothing in flight', (outbox) => outbox.failSuspect(1009)],
  ])('keeps items() and stats() identical after a no-op: %s', (_, noop) => {
    const outbox = outboxWith({ ttlMs: 1000 })
    fill(outbox, ['a', 1], ['b', 2])
    const items = outbox.items()
    const stats = outbox.stats()
    noop(outbox)
    expect(outbox.items()).toBe(items)
    expect(outbox.stats()).toBe(stats)
  })

  it('counts queued, in-flight and failed items and their bytes', () => {
    const outbox = outboxWith()
    const [a, b] = fill(outbox, ['a', 1], ['bb', 2], ['ccc', 3], ['dddd', 4])
    outbox.markSending(a!.id)
    outbox.markSending(b!.id)
    outbox.fail(b!.id, lifelineError('INVALID_MESSAGE', 'bad'))
    expect(outbox.stats()).toEqual({ queued: 2, inFlight: 1, failed: 1, bytes: 10 })
  })
})
