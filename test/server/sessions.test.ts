import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PublishedEvent } from '../../src/server'
import { DedupeSet } from '../../src/server/limits'
import { SessionRegistry } from '../../src/server/sessions'
import type { Session, SessionOwner, SessionRegistryOptions } from '../../src/server/sessions'
import { cleanup, connectReady, startServer, waitFor } from './helpers'

class Owner implements SessionOwner {
  superseded = 0
  supersede(): void {
    this.superseded += 1
  }
}

const registries: Array<SessionRegistry<Owner>> = []

function registry(options: Partial<SessionRegistryOptions> = {}): SessionRegistry<Owner> {
  const created = new SessionRegistry<Owner>({
    windowMs: 60_000,
    maxPerPrincipal: 100,
    maxDedupeIds: 5,
    maxDedupeIdsTotal: 8,
    maxDetachedSessions: 100,
    uncapped: () => false,
    ...options,
  })
  registries.push(created)
  return created
}

afterEach(async () => {
  for (const created of registries.splice(0)) created.clear()
  vi.useRealTimers()
  await cleanup()
})

/** A session attached to an owner, holding `ids`. */
function live(sessions: SessionRegistry<Owner>, ids: readonly string[]): Session<Owner> & { holder: Owner } {
  const session = sessions.create('alice')
  const holder = new Owner()
  sessions.attach(session, holder)
  for (const id of ids) session.dedupe.set(id, 'acked')
  return Object.assign(session, { holder })
}

const idsOf = (session: Session): string[] =>
  ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].filter((id) => session.dedupe.get(id) !== undefined)

describe('DedupeSet', () => {
  it('keeps the most recent `limit` ids, a looked-up id counting as recent, and reports every change', () => {
    const changes: number[] = []
    const set = new DedupeSet(3, (delta) => changes.push(delta))
    for (const id of ['a', 'b', 'c']) set.set(id, 'acked')
    set.get('a')
    set.set('d', 'acked')
    expect(['a', 'b', 'c', 'd'].filter((id) => set.get(id) !== undefined)).toEqual(['a', 'c', 'd'])
    set.set('d', 'acked')
    set.delete('c')
    set.delete('missing')
    expect(set.evictOldest()).toBe(true)
    expect(set.size).toBe(1)
    set.clear()
    expect(set.evictOldest()).toBe(false)
    // +1 per new id, 0 for an id written in place of another (d pushed b out) or again, −1 per id forgotten.
    expect(changes).toEqual([1, 1, 1, 0, 0, -1, -1, -1])
    expect(changes.reduce((total, delta) => total + delta, 0)).toBe(set.size)
  })
})

describe('SessionRegistry: the global bound on dedupe ids', () => {
  it('counts the ids of every session, and releases them when a session is dropped or cleared', () => {
    const sessions = registry({ maxDedupeIdsTotal: 100 })
    const first = live(sessions, ['a', 'b', 'c'])
    live(sessions, ['a', 'b'])
    expect(sessions.dedupeIds).toBe(5)
    first.dedupe.delete('a')
    expect(sessions.dedupeIds).toBe(4)
    // Its own cap (maxDedupeIds 5) holds: the oldest id goes.
    for (const id of ['d', 'e', 'f', 'g']) first.dedupe.set(id, 'acked')
    expect(first.dedupe.size).toBe(5)
    expect(sessions.dedupeIds).toBe(7)
    sessions.drop(first)
    expect(sessions.dedupeIds).toBe(2)
    sessions.clear()
    expect(sessions.dedupeIds).toBe(0)
  })

  it('drops the oldest detached session holding ids first when over maxDedupeIdsTotal', () => {
    const sessions = registry({ maxDedupeIdsTotal: 8 })
    const empty = live(sessions, [])
    const older = live(sessions, ['a', 'b', 'c'])
    const newer = live(sessions, ['a', 'b', 'c'])
    sessions.detach(empty, empty.holder)
    sessions.detach(older, older.holder)
    sessions.detach(newer, newer.holder)
    const writer = live(sessions, ['a', 'b'])
    expect(sessions.dedupeIds).toBe(8)
    writer.dedupe.set('c', 'acked')
    // The oldest detached session frees nothing; the oldest one holding ids is dropped whole (a fresh session if it
    // comes back), the newer one and the live writer keep every id.
    expect(sessions.get(older.id)).toBeUndefined()
    expect(sessions.get(empty.id)).toBe(empty)
    expect(sessions.get(newer.id)).toBe(newer)
    expect(idsOf(writer)).toEqual(['a', 'b', 'c'])
    expect(sessions.dedupeIds).toBe(6)
    expect(sessions.size).toBe(3)
  })

  it('evicts the oldest ids of the session that wrote least recently when no session is detached', () => {
    const sessions = registry({ maxDedupeIdsTotal: 8 })
    const quiet = live(sessions, ['a', 'b', 'c', 'd'])
    const busy = live(sessions, ['e', 'f', 'g', 'h'])
    busy.dedupe.set('i', 'acked')
    expect(idsOf(quiet)).toEqual(['b', 'c', 'd'])
    expect(idsOf(busy)).toEqual(['e', 'f', 'g', 'h', 'i'])
    expect(sessions.dedupeIds).toBe(8)
    expect(sessions.size).toBe(2)
    expect(quiet.holder.superseded + busy.holder.superseded).toBe(0)
  })

  it('never holds more than maxDedupeIdsTotal ids, whatever the sessions do (bounded run)', () => {
    const sessions = registry({ maxDedupeIds: 50, maxDedupeIdsTotal: 120 })
    const all = Array.from({ length: 6 }, () => live(sessions, []))
    for (let step = 0; step < 3000; step++) {
      const session = all[(step * 7) % all.length]!
      if (step % 97 === 0 && session.owner) sessions.detach(session, session.holder)
      else if (step % 89 === 0 && !session.owner && sessions.get(session.id)) sessions.attach(session, session.holder)
      else if (sessions.get(session.id)) session.dedupe.set(`id-${String(step)}`, 'acked')
      const held = all.reduce((total, each) => total + (sessions.get(each.id) ? each.dedupe.size : 0), 0)
      expect(sessions.dedupeIds).toBe(held)
      expect(held).toBeLessThanOrEqual(120)
    }
  })

  it('releases the ids of a session that expires after windowMs', () => {
    vi.useFakeTimers()
    const sessions = registry({ windowMs: 1000 })
    const session = live(sessions, ['a', 'b'])
    sessions.detach(session, session.holder)
    expect(sessions.dedupeIds).toBe(2)
    vi.advanceTimersByTime(1001)
    expect(sessions.size).toBe(0)
    expect(sessions.dedupeIds).toBe(0)
  })
})

describe('SessionRegistry: maxDetachedSessions', () => {
  it('drops the oldest detached session past maxDetachedSessions, never an attached one', () => {
    const sessions = registry({ maxDetachedSessions: 2 })
    const attached = live(sessions, [])
    const detached = [live(sessions, ['a']), live(sessions, []), live(sessions, [])]
    for (const session of detached) sessions.detach(session, session.holder)
    expect(sessions.size).toBe(3)
    expect(sessions.get(detached[0]!.id)).toBeUndefined()
    expect(sessions.get(attached.id)).toBe(attached)
    expect(sessions.dedupeIds).toBe(0)
  })
})

describe('lifeline server: maxDedupeIdsTotal', () => {
  it('drops a detached session to stay within the budget: its client gets a fresh session, live dedupe still works', async () => {
    const published: PublishedEvent[] = []
    const server = await startServer({ maxDedupeIdsTotal: 3, onPublished: (event) => published.push(event) })
    const away = await connectReady(server.url)
    for (const id of ['a1', 'a2', 'a3']) {
      away.client.send({ type: 'pub', ch: 'c', id, data: 1 })
      await away.client.next('ack', (frame) => frame.id === id)
    }
    expect(server.stats()).toMatchObject({ dedupeIds: 3 })
    away.client.socket.close()
    await waitFor('the session to be detached', () => server.stats().connections === 0)
    const here = await connectReady(server.url)
    here.client.send({ type: 'pub', ch: 'c', id: 'b1', data: 1 })
    await here.client.next('ack', (frame) => frame.id === 'b1')
    expect(server.stats()).toMatchObject({ sessions: 1, dedupeIds: 1 })
    // A resend of b1 is acknowledged and not applied again.
    here.client.send({ type: 'pub', ch: 'c', id: 'b1', data: 1 })
    await here.client.next('ack', (frame) => frame.id === 'b1')
    expect(published.map((event) => event.id)).toEqual(['a1', 'a2', 'a3', 'b1'])
    const back = await connectReady(server.url, { session: away.welcome.session })
    expect(back.welcome.resumed).toBe(false)
  })
})
