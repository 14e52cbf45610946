'use client'
import { createContext, useContext } from 'react'
import { lifelineError, type LifelineClient } from '../core'
import { idleClient } from './idle-client'

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
  const found = useClientOrIdle(client)
  return found === idleClient ? null : found
}

/**
 * The client the hooks and components render: the one passed, else the nearest provider's, else (only while server
 * rendering) the idle stand-in. In the browser, no client is `MISSING_PROVIDER`.
 */
export function useClientOrIdle(client?: LifelineClient | null): LifelineClient {
  const shared = useContext(LifelineContext)
  const found = client ?? shared
  if (found) return found
  if (typeof window !== 'undefined') throw missing()
  return idleClient
}
