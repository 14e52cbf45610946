// @vitest-environment jsdom
import { Profiler, StrictMode, type ReactNode } from 'react'
import { renderToString } from 'react-dom/server'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createLifeline,
  lifelineProtocol,
  type ChannelGap,
  type ChannelMessage,
  type LifelineClient,
} from '../../src/core'
import { createFakeWebSocket, type FakeSocket } from '../../src/testing/fakes'
import { Boundary, inProvider } from './support'
import { LifelineProvider, useChannel, useOutbox, type UseChannelOptions } from '../../src/react'

/** The sockets the client opens, driven by hand. */
const fake = createFakeWebSocket()
const sockets = fake.sockets

function createClient(protocol = lifelineProtocol()): LifelineClient {
  return createLifeline({
    url: 'wss://example.com/live',
    protocol,
    environment: { WebSocket: fake.WebSocket, location: undefined },
  })
}

/** Opens the client's socket and answers hello. */
function open(): FakeSocket {
  const socket = sockets.at(-1)!
  act(() => socket.serverWelcome())
  return socket
}

const subFrames = (socket: FakeSocket, ch = 'room') =>
  socket.frames().filter((frame) => frame.type === 'sub' && frame.ch === ch)
const unsubFrames = (socket: FakeSocket, ch = 'room') =>
  socket.frames().filter((frame) => frame.type === 'unsub' && frame.ch === ch)
/** One animation frame. */
const nextFrame = () => act(() => vi.advanceTimersByTime(16))

function burst(socket: FakeSocket, from: number, to: number, ch = 'room'): void {
  act(() => {
    for (let seq = from; seq <= to; seq++) socket.serverMessage({ type: 'msg', ch, epoch: 'e1', seq, data: { n: seq } })
  })
}

function Room(props: UseChannelOptions<{ n: number }> & { name?: string }): ReactNode {
  const { name = 'room', ...options } = props
  const channel = useChannel<{ n: number }>(name, options)
  return (
    <div>
      <span data-testid="status">{channel.status}</span>
      <span data-testid="resumed">{String(channel.resumed)}</span>
      <span data-testid="error">{String(channel.error)}</span>
      <span data-testid="count">{channel.messages.length}</span>
      <span data-testid="seqs">{channel.messages.map((message) => message.data.n).join(',')}</span>
      <span data-testid="last">{channel.last?.seq ?? 'none'}</span>
      <span data-testid="gaps">{channel.gaps.map((gap) => gap.reason).join(',')}</span>
    </div>
  )
}

const text = (id: string) => screen.getByTestId(id).textContent
const consoleErrors: unknown[][] = []

beforeEach(() => {
  vi.useFakeTimers()
  fake.reset()
  consoleErrors.length = 0
  vi.spyOn(console, 'error').mockImplementation((...args) => consoleErrors.push(args))
})
afterEach(() => {
  cleanup()
  vi.useRealTimers()
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
})

describe('useChannel', () => {
  it('subscribes once inside StrictMode (one sub frame) and shows the subscription state', () => {
    const client = createClient()
    const socket = open()
    render(inProvider(client, <Room />))
    expect(subFrames(socket)).toEqual([{ type: 'sub', ch: 'room' }])
    expect(text('status')).toBe('pending')
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    nextFrame()
    expect(text('status')).toBe('subscribed')
    expect(text('resumed')).toBe('null')
    expect(client.protocol).toHaveProperty('channels')
    expect(subFrames(socket)).toHaveLength(1)
    expect(consoleErrors).toEqual([])
    client.dispose()
  })

  it('renders a burst of 1000 messages in one commit; onMessage sees each one, in order, without a render', () => {
    const client = createClient()
    const socket = open()
    const seen: number[] = []
    let commits = 0
    render(
      inProvider(
        client,
        <Profiler id="room" onRender={() => commits++}>
          <Room onMessage={(message) => seen.push(message.seq)} />
        </Profiler>,
      ),
    )
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    nextFrame()
    commits = 0
    burst(socket, 1, 1000)
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, index) => index + 1))
    expect(commits).toBe(0)
    nextFrame()
    expect(commits).toBe(1)
    expect(text('last')).toBe('1000')
    expect(text('count')).toBe('100')
    nextFrame()
    expect(commits).toBe(1)
    client.dispose()
  })

  it('keeps at most `history` messages, the newest ones', () => {
    const client = createClient()
    const socket = open()
    render(
      <LifelineProvider client={client}>
        <Room history={10} />
      </LifelineProvider>,
    )
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    burst(socket, 1, 1000)
    nextFrame()
    expect(text('seqs')).toBe('991,992,993,994,995,996,997,998,999,1000')
    burst(socket, 1001, 1003)
    nextFrame()
    expect(text('seqs')).toBe('994,995,996,997,998,999,1000,1001,1002,1003')
    client.dispose()
  })

  it('keeps no messages with history 0, but still the last one', () => {
    const client = createClient()
    const socket = open()
    render(
      <LifelineProvider client={client}>
        <Room history={0} />
      </LifelineProvider>,
    )
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    burst(socket, 1, 50)
    nextFrame()
    burst(socket, 51, 60)
    nextFrame()
    expect(text('count')).toBe('0')
    expect(text('last')).toBe('60')
    client.dispose()
  })

  it('calls the latest onMessage and onGap without subscribing again', () => {
    const client = createClient()
    const socket = open()
    const first: number[] = []
    const second: number[] = []
    const gaps: ChannelGap[] = []
    const view = render(
      <LifelineProvider client={client}>
        <Room onMessage={(message: ChannelMessage<{ n: number }>) => first.push(message.seq)} />
      </LifelineProvider>,
    )
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    burst(socket, 1, 2)
    view.rerender(
      <LifelineProvider client={client}>
        <Room onMessage={(message) => second.push(message.seq)} onGap={(gap) => gaps.push(gap)} />
      </LifelineProvider>,
    )
    burst(socket, 5, 5)
    nextFrame()
    expect(first).toEqual([1, 2])
    expect(second).toEqual([5])
    expect(gaps.map((gap) => gap.reason)).toEqual(['seq-skipped'])
    expect(text('gaps')).toBe('seq-skipped')
    // The same buffer: new callbacks did not re-create the store.
    expect(text('seqs')).toBe('1,2,5')
    expect(subFrames(socket)).toHaveLength(1)
    client.dispose()
  })

  it('shows the state of a subscription another component already holds', () => {
    const client = createClient()
    const socket = open()
    const view = render(
      <LifelineProvider client={client}>
        <Room />
      </LifelineProvider>,
    )
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    nextFrame()
    view.rerender(
      <LifelineProvider client={client}>
        <Room />
        <Room />
      </LifelineProvider>,
    )
    nextFrame()
    expect(screen.getAllByTestId('status').map((node) => node.textContent)).toEqual(['subscribed', 'subscribed'])
    expect(subFrames(socket)).toHaveLength(1)
    client.dispose()
  })

  it('shows a refused subscription as error with the code', () => {
    const client = createClient()
    const socket = open()
    render(
      <LifelineProvider client={client}>
        <Room />
      </LifelineProvider>,
    )
    act(() => socket.serverMessage({ type: 'error', code: 'FORBIDDEN', reason: 'no', ch: 'room' }))
    nextFrame()
    expect(text('status')).toBe('error')
    expect(text('error')).toBe('FORBIDDEN')
    client.dispose()
  })

  it('unsubscribes after the linger once the last component unmounts', () => {
    const client = createClient()
    const socket = open()
    const view = render(inProvider(client, <Room />))
    view.unmount()
    act(() => vi.advanceTimersByTime(999))
    expect(unsubFrames(socket)).toEqual([])
    act(() => vi.advanceTimersByTime(1))
    expect(unsubFrames(socket)).toEqual([{ type: 'unsub', ch: 'room' }])
    expect((client.protocol as ReturnType<typeof lifelineProtocol>).channels?.size()).toBe(0)
    client.dispose()
  })

  it('publishes through the outbox: returns the id, and useOutbox shows the item until it is acknowledged', () => {
    const client = createClient()
    const socket = open()
    const ids: string[] = []
    function Chat(): ReactNode {
      const { publish } = useChannel('room')
      const { items } = useOutbox()
      return (
        <div>
          <button onClick={() => ids.push(publish({ text: 'hi' }))}>publish</button>
          <span data-testid="items">{items.map((item) => `${item.id}:${item.state}:${item.channel}`).join(',')}</span>
        </div>
      )
    }
    render(inProvider(client, <Chat />))
    fireEvent.click(screen.getByText('publish'))
    expect(ids).toHaveLength(1)
    const [id] = ids
    expect(text('items')).toBe(`${id}:sending:room`)
    expect(socket.frames().at(-1)).toEqual({ type: 'pub', ch: 'room', id, data: { text: 'hi' } })
    act(() => socket.serverMessage({ type: 'ack', id: id! }))
    expect(text('items')).toBe('')
    client.dispose()
  })

  it('throws WRONG_PROTOCOL for a client on the raw protocol', () => {
    const client = createLifeline({
      url: 'wss://example.com/raw',
      environment: { WebSocket: fake.WebSocket, location: undefined },
    })
    render(
      <Boundary>
        <LifelineProvider client={client}>
          <Room />
        </LifelineProvider>
      </Boundary>,
    )
    expect(text('caught')).toBe('WRONG_PROTOCOL')
    client.dispose()
  })

  it('throws MISSING_PROVIDER without a provider or client', () => {
    render(
      <Boundary>
        <Room />
      </Boundary>,
    )
    expect(text('caught')).toBe('MISSING_PROVIDER')
  })

  it('uses the client passed in the options instead of the provider', () => {
    const other = createLifeline({
      url: 'wss://example.com/raw',
      environment: { WebSocket: fake.WebSocket, location: undefined },
    })
    const client = createClient()
    const socket = open()
    render(
      <LifelineProvider client={other}>
        <Room client={client} />
      </LifelineProvider>,
    )
    expect(subFrames(socket)).toHaveLength(1)
    client.dispose()
    other.dispose()
  })

  it('resumes after a reconnect: sub with since, resumed true, messages continue without a gap', () => {
    const client = createClient()
    let socket = open()
    render(
      <LifelineProvider client={client}>
        <Room />
      </LifelineProvider>,
    )
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: false, epoch: 'e1', seq: 0 }))
    burst(socket, 1, 3)
    nextFrame()
    expect(text('resumed')).toBe('null')
    act(() => socket.onclose?.({ code: 1006, reason: '', wasClean: false }))
    act(() => vi.advanceTimersByTime(30_000))
    socket = open()
    expect(subFrames(socket)).toEqual([{ type: 'sub', ch: 'room', since: { epoch: 'e1', seq: 3 } }])
    burst(socket, 3, 4)
    act(() => socket.serverMessage({ type: 'subscribed', ch: 'room', resumed: true, epoch: 'e1', seq: 4 }))
    nextFrame()
    expect(text('status')).toBe('subscribed')
    expect(text('resumed')).toBe('true')
    expect(text('seqs')).toBe('1,2,3,4')
    expect(text('gaps')).toBe('')
    client.dispose()
  })

  it('renders on the server under a provider that has no client yet', () => {
    vi.stubGlobal('window', undefined)
    const html = renderToString(
      <LifelineProvider url="wss://example.com/live" options={{ protocol: lifelineProtocol() }}>
        <Room />
      </LifelineProvider>,
    )
    vi.unstubAllGlobals()
    expect(html).toContain('<span data-testid="status">pending</span>')
    expect(html).toContain('<span data-testid="count">0</span>')
    expect(sockets).toEqual([])
  })

  it('a provider made from options with one lifelineProtocol() instance works in StrictMode and across a URL change', () => {
    const protocol = lifelineProtocol()
    const errors: unknown[] = []
    const onError = (event: ErrorEvent) => errors.push(event.error)
    window.addEventListener('error', onError)
    function Room() {
      const { status } = useChannel('room')
      return <span data-testid="status">{status}</span>
    }
    const tree = (url: string) => (
      <StrictMode>
        <LifelineProvider
          url={url}
          options={{ protocol, environment: { WebSocket: fake.WebSocket, location: undefined } }}
        >
          <Room />
        </LifelineProvider>
      </StrictMode>
    )
    try {
      const { rerender } = render(tree('wss://example.com/a'))
      act(() => {
        vi.advanceTimersByTime(0)
      })
      expect(sockets.map((socket) => socket.url)).toEqual(['wss://example.com/a'])
      rerender(tree('wss://example.com/b'))
      act(() => {
        vi.advanceTimersByTime(0)
      })
      expect(sockets.at(-1)?.url).toBe('wss://example.com/b')
      const socket = sockets.at(-1)!
      act(() => {
        socket.serverOpen()
        socket.serverMessage({ type: 'welcome', v: 1, session: 's1', resumed: false })
      })
      expect(socket.frames().some((frame) => frame.type === 'sub' && frame.ch === 'room')).toBe(true)
      // The user's instance was never attached: each client has its own fork.
      expect(() => protocol.publish('room', 1)).toThrow(/not attached/)
      expect(errors).toEqual([])
    } finally {
      window.removeEventListener('error', onError)
    }
  })
})
