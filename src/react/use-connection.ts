'use client'
import { useStore } from 'zustand'
import type { ConnectionSnapshot, LifelineClient } from '../core'
import { getConnectionStore } from '../store'
import { useClientOrIdle } from './context'

/**
 * Any slice of the connection snapshot; re-renders only when the slice changes (by `Object.is`). While server
 * rendering under a provider that creates its client in the browser, a slice of the idle snapshot.
 * @example const status = useConnection((s) => s.status)
 */
export function useConnection<T>(selector: (snapshot: ConnectionSnapshot) => T, client?: LifelineClient | null): T {
  return useStore(getConnectionStore(useClientOrIdle(client)), selector)
}
