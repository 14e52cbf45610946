import { StrictMode, type ReactNode } from 'react'
import { act, cleanup } from '@testing-library/react'
import { afterEach, beforeEach, vi } from 'vitest'
import { rawProtocol, type ConnectionSnapshot, type LifelineClient, type OutboxItem } from '../../src/core'
import { LifelineProvider } from '../../src/react'
import { idle } from './cases'

export { bannerCases, closed, diagnosed, error, item, mixedItems } from './cases'

/** Where the fake clock starts in the components' timing tests. */
export const NOW = 1_700_000_000_000

/** A client whose snapshot and outbox the test scripts; actions are spies. */
export interface ScriptedClient {
  client: LifelineClient
  retry: ReturnType<typeof vi.fn>
  retryItem: ReturnType<typeof vi.fn>
  discardItem: ReturnType<typeof vi.fn>
  /** Publishes a new snapshot (merged over the current one) inside `act`. */
  set(change: Partial<ConnectionSnapshot>): void
  /** Publishes new outbox items inside `act`. */
  setItems(items: readonly OutboxItem[]): void
}

/** A fake implementing the whole `LifelineClient` interface, driven by the test. */
export function createScriptedClient(initial: Partial<ConnectionSnapshot> = {}): ScriptedClient {
  let snapshot: ConnectionSnapshot = { ...idle, ...initial }
  let items: readonly OutboxItem[] = []
  const listeners = new Set<() => void>()
  const notify = () => act(() => listeners.forEach((listener) => listener()))
  const retry = vi.fn()
  const retryItem = vi.fn()
  const discardItem = vi.fn()
  const client: LifelineClient = {
    url: 'wss://example.test/socket',
    maxAttempts: Infinity,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    on: () => () => undefined,
    connect: vi.fn(),
    close: vi.fn(),
    retry,
    send: vi.fn(() => 'id'),
    sendJson: vi.fn(() => 'id'),
    outbox: { items: () => items, retry: retryItem, discard: discardItem },
    protocol: rawProtocol(),
    retain: () => () => undefined,
    dispose: vi.fn(),
    getWebSocket: () => null,
    resources: () => ({ timers: 0, listeners: listeners.size, sockets: 0 }),
    now: () => Date.now(),
  }
  return {
    client,
    retry,
    retryItem,
    discardItem,
    set(change) {
      snapshot = { ...snapshot, ...change }
      notify()
    },
    setItems(next) {
      items = next
      notify()
    },
  }
}

/** Renders inside StrictMode and a provider of `client`. */
export function inProvider(client: LifelineClient, children: ReactNode): ReactNode {
  return (
    <StrictMode>
      <LifelineProvider client={client}>{children}</LifelineProvider>
    </StrictMode>
  )
}

/**
 * Registers a test file's hooks: before each test, fake timers at `NOW` and a fresh scripted client (open over
 * WebSocket); after it, the render cleaned up and real timers back. The object returned forwards to the current
 * test's client, so that it can be held at the top of the file.
 */
export function useScriptedClient(): ScriptedClient {
  let current: ScriptedClient | null = null
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW })
    current = createScriptedClient({ status: 'open', transport: 'websocket' })
  })
  afterEach(() => {
    cleanup()
    vi.useRealTimers()
  })
  const get = (): ScriptedClient => {
    if (!current) throw new Error('the scripted client exists only inside a test')
    return current
  }
  return {
    get client() {
      return get().client
    },
    get retry() {
      return get().retry
    },
    get retryItem() {
      return get().retryItem
    },
    get discardItem() {
      return get().discardItem
    },
    set: (change) => get().set(change),
    setItems: (items) => get().setItems(items),
  }
}
