import { createHash, randomBytes } from 'node:crypto'
import { DedupeSet } from './limits'

/**
 * A hash of a secret (a session or long-poll connection id), safe for Redis key names and node-to-node messages: the
 * id itself never leaves its process in clear. Internal.
 */
export function secretKey(id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}

/** 128 random bits, base64url: an unguessable session id. Internal. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url')
}

/** What a session is attached to. Internal. */
export interface SessionOwner {
  /** Ends the owner because another connection resumed its session. */
  supersede(): void
}

/** A resumable session: an unguessable id bound to one principal, and the ids it already published. Internal. */
export interface Session<Owner extends SessionOwner = SessionOwner> {
  /** 128 random bits, base64url. A secret of the client: never logged. */
  readonly id: string
  readonly principalId: string
  readonly dedupe: DedupeSet
  owner: Owner | null
  expiry: NodeJS.Timeout | null
  /** Cross-node: the attachment generation this node holds it at (see `SessionStore.attach`); 0 otherwise. */
  generation: number
}

/** Options of {@link SessionRegistry}. Internal. */
export interface SessionRegistryOptions {
  /** How long a session outlives its connection. */
  readonly windowMs: number
  /** Sessions per principal; the oldest disconnected one goes first. */
  readonly maxPerPrincipal: number
  /** Ids remembered per session. */
  readonly maxDedupeIds: number
  /** Ids remembered over all sessions: past it, detached sessions are dropped, oldest first, then old ids evicted. */
  readonly maxDedupeIdsTotal: number
  /** Disconnected sessions kept over all principals; past it the oldest one is dropped. */
  readonly maxDetachedSessions: number
  /** Principals exempt from `maxPerPrincipal` (the shared anonymous one). */
  readonly uncapped: (principalId: string) => boolean
  /** Index sessions by {@link secretKey} too (cross-node: other nodes name a session by its key). @default false */
  readonly keyed?: boolean
}

/** Sessions of one server process. Internal. */
export class SessionRegistry<Owner extends SessionOwner> {
  private readonly byId = new Map<string, Session<Owner>>()
  private readonly byKey = new Map<string, Session<Owner>>()
  private readonly byPrincipal = new Map<string, Set<Session<Owner>>>()
  /** Disconnected sessions, oldest first. */
  private readonly detached = new Set<Session<Owner>>()
  /** Disconnected sessions holding dedupe ids, oldest first: the first dropped when over `maxDedupeIdsTotal`. */
  private readonly detachedHolding = new Set<Session<Owner>>()
  /** Sessions holding dedupe ids, the one that remembered an id least recently first. */
  private readonly holders = new Set<Session<Owner>>()
  private remembered = 0

  constructor(private readonly options: SessionRegistryOptions) {}

  get size(): number {
    return this.byId.size
  }

  /** Dedupe ids remembered over all sessions (at most `maxDedupeIdsTotal`). */
  get dedupeIds(): number {
    return this.remembered
  }

  /**
   * A fresh session for `principalId`, making room under the caps; `id` is given for a session another node created
   * (cross-node sessions: the broker's store holds it).
   */
  create(principalId: string, id: string = newSessionId()): Session<Owner> {
    let owned = this.byPrincipal.get(principalId)
    if (!owned) {
      owned = new Set()
      this.byPrincipal.set(principalId, owned)
    }
    if (!this.options.uncapped(principalId) && owned.size >= this.options.maxPerPrincipal) {
      for (const session of owned) {
        if (session.owner !== null) continue
        this.drop(session)
        break
      }
    }
    const session: Session<Owner> = {
      id,
      principalId,
      dedupe: new DedupeSet(this.options.maxDedupeIds, (delta, remembered) =>
        this.dedupeChanged(session, delta, remembered),
      ),
      owner: null,
      expiry: null,
      generation: 0,
    }
    this.byId.set(session.id, session)
    if (this.options.keyed === true) this.byKey.set(secretKey(id), session)
    owned.add(session)
    return session
  }

  /** The session `id` if it exists and belongs to `principalId`; another principal's session is never found. */
  find(id: string, principalId: string): Session<Owner> | undefined {
    const session = this.byId.get(id)
    return session?.principalId === principalId ? session : undefined
  }

  /** A session by its {@link secretKey} (when `keyed`). */
  byKeyOf(key: string): Session<Owner> | undefined {
    return this.byKey.get(key)
  }

  /** Sessions attached to an owner now. */
  *attached(): IterableIterator<Session<Owner>> {
    for (const session of this.byId.values()) if (session.owner !== null) yield session
  }

  /** Any session by id (test controls). */
  get(id: string): Session<Owner> | undefined {
    return this.byId.get(id)
  }

  /** Gives `session` to `owner`, ending a previous owner (a connection the client has already given up on). */
  attach(session: Session<Owner>, owner: Owner): void {
    const previous = session.owner
    this.stopExpiry(session)
    this.detached.delete(session)
    this.detachedHolding.delete(session)
    session.owner = owner
    if (previous !== null && previous !== owner) previous.supersede()
  }

  /** `owner` is gone: the session waits `windowMs` to be resumed, then is dropped. */
  detach(session: Session<Owner>, owner: Owner): void {
    if (session.owner !== owner || !this.byId.has(session.id)) return
    session.owner = null
    if (this.options.windowMs === 0) {
      this.drop(session)
      return
    }
    this.detached.add(session)
    if (session.dedupe.size > 0) this.detachedHolding.add(session)
    session.expiry = setTimeout(() => this.drop(session), this.options.windowMs)
    session.expiry.unref()
    for (const oldest of this.detached) {
      if (this.detached.size <= this.options.maxDetachedSessions) break
      this.drop(oldest)
    }
  }

  /** Forgets `session` at once. */
  drop(session: Session<Owner>): void {
    this.stopExpiry(session)
    // Its ids leave the global count before it leaves the registry (a dropped session is no longer counted).
    session.dedupe.clear()
    this.detached.delete(session)
    this.detachedHolding.delete(session)
    this.holders.delete(session)
    this.byId.delete(session.id)
    if (this.options.keyed === true) this.byKey.delete(secretKey(session.id))
    const owned = this.byPrincipal.get(session.principalId)
    owned?.delete(session)
    if (owned?.size === 0) this.byPrincipal.delete(session.principalId)
  }

  /** Forgets every session and stops every timer. */
  clear(): void {
    for (const session of this.byId.values()) this.stopExpiry(session)
    this.byId.clear()
    this.byKey.clear()
    this.byPrincipal.clear()
    this.detached.clear()
    this.detachedHolding.clear()
    this.holders.clear()
    this.remembered = 0
  }

  private dedupeChanged(session: Session<Owner>, delta: number, remembered: boolean): void {
    // A publish that was in flight when its session was dropped writes into a set nobody counts any more.
    if (this.byId.get(session.id) !== session) return
    this.remembered += delta
    if (session.dedupe.size === 0) {
      this.holders.delete(session)
      this.detachedHolding.delete(session)
      return
    }
    if (!remembered) return
    this.holders.delete(session)
    this.holders.add(session)
    if (session.owner === null && this.detached.has(session)) this.detachedHolding.add(session)
    if (this.remembered > this.options.maxDedupeIdsTotal) this.trimDedupe()
  }

  /** Back within `maxDedupeIdsTotal`: oldest detached sessions holding ids first, then the oldest ids of the quietest. */
  private trimDedupe(): void {
    while (this.remembered > this.options.maxDedupeIdsTotal) {
      const detached = this.detachedHolding.values().next()
      if (!detached.done) {
        this.drop(detached.value)
        continue
      }
      const quietest = this.holders.values().next()
      if (quietest.done || !quietest.value.dedupe.evictOldest()) return
    }
  }

  private stopExpiry(session: Session<Owner>): void {
    if (session.expiry !== null) clearTimeout(session.expiry)
    session.expiry = null
  }
}
