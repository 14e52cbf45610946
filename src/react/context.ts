'use client'
import { createContext, useContext } from 'react'
import { lifelineError, type LifelineClient } from '../core'

/** The client shared by a `LifelineProvider`. */
export const LifelineContext = createContext<LifelineClient | null>(null)

/**
 * The client to use: the one passed, else the nearest provider's. Throws `MISSING_PROVIDER` when there is neither,
 * rather than silently opening a socket of its own.
 */
export function useLifelineClient(client?: LifelineClient | null): LifelineClient {
  const found = useOptionalLifelineClient(client)
  if (!found) throw missing()
  return found
}

const missing = () => lifelineError('MISSING_PROVIDER', 'No lifeline client or provider')

/**
 * Like {@link useLifelineClient}, but `null` while server rendering under a provider that creates its client on
 * mount, so a component can render its empty state there. In the browser, no client is still `MISSING_PROVIDER`.
 */
export function useOptionalLifelineClient(client?: LifelineClient | null): LifelineClient | null {
  const shared = useContext(LifelineContext)
  const found = client ?? shared
  if (!found && typeof window !== 'undefined') throw missing()
  return found
}

/** An action of a hook rendered on the server without a client: calling it is a `MISSING_PROVIDER` error. */
export const notReady = (): never => {
  throw lifelineError('MISSING_PROVIDER', 'no client yet')
}
