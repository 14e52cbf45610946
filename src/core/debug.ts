import type { ClientParts, LifelineClient } from './client-types'

/** The parts behind each client, for the debugging helpers below (and nothing else). */
export const clientParts = new WeakMap<LifelineClient, ClientParts>()

/** A fault {@link simulateFault} can inject into a live client. */
export type SimulatedFault =
  /** The link dies without a close frame (as a cable pulled or a crashed proxy): handled as an abnormal close, 1006. */
  | 'drop-link'
  /** The network is gone: the link drops (1006) and the platform reports no network (`navigator.onLine` false). */
  | 'offline'
  /** The platform reports the network back. */
  | 'online'
  /** Moves to long-poll now, as if WebSocket were blocked (needs `fallback: longPollFallback()`). */
  | 'force-longpoll'

/**
 * Whether {@link simulateFault} can act on `client` (one made by this copy of `createLifeline`, not disposed), and
 * inject `fault` into it (`force-longpoll` needs a long-poll fallback).
 */
export function canSimulateFault(client: LifelineClient, fault?: SimulatedFault): boolean {
  const parts = clientParts.get(client)
  return parts?.disposed === false && (fault !== 'force-longpoll' || !!parts.fallback)
}

/**
 * Injects a fault into a client made by `createLifeline`, for devtools, stories and manual testing: the client reacts
 * as it would to the real thing (backoff, offline state, resume). Returns `false` for a client it does not know (one
 * from another copy of the library, or a fake). Not for production logic.
 */
export function simulateFault(client: LifelineClient, fault: SimulatedFault): boolean {
  const parts = clientParts.get(client)
  if (!parts || parts.disposed) return false
  const { runtime, connection } = parts
  const dropLink = () => {
    if (!connection.transport) return false
    connection.drop()
    runtime.dispatch({ type: 'CLOSED', code: 1006, reason: '', wasClean: false })
    parts.publish()
    return true
  }
  switch (fault) {
    case 'drop-link':
      return dropLink()
    case 'offline':
      dropLink()
      runtime.dispatch({ type: 'OFFLINE' })
      return true
    case 'online':
      runtime.dispatch({ type: 'ONLINE' })
      return true
    case 'force-longpoll':
      if (!parts.fallback) return false
      parts.fallback.force('longpoll')
      return true
    default:
      return fault satisfies never
  }
}
