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
  const shared = useContext(LifelineContext)
  const found = client ?? shared
  if (!found) {
    throw lifelineError('MISSING_PROVIDER', 'No lifeline client or provider')
  }
  return found
}
