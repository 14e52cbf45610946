'use client'
import { useMemo, type ReactNode } from 'react'
import { InvalidOptionsError, lifelineProtocol, type LifelineClient, type Protocol } from '../core'
import { LifelineContext } from './context'
import { useManagedClient, type ManagedClientOptions } from './use-managed-client'

/**
 * A wire protocol by name or as an instance. The names are plain strings, so a React Server Component (a Next.js
 * layout) can pass them: `'raw'` is the default raw protocol (built from `heartbeat` and `authMessage`), `'lifeline'`
 * is `lifelineProtocol()` with its defaults.
 */
export type ProtocolOption = 'raw' | 'lifeline' | Protocol

/** Options of the connection a {@link LifelineProvider} creates: {@link ManagedClientOptions}, the protocol also by name. */
export interface LifelineProviderOptions extends Omit<ManagedClientOptions, 'protocol'> {
  /** The wire protocol: `'raw'`, `'lifeline'` or an instance (e.g. `lifelineProtocol({ lingerMs: 5000 })`). @default 'raw' */
  protocol?: ProtocolOption
}

/** Props of {@link LifelineProvider}: share a client you made, or let the provider make one from a URL. */
export type LifelineProviderProps =
  | {
      /** A client from `createLifeline()`; you own its life (the provider never closes it). */
      client: LifelineClient
      url?: never
      protocol?: never
      options?: never
      children?: ReactNode
    }
  | {
      client?: never
      /** URL of a connection the provider creates, connects while mounted, and closes on unmount. */
      url: string
      /**
       * The wire protocol by name (`'raw'` or `'lifeline'`: what a server component can pass) or an instance. Wins
       * over `options.protocol`.
       * @default options.protocol, else 'raw'
       */
      protocol?: ProtocolOption
      /** Options of that connection (compared by value: an inline object does not reconnect). @default {} */
      options?: LifelineProviderOptions
      children?: ReactNode
    }

function resolveProtocol(option: ProtocolOption | undefined): Protocol | undefined {
  // Development builds only, as the core's option validation: production builds drop the check and its text.
  if (
    process.env.NODE_ENV !== 'production' &&
    typeof option !== 'object' &&
    option !== undefined &&
    option !== 'raw' &&
    option !== 'lifeline'
  )
    throw new InvalidOptionsError([{ field: 'protocol', problem: "must be 'raw', 'lifeline' or a Protocol instance" }])
  return option === 'lifeline' ? lifelineProtocol() : option === 'raw' ? undefined : option
}

/**
 * Shares one connection with every hook and component below it. With only serialisable props (`url`, `protocol`
 * by name, plain `options`) it can be rendered by a React Server Component; the client is created in the browser.
 */
export function LifelineProvider(props: LifelineProviderProps): ReactNode {
  const { protocol: optionProtocol, ...options } = props.options ?? {}
  const given = props.protocol ?? optionProtocol
  // One instance per name or instance given; the managed client forks it for each client it makes.
  const protocol = useMemo(() => resolveProtocol(given), [given])
  const managed = useManagedClient(
    props.client ? null : (props.url ?? null),
    protocol ? { ...options, protocol } : options,
  )
  return <LifelineContext.Provider value={props.client ?? managed}>{props.children}</LifelineContext.Provider>
}
