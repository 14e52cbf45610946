'use client'
import { useEffect, useRef, useState } from 'react'
import { createLifeline, type LifelineClient, type LifelineOptions, type UrlSource } from '../core'

/** Options a hook or provider turns into a client of its own (all of {@link LifelineOptions} but `url`). */
export type ManagedClientOptions = Omit<LifelineOptions, 'url' | 'autoConnect'>

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

/** Plug-in instances and platform parts: read once when the client is created, never forwarded. */
const readOnce = new Set(['environment', 'protocol', 'fallback', 'transport', 'storage'])

/**
 * A copy of `value` where every function (at any depth of plain objects) calls the function at the same path of the
 * latest options, so the client always runs the callbacks of the last render.
 */
function forwarding(value: unknown, read: () => unknown): unknown {
  if (typeof value === 'function') {
    return (...args: unknown[]) => (read() as (...a: unknown[]) => unknown)(...args)
  }
  if (!value || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value
  const copy: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    copy[key] = readOnce.has(key) ? field : forwarding(field, () => (read() as Record<string, unknown>)[key])
  }
  return copy
}

type Identity = { url: string | UrlSource | null; options: ManagedClientOptions }

function create({ url, options }: Identity, latest: { current: Identity }): LifelineClient | null {
  if (url === null || typeof window === 'undefined') return null
  // Each client gets its own protocol instance: a new URL with the same options makes a new client, and a
  // lifelineProtocol() instance serves one client. Hooks reach it as `client.protocol`.
  const protocol = options.protocol?.fork?.() ?? options.protocol
  const fresh = forwarding(options, () => latest.current.options) as ManagedClientOptions
  // A URL function is always the latest one too (any two functions are the same identity).
  const target = forwarding(url, () => latest.current.url) as string | UrlSource
  return createLifeline({ ...fresh, ...(protocol && { protocol }), url: target, autoConnect: false })
}

/** How long a shared client with no component left stays connected (and findable) for one that mounts next. */
const SHARE_LINGER_MS = 1000

interface SharedEntry {
  readonly identity: Identity
  readonly client: LifelineClient
  forget: ReturnType<typeof setTimeout> | null
  /**
   * The latest props of each component using it, in the order they mounted: the last one's functions are called (read
   * on every call of one, so kept as an array whose last item is at hand). Empty: nobody uses it.
   */
  readonly holders: Array<{ current: Identity }>
}

/** Clients shared by `share: true`, found by the same rule as a component's own (URL + option values). */
const sharedClients = new Set<SharedEntry>()

function forgetLater(entry: SharedEntry): void {
  entry.forget = setTimeout(() => sharedClients.delete(entry), SHARE_LINGER_MS)
}

/**
 * Forgets the clients shared by `share: true` (those of `url`, or all): the next component that shares makes a new
 * one. Components already using one keep it, and it still closes after the last of them unmounts. For a page whose
 * components went away without unmounting (a closed `window.open` child); react-use-websocket's `resetGlobalState`.
 */
export function forgetSharedClients(url?: string): void {
  for (const entry of sharedClients) {
    if (url !== undefined && entry.identity.url !== url && entry.client.url !== url) continue
    if (entry.forget) clearTimeout(entry.forget)
    entry.forget = null
    sharedClients.delete(entry)
  }
}

/**
 * The shared client for `identity`, made by the first component that asks. The functions in its options are those of
 * the component that mounted last among those still using it (never those of one that unmounted).
 */
function sharedEntry(identity: Identity, latest: { current: Identity }): SharedEntry | null {
  for (const entry of sharedClients) if (sameValue(entry.identity, identity)) return entry
  const holders: Array<{ current: Identity }> = []
  const client = create(identity, {
    get current() {
      return (holders.at(-1) ?? latest).current
    },
  })
  if (!client) return null
  const entry: SharedEntry = { identity, client, forget: null, holders }
  sharedClients.add(entry)
  // Made by a render React may throw away: forgotten unless an effect retains it.
  forgetLater(entry)
  return entry
}

/**
 * A client owned by the calling component: created once per URL + options *value* (a new options object with the
 * same contents reuses it), in `useState`, so React never makes two for one mount. It does nothing until the effect
 * retains it (connects; attaches its outbox storage), and it closes after the last release. Not created during
 * server rendering. Every function in the options is always the latest one; `environment` and plug-in instances
 * (`protocol`, `fallback`, `outbox.storage`) are read once, when the client is created.
 */
export function useManagedClient(
  url: string | UrlSource | null,
  options: ManagedClientOptions = {},
  share = false,
): LifelineClient | null {
  const latest = useRef<Identity>({ url, options })
  useEffect(() => {
    latest.current = { url, options }
  })
  const make = (identity: Identity) => {
    const entry = share ? sharedEntry(identity, latest) : null
    return { identity, entry, client: entry ? entry.client : create(identity, latest) }
  }
  const [held, setHeld] = useState(() => make({ url, options }))
  let current = held
  if (!sameValue(held.identity, { url, options }) || share !== !!held.entry) {
    // A new URL or new option values: a new client, made while rendering (as React advises for state that follows
    // props); the effect below releases the old one and retains this one.
    current = make({ url, options })
    setHeld(current)
  }
  const { client, entry } = current
  useEffect(() => {
    if (!entry) return client?.retain()
    if (entry.forget) clearTimeout(entry.forget)
    entry.holders.push(latest)
    sharedClients.add(entry)
    const release = entry.client.retain(SHARE_LINGER_MS)
    return () => {
      release()
      entry.holders.splice(entry.holders.indexOf(latest), 1)
      if (entry.holders.length === 0) forgetLater(entry)
    }
  }, [client, entry])
  return client
}
