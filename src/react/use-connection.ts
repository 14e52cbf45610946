'use client'
import { useStore } from 'zustand'
import type { ConnectionSnapshot, LifelineClient } from '../core'
import { getConnectionStore } from '../store'
import { useLifelineClient } from './context'

/**
 * Any slice of the connection snapshot; re-renders only when the slice changes (by `Object.is`).
 * @example const status = useConnection((s) => s.status)
 */
export function useConnection<T>(selector: (snapshot: ConnectionSnapshot) => T, client?: LifelineClient | null): T {
  return useStore(getConnectionStore(useLifelineClient(client)), selector)
}
