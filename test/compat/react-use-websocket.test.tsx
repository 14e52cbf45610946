// @vitest-environment jsdom
import { StrictMode, useEffect, type ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import useWebSocket, {
  LifelineError,
  ReadyState,
  resetGlobalState,
  type Options,
  type WebSocketHook,
} from '../../src/compat/react-use-websocket'
import { ConnectionBanner } from '../../src/components'
import { createEchoServer } from '../../src/testing'
import { createFakeWebSocket } from '../../src/testing/fakes'
import { setUpEchoHarness } from '../react/echo-harness'

const echo = setUpEchoHarness()
const { WebSocket } = echo

/** The options a test passes, with `ws` injected underneath. */
const withWs = (options: Options = {}): Options => ({ ...options, lifeline: { environment: { WebSocket } } })

let hook: WebSocketHook<Record<string, unknown>>
function Socket(props: {
  url: string | (() => Promise<string>) | null
  options?: Options
  connect?: boolean
}): ReactNode {
  hook = useWebSocket(props.url, withWs(props.options), props.connect)
  const data = hook.lastMessage?.data
  return (
    <div>
      <span data-testid="ready">{hook.readyState}</span>
      <span data-testid="last">{typeof data === 'string' ? data : ''}</span>
    </div>
  )
}
const ready = () => Number(screen.getByTestId('ready').textContent)
const last = () => screen.getByTestId('last').textContent
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('compat useWebSocket: return fields', () => {
  it('exports ReadyState with react-use-websocket numbers', () => {
    expect(ReadyState).toEqual({ UNINSTANTIATED: -1, CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })
  })

  it('readyState: CONNECTING, then OPEN, then CLOSED when the server closes (no reconnect by default)', async () => {
    render(<Socket url={echo.server.url} />)
    expect(ready()).toBe(ReadyState.CONNECTING)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => echo.server.closeAll(1011, 'bye'))
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
  })

  it('sendMessage queues a message sent before open (keep = true) and lastMessage is the echo as a MessageEvent', async () => {
    render(<Socket url={echo.server.url} />)
    act(() => hook.sendMessage('early'))
    await waitFor(() => expect(last()).toBe('early'))
    expect(hook.lastMessage).toBeInstanceOf(MessageEvent)
    expect(hook.lastMessage?.data).toBe('early')
  })

  it('sendMessage(message, false) drops a message while not open and sends it once open', async () => {
    render(<Socket url={echo.server.url} />)
    act(() => hook.sendMessage('dropped', false))
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => hook.sendMessage('kept', false))
    await waitFor(() => expect(last()).toBe('kept'))
    expect(echo.server.received.map((message) => message.data)).toEqual(['kept'])
  })

  it('sendJsonMessage stringifies (and with keep = false drops while not open); lastJsonMessage parses', async () => {
    render(<Socket url={echo.server.url} />)
    act(() => hook.sendJsonMessage({ n: 0 }, false))
    act(() => hook.sendJsonMessage({ n: 1 }))
    await waitFor(() => expect(hook.lastJsonMessage).toEqual({ n: 1 }))
    expect(echo.server.received.map((message) => message.data)).toEqual(['{"n":1}'])
  })

  it('lastJsonMessage is null before the first message and one shared {} for a message that is not JSON', async () => {
    render(<Socket url={echo.server.url} />)
    expect(hook.lastJsonMessage).toBeNull()
    act(() => hook.sendMessage('not json'))
    await waitFor(() => expect(last()).toBe('not json'))
    const first = hook.lastJsonMessage
    expect(first).toEqual({})
    act(() => hook.sendMessage('still not json'))
    await waitFor(() => expect(last()).toBe('still not json'))
    expect(hook.lastJsonMessage).toBe(first)
  })

  it('getWebSocket: null without a connection, then the live socket; send and close go through the client', async () => {
    const view = render(<Socket url={null} />)
    expect(hook.getWebSocket()).toBeNull()
    view.rerender(<Socket url={echo.server.url} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    const socket = hook.getWebSocket()
    expect(socket?.readyState).toBe(1)
    expect(socket).toBeInstanceOf(WebSocket)
    expect(() => {
      if (socket) socket.onmessage = () => undefined
    }).toThrow()
    act(() => socket?.send('through the client'))
    await waitFor(() => expect(last()).toBe('through the client'))
    act(() => socket?.close(1000, 'done'))
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    expect(hook.client?.getSnapshot().status).toBe('closed')
    await sleep(50)
    expect(echo.server.totalConnections).toBe(1)
  })

  it('getWebSocket with share: close does nothing (as react-use-websocket protects a shared socket)', async () => {
    render(<Socket url={echo.server.url} options={{ share: true }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => hook.getWebSocket()?.close())
    await sleep(50)
    expect(ready()).toBe(ReadyState.OPEN)
    expect(echo.server.connections).toBe(1)
  })

  it('client: the react-lifeline client underneath drives <ConnectionBanner client>', async () => {
    function WithBanner(): ReactNode {
      const { client } = useWebSocket(
        echo.server.url,
        withWs({ shouldReconnect: () => true, reconnectInterval: 60_000 }),
      )
      return <ConnectionBanner client={client ?? undefined} showAfterMs={0} />
    }
    const view = render(<WithBanner />)
    await waitFor(() => expect(echo.server.connections).toBe(1))
    expect(view.container.textContent).toBe('')
    act(() => echo.server.closeAll(1011))
    await waitFor(() => expect(view.container.textContent).not.toBe(''))
    expect(view.container.querySelector('[data-state]')?.getAttribute('data-state')).toMatch(/reconnecting/)
  })
})

describe('compat useWebSocket: url and connect', () => {
  it('url null: UNINSTANTIATED and no socket', async () => {
    render(<Socket url={null} />)
    expect(ready()).toBe(ReadyState.UNINSTANTIATED)
    await sleep(50)
    expect(echo.server.totalConnections).toBe(0)
  })

  it('connect = false: UNINSTANTIATED and no socket; true connects; false again closes it (CLOSED)', async () => {
    const view = render(<Socket url={echo.server.url} connect={false} />)
    expect(ready()).toBe(ReadyState.UNINSTANTIATED)
    await sleep(50)
    expect(echo.server.totalConnections).toBe(0)
    view.rerender(<Socket url={echo.server.url} connect />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    view.rerender(<Socket url={echo.server.url} connect={false} />)
    expect(ready()).toBe(ReadyState.CLOSED)
    await waitFor(() => expect(echo.server.connections).toBe(0))
  })

  it('a URL function (async) is resolved before connecting, and queryParams are appended to what it gives', async () => {
    const seen: string[] = []
    echo.server.onConnection((connection) => seen.push(connection.request.url ?? ''))
    render(<Socket url={() => Promise.resolve(`${echo.server.url}/room?x=1`)} options={{ queryParams: { user: 7 } }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(seen).toEqual(['/room?x=1&user=7'])
  })

  it('queryParams: appended to a string URL', async () => {
    const seen: string[] = []
    echo.server.onConnection((connection) => seen.push(connection.request.url ?? ''))
    render(<Socket url={echo.server.url} options={{ queryParams: { user_id: 1, room: 'a b' } }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(seen).toEqual(['/?user_id=1&room=a+b'])
  })

  it('protocols: offered in the handshake; the socket reports the one chosen', async () => {
    const offered: string[] = []
    echo.server.onConnection((connection) => offered.push(String(connection.request.headers['sec-websocket-protocol'])))
    render(<Socket url={echo.server.url} options={{ protocols: ['chat', 'v2'] }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(offered).toEqual(['chat,v2'])
    expect(hook.getWebSocket()?.protocol).toBe('chat')
  })
})

describe('compat useWebSocket: callbacks and filter', () => {
  it('onOpen, onMessage (every message, a MessageEvent) and onClose (a CloseEvent) are called', async () => {
    const onOpen = vi.fn()
    const onClose = vi.fn()
    const messages: unknown[] = []
    render(
      <Socket url={echo.server.url} options={{ onOpen, onClose, onMessage: (event) => messages.push(event.data) }} />,
    )
    await waitFor(() => expect(onOpen).toHaveBeenCalledTimes(1))
    expect((onOpen.mock.calls[0]?.[0] as Event).type).toBe('open')
    act(() => {
      hook.sendMessage('a')
      hook.sendMessage('b')
    })
    await waitFor(() => expect(messages).toEqual(['a', 'b']))
    act(() => echo.server.closeAll(4000, 'bye'))
    await waitFor(() => expect(onClose).toHaveBeenCalledTimes(1))
    const event = onClose.mock.calls[0]?.[0] as CloseEvent
    expect([event.type, event.code, event.reason]).toEqual(['close', 4000, 'bye'])
  })

  it('onError: called with an error event carrying the typed LifelineError when the connection fails', async () => {
    await echo.server.kill()
    const onError = vi.fn()
    render(<Socket url={echo.server.url} options={{ onError }} />)
    await waitFor(() => expect(onError).toHaveBeenCalled())
    const event = onError.mock.calls[0]?.[0] as Event & { error: unknown }
    expect(event.type).toBe('error')
    expect(event.error).toBeInstanceOf(LifelineError)
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
  })

  it('onError is not called for a close, even one that ends the connection (onClose reports it, as react-use-websocket does)', async () => {
    const onError = vi.fn()
    const onClose = vi.fn()
    render(<Socket url={echo.server.url} options={{ onError, onClose }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => echo.server.closeAll(1000))
    await waitFor(() => expect(onClose).toHaveBeenCalledTimes(1))
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    expect(hook.client?.getSnapshot().lastError?.code).toBe('CONNECTION_CLOSED')
    expect(onError).not.toHaveBeenCalled()
  })

  it('a message that arrives after the previous one rendered is lastMessage at once (a test can send, then read it)', async () => {
    const fake = createFakeWebSocket()
    const options: Options = { lifeline: { environment: { WebSocket: fake.WebSocket } } }
    const history: unknown[] = []
    function Faked(): ReactNode {
      hook = useWebSocket('ws://127.0.0.1:1/mock', options)
      const data = hook.lastMessage?.data
      useEffect(() => {
        if (data !== undefined) history.push(data)
      }, [data])
      return null
    }
    render(<Faked />)
    act(() => fake.open())
    for (const text of ['Hello', 'There', 'Friend']) {
      act(() => fake.message(text))
      expect(hook.lastMessage?.data).toBe(text)
    }
    expect(history).toEqual(['Hello', 'There', 'Friend'])
  })

  it('filter: only messages it returns true for become lastMessage; onMessage still sees all', async () => {
    const seen: unknown[] = []
    const options: Options = {
      filter: (message) => typeof message.data === 'string' && message.data.startsWith('{'),
      onMessage: (message) => seen.push(message.data),
    }
    render(<Socket url={echo.server.url} options={options} />)
    act(() => hook.sendJsonMessage({ n: 1 }))
    act(() => hook.sendMessage('plain'))
    await waitFor(() => expect(seen).toEqual(['{"n":1}', 'plain']))
    await sleep(30)
    expect(last()).toBe('{"n":1}')
  })
})

describe('compat useWebSocket: reconnecting', () => {
  it('shouldReconnect absent: a close the client did not ask for is final', async () => {
    render(<Socket url={echo.server.url} options={{ reconnectInterval: 20 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => echo.server.closeAll(1011))
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    await sleep(150)
    expect(echo.server.totalConnections).toBe(1)
  })

  it('shouldReconnect: asked with the CloseEvent; true reconnects, after reconnectInterval', async () => {
    const shouldReconnect = vi.fn((event: CloseEvent) => event.code === 4000)
    render(<Socket url={echo.server.url} options={{ shouldReconnect, reconnectInterval: 20 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => echo.server.closeAll(4000))
    await waitFor(() => expect(echo.server.totalConnections).toBe(2))
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect((shouldReconnect.mock.calls[0]?.[0] as CloseEvent).code).toBe(4000)
    act(() => echo.server.closeAll(4999))
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    await sleep(100)
    expect(echo.server.totalConnections).toBe(2)
  })

  it('reconnectAttempts and onReconnectStop: that many reconnects, then the callback with the number', async () => {
    const onReconnectStop = vi.fn()
    render(
      <Socket
        url={echo.server.url}
        options={{ shouldReconnect: () => true, reconnectAttempts: 2, reconnectInterval: 10, onReconnectStop }}
      />,
    )
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    await act(() => echo.server.kill())
    await waitFor(() => expect(onReconnectStop).toHaveBeenCalledWith(2))
    expect(echo.constructed).toBe(3)
    expect(ready()).toBe(ReadyState.CLOSED)
  })

  it('reconnectInterval as a function: called with the attempt number, 0 first', async () => {
    const interval = vi.fn(() => 10)
    const onReconnectStop = vi.fn()
    render(
      <Socket
        url={echo.server.url}
        options={{ shouldReconnect: () => true, reconnectAttempts: 3, reconnectInterval: interval, onReconnectStop }}
      />,
    )
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    await act(() => echo.server.kill())
    await waitFor(() => expect(onReconnectStop).toHaveBeenCalled())
    expect(interval.mock.calls.map((call: unknown[]) => call[0])).toEqual([0, 1, 2])
  })

  it('reconnectInterval as a number: every wait is within its upper half (jittered, never longer)', async () => {
    const started = Date.now()
    render(<Socket url={echo.server.url} options={{ shouldReconnect: () => true, reconnectInterval: 200 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    const closedAt = Date.now()
    act(() => echo.server.closeAll(4000))
    await waitFor(() => expect(echo.server.totalConnections).toBe(2))
    const waited = Date.now() - closedAt
    expect(waited).toBeGreaterThanOrEqual(95)
    expect(waited).toBeLessThan(1000 + (closedAt - started))
  })

  it('retryOnError: reconnects after a close that followed an error, without shouldReconnect', async () => {
    render(<Socket url={echo.server.url} options={{ retryOnError: true, reconnectInterval: 20 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => echo.server.terminateAll())
    await waitFor(() => expect(echo.server.totalConnections).toBe(2))
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
  })

  it('a URL function that rejects: with retryOnError it is asked again until it resolves; onReconnectStop is not called', async () => {
    let refusals = 2
    const url = vi.fn(() =>
      refusals-- > 0 ? Promise.reject(new Error('no url yet')) : Promise.resolve(echo.server.url),
    )
    const onReconnectStop = vi.fn()
    render(
      <Socket
        url={url}
        options={{ retryOnError: true, reconnectAttempts: 3, reconnectInterval: 10, onReconnectStop }}
      />,
    )
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(url).toHaveBeenCalledTimes(3)
    expect(echo.server.totalConnections).toBe(1)
    expect(onReconnectStop).not.toHaveBeenCalled()
  })

  it.each([true, false])(
    'a URL function that keeps rejecting is retried under the backoff (retryOnError: %s), then onReconnectStop',
    async (retryOnError) => {
      // Deliberately not react-use-websocket's rule (no retry without retryOnError): a failure the client finds by
      // itself is retried (docs/migrating-from-react-use-websocket.md, "Reconnecting").
      const url = vi.fn(() => Promise.reject(new Error('no url')))
      const onReconnectStop = vi.fn()
      render(
        <Socket url={url} options={{ retryOnError, reconnectAttempts: 2, reconnectInterval: 10, onReconnectStop }} />,
      )
      await waitFor(() => expect(onReconnectStop).toHaveBeenCalledWith(2))
      expect(url).toHaveBeenCalledTimes(3)
      expect(ready()).toBe(ReadyState.CLOSED)
      await sleep(50)
      expect(url).toHaveBeenCalledTimes(3)
    },
  )

  it.each([true, false])(
    'retryOnError %s: an error event followed by a clean close (as mock servers send) reconnects only with it',
    async (retryOnError) => {
      const fake = createFakeWebSocket()
      const options: Options = {
        retryOnError,
        reconnectInterval: 10,
        lifeline: { environment: { WebSocket: fake.WebSocket } },
      }
      function Faked(): ReactNode {
        hook = useWebSocket('ws://127.0.0.1:1/mock', options)
        return null
      }
      render(<Faked />)
      act(() => fake.open())
      await waitFor(() => expect(hook.readyState).toBe(ReadyState.OPEN))
      act(() => {
        const socket = fake.last()
        socket.onerror?.({ type: 'error' } as Event)
        socket.serverClose(1000, '', true)
      })
      if (retryOnError) {
        await waitFor(() => expect(fake.sockets).toHaveLength(2))
        // The error was that link's: a clean close of the next one is final.
        act(() => fake.open())
        act(() => fake.close(1000))
      }
      await sleep(60)
      expect(fake.sockets).toHaveLength(retryOnError ? 2 : 1)
      expect(hook.readyState).toBe(ReadyState.CLOSED)
    },
  )

  it('without retryOnError an error close is final too', async () => {
    render(<Socket url={echo.server.url} options={{ reconnectInterval: 20 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => echo.server.terminateAll())
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    await sleep(100)
    expect(echo.server.totalConnections).toBe(1)
  })
})

describe('compat useWebSocket: heartbeat', () => {
  it('heartbeat { message, returnMessage, interval }: pings at the interval; the answer never becomes lastMessage', async () => {
    const seen: unknown[] = []
    const options: Options = {
      heartbeat: { message: 'ping', returnMessage: 'pong', interval: 30, timeout: 1000 },
      onMessage: (event) => seen.push(event.data),
    }
    render(<Socket url={echo.server.url} options={options} />)
    await waitFor(() =>
      expect(echo.server.received.filter((message) => message.data === 'ping').length).toBeGreaterThan(1),
    )
    act(() => hook.sendMessage('hello'))
    await waitFor(() => expect(last()).toBe('hello'))
    expect(seen).toEqual(['hello'])
  })

  it('heartbeat timeout: a server that never answers has its link replaced', async () => {
    const silent = await createEchoServer({ echo: false, pong: false })
    try {
      render(<Socket url={silent.url} options={{ heartbeat: { interval: 30, timeout: 60 }, reconnectInterval: 20 }} />)
      await waitFor(() => expect(silent.totalConnections).toBeGreaterThan(1), { timeout: 3000 })
    } finally {
      cleanup()
      await silent.close()
    }
  })

  it('heartbeat: any message from the server within the timeout keeps the link, not only the returnMessage', async () => {
    const chatty = await createEchoServer({ echo: false, pong: false })
    const timer = setInterval(() => chatty.send('news'), 20)
    try {
      const options: Options = {
        heartbeat: { returnMessage: 'pong', interval: 50, timeout: 300 },
        reconnectInterval: 20,
      }
      render(<Socket url={chatty.url} options={options} />)
      await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
      await act(() => sleep(700))
      expect(chatty.totalConnections).toBe(1)
      expect(ready()).toBe(ReadyState.OPEN)
      clearInterval(timer)
      await waitFor(() => expect(chatty.totalConnections).toBeGreaterThan(1), { timeout: 3000 })
    } finally {
      clearInterval(timer)
      cleanup()
      await chatty.close()
    }
  })

  it('heartbeat: true sends "ping" with react-use-websocket defaults (no ping within the first second)', async () => {
    render(<Socket url={echo.server.url} options={{ heartbeat: true }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    await sleep(200)
    expect(echo.server.received).toEqual([])
  })
})

describe('compat useWebSocket: sharing and lifecycle', () => {
  function Shared(props: { id: string }): ReactNode {
    const { lastMessage, readyState } = useWebSocket(echo.server.url, withWs({ share: true }))
    const data = lastMessage?.data
    return <span data-testid={props.id}>{`${readyState}:${typeof data === 'string' ? data : ''}`}</span>
  }

  it('share: components with the same URL use one socket and each sees the messages', async () => {
    render(
      <>
        <Shared id="a" />
        <Shared id="b" />
        <Socket url={echo.server.url} options={{ share: true }} />
      </>,
    )
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => hook.sendMessage('to all'))
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('1:to all'))
    expect(screen.getByTestId('b').textContent).toBe('1:to all')
    expect(echo.server.totalConnections).toBe(1)
    expect(echo.constructed).toBe(1)
  })

  it('share: each component keeps its own callbacks; a server close calls every onClose once, on one socket', async () => {
    const closes = [vi.fn(), vi.fn(), vi.fn()]
    const opens = [vi.fn(), vi.fn(), vi.fn()]
    function WithCallbacks(props: { index: number }): ReactNode {
      useWebSocket(
        echo.server.url,
        withWs({
          share: true,
          onOpen: (event) => opens[props.index]?.(event),
          onClose: (event) => closes[props.index]?.(event),
        }),
      )
      return null
    }
    render(
      <>
        <WithCallbacks index={0} />
        <WithCallbacks index={1} />
        <WithCallbacks index={2} />
      </>,
    )
    await waitFor(() => expect(echo.server.connections).toBe(1))
    await waitFor(() => {
      for (const open of opens) expect(open).toHaveBeenCalledTimes(1)
    })
    act(() => echo.server.closeAll(4000, 'bye'))
    await waitFor(() => {
      for (const close of closes) expect(close).toHaveBeenCalledTimes(1)
    })
    expect(echo.server.totalConnections).toBe(1)
  })

  it('share: a component that mounts after the shared socket closed for good opens it again, for every sharer', async () => {
    const view = render(<Shared id="a" />)
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('1:'))
    act(() => echo.server.closeAll(4000))
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('3:'))
    view.rerender(
      <>
        <Shared id="a" />
        <Shared id="b" />
      </>,
    )
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('1:'))
    expect(screen.getByTestId('a').textContent).toBe('1:')
    expect(echo.server.totalConnections).toBe(2)
  })

  it('resetGlobalState(url): the next component that shares opens its own socket', async () => {
    const view = render(<Shared id="a" />)
    await waitFor(() => expect(echo.server.connections).toBe(1))
    resetGlobalState(echo.server.url)
    view.rerender(
      <>
        <Shared id="a" />
        <Shared id="b" />
      </>,
    )
    await waitFor(() => expect(echo.server.totalConnections).toBe(2))
  })

  it('StrictMode: one socket, closed after unmount', async () => {
    const view = render(
      <StrictMode>
        <Socket url={echo.server.url} />
      </StrictMode>,
    )
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(echo.constructed).toBe(1)
    view.unmount()
    await waitFor(() => expect(echo.server.connections).toBe(0))
    expect(echo.server.totalConnections).toBe(1)
  })

  it('skipAssert is accepted (nothing to skip: the socket is never asserted)', async () => {
    render(<Socket url={echo.server.url} options={{ skipAssert: true }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
  })

  it("fromSocketIO: the socket.io URL, ping '2' whose answer '3' is never a message, raw frames as lastMessage", async () => {
    const engine = await createEchoServer({ pong: { ping: '2', pong: '3' } })
    try {
      const paths: string[] = []
      engine.onConnection((connection) => paths.push(connection.request.url ?? ''))
      const seen: unknown[] = []
      const options: Options = { fromSocketIO: true, heartbeat: { interval: 30 }, onMessage: (e) => seen.push(e.data) }
      render(<Socket url={engine.url} options={options} />)
      await waitFor(() => expect(engine.received.filter((message) => message.data === '2').length).toBeGreaterThan(1))
      expect(paths).toEqual(['/socket.io/?EIO=3&transport=websocket'])
      act(() => hook.sendMessage('42["chat",1]'))
      await waitFor(() => expect(last()).toBe('42["chat",1]'))
      expect(seen).toEqual(['42["chat",1]'])
    } finally {
      cleanup()
      await engine.close()
    }
  })

  it('fromSocketIO: a server that never answers the ping has its link replaced', async () => {
    const silent = await createEchoServer({ echo: false, pong: false })
    try {
      const options: Options = { fromSocketIO: true, heartbeat: { interval: 30, timeout: 60 }, reconnectInterval: 20 }
      render(<Socket url={silent.url} options={options} />)
      await waitFor(() => expect(silent.totalConnections).toBeGreaterThan(1), { timeout: 3000 })
    } finally {
      cleanup()
      await silent.close()
    }
  })
})
