// @vitest-environment jsdom
import { StrictMode, useState, type ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { createTestServer, type TestServer } from '../../src/testing'
import { outboxStorage, type PersistedOutbox, type WebSocketConstructor } from '../../src/core'
import { Boundary } from './support'
import { LifelineProvider, useLifelineClient, useWebSocket } from '../../src/react'

// How React creates clients: in useState (never twice for one mount, even in StrictMode), doing nothing until an
// effect retains them, so a plug-in with state (an outbox storage) is attached by exactly one live client.

const environment = { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined }
let server: TestServer

beforeEach(async () => {
  server = await createTestServer()
})
afterEach(async () => {
  cleanup()
  await server.close()
  vi.restoreAllMocks()
})

function memoryStorage() {
  let stored: PersistedOutbox | null = null
  const adapter = {
    load: vi.fn(() => stored),
    save: vi.fn((value: PersistedOutbox) => {
      stored = value
    }),
  }
  return { adapter, storage: outboxStorage(adapter), stored: () => stored }
}

function Status(): ReactNode {
  const { status, session } = useWebSocket()
  return (
    <p>
      <span data-testid="status">{status}</span>
      <span data-testid="session">{session.id ?? ''}</span>
    </p>
  )
}

const text = (id: string) => screen.getByTestId(id).textContent

describe('clients created by the React layer', () => {
  it('a provider with an outbox storage works in StrictMode (no STORAGE_ERROR), one connection', async () => {
    const { storage, adapter } = memoryStorage()
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    render(
      <StrictMode>
        <Boundary>
          <LifelineProvider url={server.url} protocol="lifeline" options={{ environment, outbox: { storage } }}>
            <Status />
          </LifelineProvider>
        </Boundary>
      </StrictMode>,
    )
    expect(screen.queryByTestId('caught')?.textContent).toBeUndefined()
    await waitFor(() => expect(text('status')).toBe('open'))
    expect(server.totalConnections).toBe(1)
    expect(adapter.load).toHaveBeenCalledTimes(1)
  })

  it('a provider whose URL changes hands its outbox storage to the new client', async () => {
    const { storage, adapter } = memoryStorage()
    const other = await createTestServer()
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    let setUrl: (url: string) => void = () => undefined
    function App(): ReactNode {
      const [url, set] = useState(server.url)
      setUrl = set
      return (
        <Boundary>
          <LifelineProvider url={url} protocol="lifeline" options={{ environment, outbox: { storage } }}>
            <Status />
          </LifelineProvider>
        </Boundary>
      )
    }
    try {
      render(<App />)
      await waitFor(() => expect(text('status')).toBe('open'))
      act(() => setUrl(other.url))
      expect(screen.queryByTestId('caught')?.textContent).toBeUndefined()
      await waitFor(() => expect(other.totalConnections).toBe(1))
      await waitFor(() => expect(text('status')).toBe('open'))
      expect(adapter.load).toHaveBeenCalledTimes(2)
    } finally {
      cleanup()
      await other.close()
    }
  })

  it('two providers live at once on one storage still get STORAGE_ERROR (one key serves one client)', async () => {
    const { storage } = memoryStorage()
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    render(
      <Boundary>
        <LifelineProvider url={server.url} options={{ environment, outbox: { storage } }}>
          <Status />
        </LifelineProvider>
        <LifelineProvider url={server.url} options={{ environment, outbox: { storage } }}>
          <Status />
        </LifelineProvider>
      </Boundary>,
    )
    await waitFor(() => expect(screen.getByTestId('caught').textContent).toBe('STORAGE_ERROR'))
  })

  it('creates one client per mount in StrictMode, the same across renders', async () => {
    const seen = new Set<unknown>()
    function Probe(): ReactNode {
      seen.add(useLifelineClient())
      return null
    }
    const { rerender } = render(
      <StrictMode>
        <LifelineProvider url={server.url} options={{ environment }}>
          <Probe />
        </LifelineProvider>
      </StrictMode>,
    )
    rerender(
      <StrictMode>
        <LifelineProvider url={server.url} options={{ environment }}>
          <Probe />
        </LifelineProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(server.totalConnections).toBe(1))
    expect(seen.size).toBe(1)
  })
})

describe('callback options are always the latest', () => {
  it('a new logger, backoff function and isPong take effect without reconnecting', async () => {
    const first = { debug: vi.fn(), warn: vi.fn() }
    const second = { debug: vi.fn(), warn: vi.fn() }
    const backoff1 = vi.fn(() => 5)
    const backoff2 = vi.fn(() => 5)
    function View({ logger, backoff }: { logger: typeof first; backoff: () => number }): ReactNode {
      const { status } = useWebSocket(server.url, { environment, logger, backoff, minDelayMs: 10 })
      return <span data-testid="status">{status}</span>
    }
    const { rerender } = render(<View logger={first} backoff={backoff1} />)
    await waitFor(() => expect(text('status')).toBe('open'))
    rerender(<View logger={second} backoff={backoff2} />)
    expect(server.totalConnections).toBe(1)
    // The server drops the connection: the reconnect uses the latest backoff and logs to the latest logger.
    server.terminateClients()
    await waitFor(() => expect(server.totalConnections).toBe(2))
    expect(backoff1).not.toHaveBeenCalled()
    expect(backoff2).toHaveBeenCalled()
    const logged = (logger: typeof first) => logger.debug.mock.calls.length + logger.warn.mock.calls.length
    const before = logged(first)
    expect(logged(second)).toBeGreaterThan(0)
    expect(logged(first)).toBe(before)
  })
})
