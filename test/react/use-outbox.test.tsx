// @vitest-environment jsdom
import { Profiler, type ReactNode } from 'react'
import { renderToString } from 'react-dom/server'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLifeline, lifelineProtocol, type LifelineClient } from '../../src/core'
import { createFakeWebSocket, type FakeSocket } from '../../src/testing/fakes'
import { Boundary, inProvider } from './support'
import { LifelineProvider, useOutbox } from '../../src/react'

/** The sockets the client opens, driven by hand. */
const fake = createFakeWebSocket()
const sockets = fake.sockets

function createClient(autoConnect = true): LifelineClient {
  return createLifeline({
    url: 'wss://example.com/live',
    protocol: lifelineProtocol(),
    autoConnect,
    environment: { WebSocket: fake.WebSocket, location: undefined },
  })
}

function open(): FakeSocket {
  const socket = sockets.at(-1)!
  act(() => socket.serverWelcome())
  return socket
}

function Queue(props: { client?: LifelineClient }): ReactNode {
  const { items, retry, discard } = useOutbox(props.client)
  return (
    <div>
      <ul>
        {items.map((item) => (
          <li key={item.id} data-testid="item">
            {`${item.id}:${item.state}:${item.error?.code ?? ''}`}
            <button onClick={() => retry(item.id)}>{`retry ${item.id}`}</button>
            <button onClick={() => discard(item.id)}>{`discard ${item.id}`}</button>
          </li>
        ))}
      </ul>
      <button onClick={() => retry()}>retry all</button>
      <button onClick={() => discard()}>discard all</button>
    </div>
  )
}

const rows = () => screen.queryAllByTestId('item').map((node) => node.firstChild?.textContent)
function publish(client: LifelineClient, data: unknown): string {
  let id = ''
  act(() => {
    id = (client.protocol as ReturnType<typeof lifelineProtocol>).publish('room', data)
  })
  return id
}

beforeEach(() => {
  vi.useFakeTimers()
  fake.reset()
  vi.spyOn(console, 'error').mockImplementation(() => undefined)
})
afterEach(() => {
  cleanup()
  vi.useRealTimers()
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
})

describe('useOutbox', () => {
  it('shows each item with its state: queued, sending, gone once acknowledged', () => {
    const client = createClient()
    render(inProvider(client, <Queue />))
    expect(rows()).toEqual([])
    const first = publish(client, 1)
    const second = publish(client, 2)
    expect(rows()).toEqual([`${first}:queued:`, `${second}:queued:`])
    const socket = open()
    expect(rows()).toEqual([`${first}:sending:`, `${second}:sending:`])
    act(() => socket.serverMessage({ type: 'ack', id: first }))
    expect(rows()).toEqual([`${second}:sending:`])
    client.dispose()
  })

  it('retries a refused item, and discards one or all', () => {
    const client = createClient()
    const socket = open()
    render(
      <LifelineProvider client={client}>
        <Queue />
      </LifelineProvider>,
    )
    const refused = publish(client, 'a')
    const other = publish(client, 'b')
    act(() => socket.serverMessage({ type: 'nack', id: refused, code: 'FORBIDDEN', reason: 'no' }))
    expect(rows()).toEqual([`${refused}:failed:MESSAGE_REFUSED`, `${other}:sending:`])
    fireEvent.click(screen.getByText(`retry ${refused}`))
    expect(rows()).toEqual([`${refused}:sending:`, `${other}:sending:`])
    expect(
      socket
        .frames()
        .filter((frame) => frame.type === 'pub')
        .map((frame) => frame.id),
    ).toEqual([refused, other, refused])
    act(() => socket.serverMessage({ type: 'nack', id: refused, code: 'FORBIDDEN', reason: 'no' }))
    fireEvent.click(screen.getByText('retry all'))
    expect(rows()).toEqual([`${refused}:sending:`, `${other}:sending:`])
    fireEvent.click(screen.getByText(`discard ${other}`))
    expect(rows()).toEqual([`${refused}:sending:`])
    publish(client, 'c')
    fireEvent.click(screen.getByText('discard all'))
    expect(rows()).toEqual([])
    client.dispose()
  })

  it('re-renders only when the items change', () => {
    const client = createClient()
    const socket = open()
    let commits = 0
    render(
      <LifelineProvider client={client}>
        <Profiler id="queue" onRender={() => commits++}>
          <Queue />
        </Profiler>
      </LifelineProvider>,
    )
    commits = 0
    // The snapshot changes (lastError), the items do not.
    act(() => socket.serverMessage('not a frame'))
    expect(client.getSnapshot().lastError?.code).toBe('PROTOCOL_ERROR')
    expect(commits).toBe(0)
    publish(client, 1)
    expect(commits).toBe(1)
    client.dispose()
  })

  it('uses the client passed instead of the provider', () => {
    const client = createClient(false)
    const other = createClient(false)
    render(
      <LifelineProvider client={other}>
        <Queue client={client} />
      </LifelineProvider>,
    )
    const id = publish(client, 1)
    expect(rows()).toEqual([`${id}:queued:`])
    client.dispose()
    other.dispose()
  })

  it('throws MISSING_PROVIDER without a provider or client', () => {
    render(
      <Boundary>
        <Queue />
      </Boundary>,
    )
    expect(screen.getByTestId('caught').textContent).toBe('MISSING_PROVIDER')
  })

  it('renders an empty outbox on the server under a provider that has no client yet', () => {
    vi.stubGlobal('window', undefined)
    const html = renderToString(
      <LifelineProvider url="wss://example.com/live" options={{ protocol: lifelineProtocol() }}>
        <Queue />
      </LifelineProvider>,
    )
    vi.unstubAllGlobals()
    expect(html).toBe('<div><ul></ul><button>retry all</button><button>discard all</button></div>')
    expect(sockets).toEqual([])
  })
})
