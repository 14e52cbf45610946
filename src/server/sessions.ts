import { randomBytes } from 'node:crypto'
import { DedupeSet } from './limits'

/** Disconnected sessions kept at most, over all principals (the anonymous principal has no per-principal cap). */
const MAX_DETACHED_SESSIONS = 100_000

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
}

/** Options of {@link SessionRegistry}. Internal. */
export interface SessionRegistryOptions {
  /** How long a session outlives its connection. */
  readonly windowMs: number
  /** Sessions per principal; the oldest disconnected one goes first. */
  readonly maxPerPrincipal: number
  /** Ids remembered per session. */
  readonly maxDedupeIds: number
  /** Principals exempt from `maxPerPrincipal` (the shared anonymous one). */
  readonly uncapped: (principalId: string) => boolean
}

/** Sessions of one server process. Internal. */
export class SessionRegistry<Owner extends SessionOwner> {
  private readonly byId = new Map<string, Session<Owner>>()
  private readonly byPrincipal = new Map<string, Set<Session<Owner>>>()
  /** Disconnected sessions, oldest first. */
  private readonly detached = new Set<Session<Owner>>()

  constructor(private readonly options: SessionRegistryOptions) {}

  get size(): number {
    return this.byId.size
  }

  /** A fresh session for `principalId`, making room under the caps. */
  create(principalId: string): Session<Owner> {
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
      id: randomBytes(16).toString('base64url'),
      principalId,
      dedupe: new DedupeSet(this.options.maxDedupeIds),
      owner: null,
      expiry: null,
    }
    this.byId.set(session.id, session)
    owned.add(session)
    return session
  }

  /** The session `id` if it exists and belongs to `principalId`; another principal's session is never found. */
  find(id: string, principalId: string): Session<Owner> | undefined {
    const session = this.byId.get(id)
    return session?.principalId === principalId ? session : undefined
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
    session.expiry = setTimeout(() => this.drop(session), this.options.windowMs)
    session.expiry.unref()
    if (this.detached.size > MAX_DETACHED_SESSIONS) {
      const oldest = this.detached.values().next()
      if (!oldest.done) this.drop(oldest.value)
    }
  }

  /** Forgets `session` at once. */
  drop(session: Session<Owner>): void {
    this.stopExpiry(session)
    this.detached.delete(session)
    this.byId.delete(session.id)
    const owned = this.byPrincipal.get(session.principalId)
    owned?.delete(session)
    if (owned?.size === 0) this.byPrincipal.delete(session.principalId)
  }

  /** Forgets every session and stops every timer. */
  clear(): void {
    for (const session of this.byId.values()) this.stopExpiry(session)
    this.byId.clear()
    this.byPrincipal.clear()
    this.detached.clear()
  }

  private stopExpiry(session: Session<Owner>): void {
    if (session.expiry !== null) clearTimeout(session.expiry)
    session.expiry = null
  }
}
