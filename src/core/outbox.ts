import { lifelineError, MessageTooLargeError, QueueFullError, type LifelineError } from './errors'
import type { OutboxStorage } from './persistence'
import type { OutboundData, OutboxStats } from './types'

/** Where an outbox item is. */
export type OutboxItemState = 'queued' | 'sending' | 'failed'

/** One message waiting in (or failed out of) the outbox. Immutable; replaced on every change. */
export interface OutboxItem {
  /** Client message id. */
  readonly id: string
  readonly data: OutboundData
  /** The channel it is published to (lifeline protocol), else absent. */
  readonly channel?: string
  /** Size on the wire in bytes. */
  readonly bytes: number
  readonly state: OutboxItemState
  /** How many times it was written to a transport. */
  readonly attempts: number
  /** Epoch ms. */
  readonly createdAt: number
  /** Epoch ms after which it is dropped with `MESSAGE_EXPIRED`, or `null`. */
  readonly expiresAt: number | null
  /** Why it failed, when `state` is `failed`. */
  readonly error: LifelineError | null
}

/** Outbox limits and policies. */
export interface OutboxOptions {
  /** Most messages held (queued, sending and failed). @default 1000 */
  maxMessages?: number
  /** Most bytes held. @default 1048576 (1 MiB) */
  maxBytes?: number
  /** What a full outbox does with a new message: throw `QueueFullError`, or drop the oldest. @default 'reject' */
  overflow?: 'reject' | 'drop-oldest'
  /** Drop a message not sent within this many ms (`null`: never). @default null */
  ttlMs?: number | null
  /** Fail a message written this many times without being confirmed, so one message cannot loop forever. @default 5 */
  maxSendAttempts?: number
  /**
   * Keeps the outbox across page reloads: `localStorageOutbox(key)`, `indexedDbOutbox(key)` or your own adapter.
   * Stores items and the session id, never the token. @default undefined (memory only)
   */
  storage?: OutboxStorage
}

/** The outbox as the client uses it. Items leave it only when confirmed, discarded or expired. */
export interface Outbox {
  add(data: OutboundData, bytes: number, now: number, channel?: string): OutboxItem
  /** Items to write now, in order. */
  queued(): OutboxItem[]
  /** Items written and not yet confirmed, in order. */
  sending(): OutboxItem[]
  markSending(id: string): void
  /** Removes a confirmed item (or every `sending` item when no id is given). */
  confirm(id?: string): void
  /** After a transport is lost: `sending` items go back to `queued` (at-least-once), or fail past their attempts. */
  requeue(): OutboxItem[]
  /** Fails the item the server most likely closed for (1009: the largest in flight; else the oldest in flight). */
  failSuspect(code: number): OutboxItem | null
  fail(id: string, error: LifelineError): void
  /** Failed items back to `queued` (one, or all). */
  retry(id?: string): void
  /** A `sending` item the server did not apply back to `queued`, its attempts counted from 0 again. */
  defer(id: string): void
  /** Removes items (one, or all). */
  discard(id?: string): OutboxItem[]
  /** Puts items loaded from storage ahead of the rest (they are older); those beyond the limits are returned. */
  restore(items: OutboxItem[]): OutboxItem[]
  /** Removes and returns expired items. */
  expire(now: number): OutboxItem[]
  items(): readonly OutboxItem[]
  stats(): OutboxStats
}

/** The resolved limits. */
export type ResolvedOutboxOptions = Required<Omit<OutboxOptions, 'storage'>>

/** Creates the in-memory outbox. */
export function createOutbox(
  options: ResolvedOutboxOptions,
  newId: () => string,
  /** Told about items evicted by `drop-oldest`. */
  onDrop: (item: OutboxItem) => void = () => undefined,
): Outbox {
  let list: OutboxItem[] = []
  let bytes = 0
  let view: readonly OutboxItem[] | null = null
  let stats: OutboxStats | null = null

  const changed = () => {
    view = null
    stats = null
  }
  /** Applies `change` to one item (or all); a change that returns every item as it was keeps `items()` identical. */
  const update = (id: string | undefined, change: (item: OutboxItem) => OutboxItem | null) => {
    let dirty = false
    const next = list.flatMap((item) => {
      if (id !== undefined && item.id !== id) return [item]
      const result = change(item)
      if (result !== item) dirty = true
      return result ? [result] : []
    })
    if (!dirty) return
    list = next
    bytes = list.reduce((sum, item) => sum + item.bytes, 0)
    changed()
  }
  const failWith = (item: OutboxItem, error: LifelineError): OutboxItem => ({ ...item, state: 'failed', error })

  const outbox: Outbox = {
    add(data, size, now, channel) {
      // Work on a copy: if making room fails, the outbox is left exactly as it was (nothing lost, order kept).
      let kept = list
      let keptBytes = bytes
      const dropped: OutboxItem[] = []
      while (kept.length + 1 > options.maxMessages || keptBytes + size > options.maxBytes) {
        const oldest = options.overflow === 'drop-oldest' ? kept.find((item) => item.state !== 'sending') : undefined
        if (!oldest) throw new QueueFullError()
        kept = kept.filter((item) => item !== oldest)
        keptBytes -= oldest.bytes
        dropped.push(oldest)
      }
      list = kept
      bytes = keptBytes
      dropped.forEach(onDrop)
      const item: OutboxItem = {
        id: newId(),
        data,
        bytes: size,
        state: 'queued',
        attempts: 0,
        createdAt: now,
        expiresAt: options.ttlMs === null ? null : now + options.ttlMs,
        error: null,
      }
      if (channel !== undefined) (item as { channel?: string }).channel = channel
      list.push(item)
      bytes += size
      changed()
      return item
    },
    queued: () => list.filter((item) => item.state === 'queued'),
    sending: () => list.filter((item) => item.state === 'sending'),
    markSending: (id) => update(id, (item) => ({ ...item, state: 'sending', attempts: item.attempts + 1 })),
    confirm: (id) => update(id, (item) => (item.state === 'sending' ? null : item)),
    requeue() {
      const failed: OutboxItem[] = []
      update(undefined, (item) => {
        if (item.state !== 'sending') return item
        if (item.attempts < options.maxSendAttempts) return { ...item, state: 'queued' }
        const error = lifelineError('MESSAGE_DISCARDED', 'unconfirmed')
        const next = failWith(item, error)
        failed.push(next)
        return next
      })
      return failed
    },
    failSuspect(code) {
      const inFlight = outbox.sending()
      const suspect =
        code === 1009
          ? inFlight.reduce<OutboxItem | undefined>((a, b) => (a && a.bytes >= b.bytes ? a : b), undefined)
          : inFlight[0]
      if (!suspect) return null
      const error =
        code === 1009
          ? new MessageTooLargeError(suspect.bytes, suspect.bytes - 1)
          : lifelineError('INVALID_MESSAGE', 'closed ' + code)
      outbox.fail(suspect.id, error)
      return failWith(suspect, error)
    },
    fail: (id, error) => update(id, (item) => failWith(item, error)),
    retry: (id) =>
      update(id, (item) => (item.state === 'failed' ? { ...item, state: 'queued', attempts: 0, error: null } : item)),
    defer: (id) => update(id, (item) => (item.state === 'sending' ? { ...item, state: 'queued', attempts: 0 } : item)),
    discard(id) {
      const removed: OutboxItem[] = []
      update(id, (item) => {
        removed.push(item)
        return null
      })
      return removed
    },
    restore(items) {
      const overflow: OutboxItem[] = []
      const kept: OutboxItem[] = []
      const taken = new Set(list.map((item) => item.id))
      for (const item of items) {
        if (taken.has(item.id)) continue
        if (list.length + kept.length + 1 > options.maxMessages || bytes + item.bytes > options.maxBytes) {
          overflow.push(item)
          continue
        }
        taken.add(item.id)
        bytes += item.bytes
        kept.push(item)
      }
      list = kept.concat(list)
      changed()
      return overflow
    },
    expire(now) {
      const expired: OutboxItem[] = []
      update(undefined, (item) => {
        if (item.expiresAt === null || item.expiresAt > now || item.state === 'sending') return item
        expired.push(item)
        return null
      })
      return expired
    },
    items: () => (view ??= Object.freeze(list.slice())),
    stats: () =>
      (stats ??= {
        queued: outbox.queued().length,
        inFlight: outbox.sending().length,
        failed: list.filter((item) => item.state === 'failed').length,
        bytes,
      }),
  }
  return outbox
}
