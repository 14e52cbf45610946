import type { BrokerCluster, NodeRelay } from './broker'
import type { Admission, Connection } from './connection'
import { errorName } from './errors'
import type { LongPollHandler } from './longpoll'
import { createLongPollForwarder, parseRelayMessage } from './longpoll-relay'
import type { LongPollForwarder } from './longpoll-relay'
import type { Principal, ServerLog } from './options'
import { newSessionId, secretKey } from './sessions'
import type { Session, SessionRegistry } from './sessions'

/** What the cross-node part needs from its server. Internal. */
export interface CrossNodeContext {
  readonly cluster: BrokerCluster
  /** The server's local sessions: a cache of the ones its connections hold. */
  readonly sessions: SessionRegistry<Connection>
  readonly windowMs: number
  readonly log: ServerLog
  /** Whether the server is shutting down. */
  readonly closed: () => boolean
  /** The long-poll handler, once made (forwarded requests go to it). */
  readonly longPoll: () => LongPollHandler | null
}

/** Sessions and long-poll shared with the other nodes of a broker's cluster (docs/decisions.md). Internal. */
export interface CrossNode {
  readonly relay: NodeRelay
  readonly forwarder: LongPollForwarder
  /**
   * Binds `connection` to its session as the cluster knows it: resumed from any node (and ended on the node that held
   * it), or created and recorded. `crowded` and `bind` are the server's local checks and bookkeeping.
   */
  admit(request: {
    connection: Connection
    principal: Principal
    sessionId: string | undefined
    crowded: (replaced: Connection | null | undefined) => boolean
    bind: (session: Session<Connection>) => void
  }): Promise<Admission>
  /** The connection holding `session` left: the session waits in the cluster for the resume window. */
  released(session: Session<Connection>, connection: Connection): void
  /** Forgets session `id` in the cluster. */
  expire(id: string): void
  /** Stops listening and renewing. */
  close(): void
}

/** Starts this server's part of the cluster: its relay listens, and it renews the sessions it holds. Internal. */
export function createCrossNode(context: CrossNodeContext): CrossNode {
  const { cluster, sessions, log } = context
  const relay = cluster.relay()
  const forwarder = createLongPollForwarder(relay, log)
  const failed =
    (what: string) =>
    (error: unknown): void =>
      log('warn', what, { error: errorName(error) })
  const detach = (id: string): void => {
    cluster.sessions.detach(id, relay.node, context.windowMs).catch(failed('session detach failed'))
  }

  /**
   * Another node resumed a session this one holds: its connection here is ended, its local copy forgotten; unless this
   * node took it back since (a notice of an older move, arriving late).
   */
  const moved = (key: string, generation: number): void => {
    const session = sessions.byKeyOf(key)
    if (!session || session.generation >= generation) return
    const owner = session.owner
    sessions.drop(session)
    owner?.supersede()
  }
  relay
    .listen((from, text) => {
      const message = parseRelayMessage(text)
      if (message?.t === 'moved') moved(message.k, message.g)
      else if (message) context.longPoll()?.received(from, message)
    })
    .catch(failed('node relay not listening yet'))
  const renewal = setInterval(() => {
    const ids = [...sessions.attached()].map((session) => session.id)
    if (ids.length > 0) cluster.sessions.renew(ids, relay.node).catch(failed('session renewal failed'))
  }, cluster.renewEveryMs)
  renewal.unref()

  return {
    relay,
    forwarder,
    async admit({ connection, principal, sessionId, crowded, bind }) {
      const local = sessionId === undefined ? undefined : sessions.find(sessionId, principal.id)
      if (crowded(local?.owner)) return { code: 1013, reason: 'too many connections' }
      let id: string
      let generation = 1
      let resumed = false
      try {
        const stored = sessionId === undefined ? null : await cluster.sessions.find(sessionId)
        // Expired between `find` and `attach`: a new session, as for an unknown id.
        const attached =
          sessionId !== undefined && stored?.principalId === principal.id
            ? await cluster.sessions.attach(sessionId, relay.node)
            : null
        if (sessionId !== undefined && attached) {
          const { previous } = attached
          if (previous !== null && previous !== relay.node) {
            const notice = JSON.stringify({ t: 'moved', k: secretKey(sessionId), g: attached.generation })
            relay.send(previous, notice).catch(failed('session move notice failed'))
          }
          id = sessionId
          generation = attached.generation
          resumed = true
        } else {
          id = newSessionId()
          await cluster.sessions.create(id, principal.id, relay.node)
        }
      } catch (error) {
        log('warn', 'session store unavailable', { error: errorName(error) })
        return { code: 1013, reason: 'broker unavailable' }
      }
      if (connection.closing || context.closed()) {
        detach(id)
        return { code: 1001, reason: 'connection closed' }
      }
      // The store bound the id to this principal: no other principal's session of that id exists here.
      const session = sessions.get(id) ?? sessions.create(principal.id, id)
      session.generation = generation
      bind(session)
      return { session, resumed }
    },
    released(session, connection) {
      // Forgotten here: whichever node the client comes back to reads it from the cluster.
      if (session.owner === connection) sessions.drop(session)
      detach(session.id)
    },
    expire(id) {
      cluster.sessions.expire(id).catch(failed('session expiry failed'))
    },
    close() {
      clearInterval(renewal)
      forwarder.close()
      relay.close()
    },
  }
}
