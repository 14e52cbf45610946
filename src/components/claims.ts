'use client'
import { useEffect, useLayoutEffect, useSyncExternalStore } from 'react'
import type { LifelineClient } from '../core'

/**
 * What a drop-in shows on behalf of every component of the same client, so that two drop-ins side by side do not
 * repeat each other: `countdown-time` (ReconnectCountdown's time, which the banner then leaves out) and `banner-retry`
 * (ConnectionBanner's Retry now, which the countdown then leaves out).
 */
export type Claim = 'countdown-time' | 'banner-retry'

/** Holders of each claim, and the components watching, of one client. */
type Claims = Set<() => void> & Partial<Record<Claim, number>>

// Keyed by the client, so the claims live and die with it: two clients never see each other's, and no reset is needed.
const byClient = /* @__PURE__ */ new WeakMap<LifelineClient, Claims>()

function claimsOf(client: LifelineClient): Claims {
  let claims = byClient.get(client)
  if (!claims) byClient.set(client, (claims = new Set()))
  return claims
}

// Registered before paint, so no frame shows the part twice; on the server neither effect runs.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect

/** Holds `claim` for `client` while `held` (ref-counted: StrictMode's double effects and several holders are fine). */
export function useHoldClaim(client: LifelineClient | null | undefined, claim: Claim, held: boolean): void {
  useIsomorphicLayoutEffect(() => {
    if (!client || !held) return
    const claims = claimsOf(client)
    const change = (by: number) => {
      claims[claim] = (claims[claim] ?? 0) + by
      claims.forEach((listener) => listener())
    }
    change(1)
    return () => change(-1)
  }, [client, claim, held])
}

/** Whether some component holds `claim` for `client`. */
export function useClaimed(client: LifelineClient | null, claim: Claim): boolean {
  return useSyncExternalStore(
    (listener) => {
      const claims = client && claimsOf(client)
      claims?.add(listener)
      return () => void claims?.delete(listener)
    },
    () => !!client && !!byClient.get(client)?.[claim],
    () => false,
  )
}
