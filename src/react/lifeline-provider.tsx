'use client'
import type { ReactNode } from 'react'
import type { LifelineClient } from '../core'
import { LifelineContext } from './context'
import { useManagedClient, type ManagedClientOptions } from './use-managed-client'

/** Props of {@link LifelineProvider}: share a client you made, or let the provider make one from a URL. */
export type LifelineProviderProps =
  | {
      /** A client from `createLifeline()`; you own its life (the provider never closes it). */
      client: LifelineClient
      url?: never
      options?: never
      children?: ReactNode
    }
  | {
      client?: never
      /** URL of a connection the provider creates, connects while mounted, and closes on unmount. */
      url: string
      /** Options of that connection (compared by value: an inline object does not reconnect). @default {} */
      options?: ManagedClientOptions
      children?: ReactNode
    }

/** Shares one connection with every hook and component below it. */
export function LifelineProvider(props: LifelineProviderProps): ReactNode {
  const managed = useManagedClient(props.client ? null : (props.url ?? null), props.options)
  return <LifelineContext.Provider value={props.client ?? managed}>{props.children}</LifelineContext.Provider>
}
