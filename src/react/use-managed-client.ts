'use client'
import { useEffect, useMemo, useRef } from 'react'
import { createLifeline, type LifelineClient, type LifelineOptions } from '../core'

/** Options a hook or provider turns into a client of its own (all of {@link LifelineOptions} but `url`). */
export type ManagedClientOptions = Omit<LifelineOptions, 'url' | 'autoConnect'>

type Callbacks = Pick<LifelineOptions, 'getToken' | 'authMessage' | 'onSessionExpired'>
const callbackNames = ['getToken', 'authMessage', 'onSessionExpired'] as const

/** Deep equality where any two functions are equal: callbacks are read through a ref, so they never reconnect. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (typeof a === 'function' && typeof b === 'function')) return true
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  return (
    keysA.length === Object.keys(b).length &&
    keysA.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  )
}

/**
 * A client owned by the calling component: created once per URL + options *value* (a new options object with the
 * same contents reuses it), connected while mounted, closed after the last unmount. Not created during server
 * rendering. Callbacks in the options are always the latest ones.
 */
export function useManagedClient(url: string | null, options: ManagedClientOptions = {}): LifelineClient | null {
  const latest = useRef(options)
  latest.current = options
  // A new object only when url or options change by value: the client's identity.
  const identity = useRef<{ url: string | null; options: ManagedClientOptions }>(null)
  const next = { url, options }
  if (!identity.current || !sameValue(identity.current, next)) identity.current = next
  const key = identity.current

  const client = useMemo(() => {
    const { url, options } = key
    if (url === null || typeof window === 'undefined') return null
    const fresh: Callbacks = {}
    for (const name of callbackNames) {
      if (options[name])
        (fresh as Record<string, unknown>)[name] = (...args: never[]) =>
          (latest.current[name] as (...a: never[]) => unknown)(...args)
    }
    // Each client gets its own protocol instance: React may run this twice (StrictMode) or again for a new URL with
    // the same options, and a lifelineProtocol() instance serves one client. Hooks reach it as `client.protocol`.
    const protocol = options.protocol?.fork?.() ?? options.protocol
    return createLifeline({ ...options, ...fresh, ...(protocol && { protocol }), url, autoConnect: false })
    // The key changes only when url or options change by value.
  }, [key])

  useEffect(() => client?.retain(), [client])
  return client
}
