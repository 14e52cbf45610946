import type { LifelineClient, TransportKind } from '../core'

/** Props of {@link LifelineDevtools}. */
export interface LifelineDevtoolsProps {
  /** The client to inspect. @default the nearest `LifelineProvider`'s client */
  client?: LifelineClient | undefined
  /** Open the panel on mount. @default false */
  initialIsOpen?: boolean | undefined
  /** Keep and show message payloads in the Frames tab (never in an exported trace). @default false */
  showPayloads?: boolean | undefined
  /**
   * The backoff range the reconnect chart draws each delay against: [minDelayMs, min(maxDelayMs, minDelayMs·2^attempt)].
   * Pass the client's own `minDelayMs`/`maxDelayMs` when they are not the defaults.
   * @default { minDelayMs: 500, maxDelayMs: 30000 }
   */
  backoff?: { minDelayMs: number; maxDelayMs: number } | undefined
  /** Most frames kept in the ring buffer. @default 500 */
  maxFrames?: number | undefined
  /** Colour theme; `system` follows `prefers-color-scheme`. @default 'system' */
  theme?: 'light' | 'dark' | 'system' | undefined
  /** Which corner the toggle button sits in. @default 'bottom-right' */
  position?: 'bottom-right' | 'bottom-left' | undefined
  /** Epoch ms, for the timeline. @default client.now() */
  now?: (() => number) | undefined
  /** The element the shadow-root host is appended to. @default document.body */
  container?: HTMLElement | undefined
}

/**
 * Debug hooks the devtools use when a client has them (`client.devtools`). The core does not provide them yet: the
 * actions that need them are shown disabled.
 */
export interface DevtoolsHooks {
  /** Ends the transport without a close frame, as a network that dies does (the client sees 1006). */
  dropLink?: () => void
  /** Overrides the browser's online signal (`null`: follow the browser again). */
  setOnline?: (online: boolean | null) => void
  /** Forces the next attempts onto a transport (`null`: the normal choice). */
  forceTransport?: (kind: TransportKind | null) => void
}
