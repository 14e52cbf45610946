/** Timer functions. Inject fakes (or vitest's fake timers) to drive time in tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Clocks: `now` is wall time (epoch ms, shown to users); `monotonic` never jumps and measures durations. */
export interface Clock {
  now(): number
  monotonic(): number
}

/** A boolean signal from the platform (online, visible) that can be read and watched. */
export interface SignalSource {
  get(): boolean
  /** Starts watching; returns the function that stops. Listeners are attached only while subscribed. */
  subscribe(listener: (value: boolean) => void): () => void
}

/**
 * An event handler property of a socket. Its parameter is checked both ways, as DOM handler methods are, so a socket
 * whose events carry more than the library reads (`ws`'s `MessageEvent` with `type` and `target`) fits without a cast.
 */
type SocketHandler<EventData> = { bivarianceHack(event: EventData): void }['bivarianceHack']

/** The subset of the WebSocket API the library uses: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number
  readonly bufferedAmount: number
  readonly protocol?: string
  binaryType: string
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void
  close(code?: number, reason?: string): void
  /** `ws` in Node: destroy the socket without a close handshake. */
  terminate?: () => void
  onopen: SocketHandler<unknown> | null
  onmessage: SocketHandler<{ data: unknown }> | null
  onclose: SocketHandler<{ code: number; reason: string; wasClean: boolean }> | null
  onerror: SocketHandler<unknown> | null
}

/** A WebSocket constructor: the browser's `WebSocket`, or `import { WebSocket } from 'ws'` in Node, as they are. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** The page the client runs in, for relative URLs and the mixed-content check. */
export interface PageLocation {
  href: string
  protocol: string
}

/** Everything the client takes from its platform. Each field defaults to the browser's own. */
export interface Environment {
  /** @default globalThis.setTimeout / clearTimeout */
  timers: Timers
  /** @default Date.now and performance.now */
  clock: Clock
  /** @default Math.random */
  random: () => number
  /** @default globalThis.WebSocket (pass `ws`'s `WebSocket` in Node 20) */
  WebSocket: WebSocketConstructor | undefined
  /** @default navigator.onLine with window `online`/`offline` events; always online where there is no navigator */
  network: SignalSource
  /** @default document.visibilityState with `visibilitychange`; always visible where there is no document */
  visibility: SignalSource
  /** @default globalThis.location, if any */
  location: PageLocation | undefined
  /** For handshake diagnostics and the long-poll fallback. @default globalThis.fetch */
  fetch?: typeof fetch | undefined
}

/** A signal read from a global and watched through DOM events; inert where the global does not exist (SSR, Node). */
function domSignal(read: () => boolean, target: () => EventTarget | undefined, events: string[]): SignalSource {
  return {
    get: read,
    subscribe(listener) {
      const node = target()
      if (!node) return () => undefined
      const handler = () => listener(read())
      for (const name of events) node.addEventListener(name, handler)
      return () => {
        for (const name of events) node.removeEventListener(name, handler)
      }
    },
  }
}

const g = globalThis as {
  navigator?: { onLine?: boolean }
  document?: EventTarget & { visibilityState?: string }
  window?: EventTarget
  location?: PageLocation
  WebSocket?: WebSocketConstructor
  performance?: { now(): number }
}

/** Resolves the environment: the given parts over the platform defaults. Reads globals lazily (SSR-safe). */
export function resolveEnvironment(overrides: Partial<Environment> = {}): Environment {
  return {
    timers: {
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    clock: { now: () => Date.now(), monotonic: () => (g.performance ? g.performance.now() : Date.now()) },
    random: Math.random,
    WebSocket: g.WebSocket,
    network: domSignal(
      () => g.navigator?.onLine !== false,
      () => g.window,
      ['online', 'offline'],
    ),
    visibility: domSignal(
      () => g.document?.visibilityState !== 'hidden',
      () => g.document,
      ['visibilitychange'],
    ),
    location: g.location,
    ...overrides,
  }
}
