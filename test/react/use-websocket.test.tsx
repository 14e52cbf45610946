// @vitest-environment jsdom
import { StrictMode, useState, type ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import { createEchoServer } from '../../src/testing'
import { createLifeline, type LifelineClient } from '../../src/core'
import { LifelineProvider, useConnection, useWebSocket, type UseWebSocketOptions } from '../../src/react'
import { setUpEchoHarness } from './echo-harness'

const echo = setUpEchoHarness()
const { WebSocket } = echo

function Status(props: { url: string | null; options?: UseWebSocketOptions }): ReactNode {
  const socket = useWebSocket(props.url, { environment: { WebSocket }, ...props.options })
  return (
    <div>
      <span data-testid="status">{socket.status}</span>
      <span data-testid="last">{typeof socket.lastMessage?.data === 'string' ? socket.lastMessage.data : ''}</span>
      <span data-testid="json">{JSON.stringify(socket.lastJsonMessage)}</span>
      <button onClick={() => socket.send('hello')}>send</button>
      <button onClick={() => socket.sendJson({ n: 1 })}>json</button>
    </div>
  )
}

const status = () => screen.getByTestId('status').textContent

function Shared(props: { url: string; options?: UseWebSocketOptions }): ReactNode {
  const { status } = useWebSocket(props.url, { environment: { WebSocket }, share: true, ...props.options })
  return <span>{status}</span>
}

describe('useWebSocket', () => {
  it('opens exactly one server connection inside StrictMode and none after unmount', async () => {
    const view = render(
      <StrictMode>
        <Status url={echo.server.url} />
      </StrictMode>,
    )
    await waitFor(() => expect(status()).toBe('open'))
    expect(echo.server.totalConnections).toBe(1)
    expect(echo.constructed).toBe(1)
    view.unmount()
    await waitFor(() => expect(echo.server.connections).toBe(0))
    expect(echo.server.totalConnections).toBe(1)
  })

  it('does not reconnect when re-rendered with an equal options object, and does when a value changes', async () => {
    const view = render(<Status url={echo.server.url} options={{ minDelayMs: 100 }} />)
    await waitFor(() => expect(status()).toBe('open'))
    view.rerender(<Status url={echo.server.url} options={{ minDelayMs: 100 }} />)
    view.rerender(<Status url={echo.server.url} options={{ minDelayMs: 100 }} />)
    expect(echo.server.totalConnections).toBe(1)
    view.rerender(<Status url={echo.server.url} options={{ minDelayMs: 200 }} />)
    await waitFor(() => expect(echo.server.totalConnections).toBe(2))
    await waitFor(() => expect(echo.server.connections).toBe(1))
  })

  it('calls the latest onMessage for every message without reconnecting', async () => {
    const first = vi.fn()
    const second = vi.fn()
    const view = render(<Status url={echo.server.url} options={{ onMessage: first }} />)
    await waitFor(() => expect(status()).toBe('open'))
    view.rerender(<Status url={echo.server.url} options={{ onMessage: second }} />)
    act(() => screen.getByText('send').click())
    act(() => screen.getByText('send').click())
    await waitFor(() => expect(second).toHaveBeenCalledTimes(2))
    expect(first).not.toHaveBeenCalled()
    expect(second.mock.calls[0]?.[0].data).toBe('hello')
    expect(echo.server.totalConnections).toBe(1)
  })

  it('queues a send made while connecting and exposes the echo as lastMessage and lastJsonMessage', async () => {
    render(<Status url={echo.server.url} />)
    act(() => screen.getByText('json').click())
    await waitFor(() => expect(screen.getByTestId('json').textContent).toBe('{"n":1}'))
    act(() => screen.getByText('send').click())
    await waitFor(() => expect(screen.getByTestId('last').textContent).toBe('hello'))
    expect(screen.getByTestId('json').textContent).toBe('null')
  })

  it('filter decides what becomes lastMessage; onMessage still sees every message', async () => {
    const seen: unknown[] = []
    render(
      <Status
        url={echo.server.url}
        options={{
          filter: (message) => typeof message.data === 'string' && message.data.startsWith('{'),
          onMessage: (message) => seen.push(message.data),
        }}
      />,
    )
    act(() => screen.getByText('json').click())
    await waitFor(() => expect(screen.getByTestId('json').textContent).toBe('{"n":1}'))
    act(() => screen.getByText('send').click())
    await waitFor(() => expect(seen).toContain('hello'))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(screen.getByTestId('last').textContent).toBe('{"n":1}')
  })

  it('share: 200 components with the same URL and options open one socket, closed after the last unmounts', async () => {
    const many = Array.from({ length: 200 }, (_, index) => index)
    const view = render(
      <StrictMode>
        {many.map((index) => (
          <Shared key={index} url={echo.server.url} />
        ))}
      </StrictMode>,
    )
    await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(200))
    expect(echo.server.totalConnections).toBe(1)
    expect(echo.constructed).toBe(1)
    view.unmount()
    await waitFor(() => expect(echo.server.connections).toBe(0), { timeout: 3000 })
  })

  it('share: a component that mounts onto a shared client that failed starts it again (a fresh client would try too)', async () => {
    const options: UseWebSocketOptions = { maxAttempts: 1, minDelayMs: 10, maxDelayMs: 20 }
    const view = render(<Shared url={echo.server.url} options={options} />)
    await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(1))
    await act(() => echo.server.kill())
    await waitFor(() => expect(screen.getAllByText('failed')).toHaveLength(1))
    await act(() => echo.server.restart())
    // Mounting next to the failed one (same URL and options, so the same shared client): one new attempt, for both.
    view.rerender(
      <>
        <Shared url={echo.server.url} options={options} />
        <Shared url={echo.server.url} options={options} />
      </>,
    )
    await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(2))
    expect(echo.server.connections).toBe(1)
    view.unmount()
    await waitFor(() => expect(echo.server.connections).toBe(0), { timeout: 3000 })
  })

  it('share: the option functions called are those of the last component mounted that still uses it, never an unmounted one', async () => {
    const calls: string[] = []
    function Sharer(props: { name: string }): ReactNode {
      const { status } = useWebSocket(echo.server.url, {
        environment: { WebSocket },
        share: true,
        minDelayMs: 10,
        maxDelayMs: 20,
        shouldReconnect: () => (calls.push(props.name), true),
      })
      return <span>{status}</span>
    }
    const view = render(
      <>
        <Sharer key="a" name="a" />
        <Sharer key="b" name="b" />
      </>,
    )
    await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(2))
    act(() => echo.server.closeAll(4000))
    await waitFor(() => expect(calls).toEqual(['b']))
    await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(2))
    view.rerender(<Sharer key="a" name="a" />)
    act(() => echo.server.closeAll(4000))
    await waitFor(() => expect(calls).toEqual(['b', 'a']))
    await waitFor(() => expect(echo.server.totalConnections).toBe(3))
    await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(1))
    // The shared client closes 1 s after the last unmount: let it, while the server is up, so that it does not
    // reconnect into the next test.
    view.unmount()
    await waitFor(() => expect(echo.server.connections).toBe(0), { timeout: 3000 })
  })

  it('share: a different URL or option values get their own client', async () => {
    const other = await createEchoServer()
    try {
      render(
        <>
          <Shared url={echo.server.url} />
          <Shared url={echo.server.url} />
          <Shared url={other.url} />
          <Shared url={echo.server.url} options={{ heartbeat: true }} />
        </>,
      )
      await waitFor(() => expect(screen.getAllByText('open')).toHaveLength(4))
      expect(echo.server.totalConnections).toBe(2)
      expect(other.totalConnections).toBe(1)
    } finally {
      cleanup()
      await other.close()
    }
  })

  it('reconnects after the server restarts', async () => {
    render(<Status url={echo.server.url} options={{ minDelayMs: 50, maxDelayMs: 100 }} />)
    await waitFor(() => expect(status()).toBe('open'))
    await act(() => echo.server.kill())
    await waitFor(() => expect(status()).toMatch(/reconnecting|connecting/))
    await act(() => echo.server.restart())
    await waitFor(() => expect(status()).toBe('open'), { timeout: 5000 })
    expect(echo.server.connections).toBe(1)
  })

  it('stays idle with no connection when the url is null', async () => {
    render(<Status url={null} />)
    expect(status()).toBe('idle')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(echo.server.totalConnections).toBe(0)
  })

  it('throws MISSING_PROVIDER when used without url or provider', () => {
    function Orphan(): ReactNode {
      useWebSocket()
      return null
    }
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    expect(() => render(<Orphan />)).toThrow(expect.objectContaining({ code: 'MISSING_PROVIDER' }))
  })
})

describe('LifelineProvider', () => {
  it('shares one connection between every hook below it', async () => {
    function Child(props: { id: string }): ReactNode {
      const { status } = useWebSocket()
      return <span data-testid={props.id}>{status}</span>
    }
    render(
      <StrictMode>
        <LifelineProvider url={echo.server.url} options={{ environment: { WebSocket } }}>
          <Child id="a" />
          <Child id="b" />
          <Child id="c" />
        </LifelineProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(screen.getByTestId('c').textContent).toBe('open'))
    expect(screen.getByTestId('a').textContent).toBe('open')
    expect(echo.server.totalConnections).toBe(1)
    expect(echo.constructed).toBe(1)
  })

  it('never closes a client it was given', async () => {
    const client: LifelineClient = createLifeline({ url: echo.server.url, environment: { WebSocket } })
    const view = render(
      <LifelineProvider client={client}>
        <span />
      </LifelineProvider>,
    )
    await waitFor(() => expect(client.getSnapshot().status).toBe('open'))
    view.unmount()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(client.getSnapshot().status).toBe('open')
    client.dispose()
    expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
  })
})

describe('useConnection', () => {
  it('re-renders only when the selected slice changes', async () => {
    const client = createLifeline({ url: echo.server.url, environment: { WebSocket }, autoConnect: false })
    let renders = 0
    function Online(): ReactNode {
      renders++
      const online = useConnection((snapshot) => snapshot.online, client)
      return <span>{String(online)}</span>
    }
    function Counter(): ReactNode {
      const [count, setCount] = useState(0)
      const queued = useConnection((snapshot) => snapshot.outbox.queued, client)
      return (
        <button data-testid="q" onClick={() => setCount(count + 1)}>
          {queued}
        </button>
      )
    }
    render(
      <>
        <Online />
        <Counter />
      </>,
    )
    const before = renders
    act(() => {
      client.send('a')
      client.send('b')
    })
    expect(screen.getByTestId('q').textContent).toBe('2')
    expect(renders).toBe(before)
    client.dispose()
  })
})
