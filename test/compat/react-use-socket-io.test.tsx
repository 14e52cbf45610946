// @vitest-environment jsdom
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StrictMode, useEffect, useState, type ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { appendQueryParams, parseSocketIOUrl } from 'react-use-websocket/dist/lib/socket-io'
import { Server as SocketIOServer, type Socket } from 'socket.io'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import useWebSocket, {
  ReadyState,
  useSocketIO,
  type Options,
  type SocketIOHook,
  type SocketIOMessageData,
} from '../../src/compat/react-use-websocket'
import { clientOptions, clientUrl } from '../../src/compat/ruw-options'
import { socketIOMessage, socketIOUrl } from '../../src/compat/socket-io'
import type { HeartbeatOptions, WebSocketConstructor } from '../../src/core'

// react-use-websocket's useSocketIO against a real socket.io 4 server speaking Engine.IO 3 (allowEIO3), as
// react-use-websocket's client does: `ws` underneath, the server on 127.0.0.1, port 0.

const WebSocket = NodeWebSocket as unknown as WebSocketConstructor
const PATH = '/socket.io/?EIO=3&transport=websocket'

interface IoServer {
  io: SocketIOServer
  port: number
  url: string
  /** Sockets connected so far. */
  sockets: Socket[]
}

async function startIo(port = 0): Promise<IoServer> {
  const http: HttpServer = createServer()
  const io = new SocketIOServer(http, { allowEIO3: true, transports: ['websocket'] })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (http.address() as AddressInfo).port
  const server: IoServer = { io, port: bound, url: `http://127.0.0.1:${String(bound)}`, sockets: [] }
  io.on('connection', (socket) => {
    server.sockets.push(socket)
    socket.on('echo', (value: unknown) => socket.emit('echoed', value))
    socket.on('burst', (count: number) => {
      for (let index = 0; index < count; index++) socket.emit('n', index)
    })
  })
  return server
}

let server: IoServer
const errors: unknown[] = []

beforeEach(async () => {
  server = await startIo()
  errors.length = 0
  vi.spyOn(console, 'error').mockImplementation((...args) => errors.push(args))
})
afterEach(async () => {
  cleanup()
  await server.io.close()
  vi.restoreAllMocks()
  expect(errors).toEqual([])
})

const withWs = (options: Options = {}): Options => ({
  ...options,
  lifeline: { ...options.lifeline, environment: { WebSocket, ...options.lifeline?.environment } },
})

let hook: SocketIOHook
let history: SocketIOMessageData[] = []
/** react-use-websocket's README pattern: every lastMessage added to a history (the empty event left out). */
function Io(props: { url: string | null; options?: Options }): ReactNode {
  hook = useSocketIO(props.url, withWs(props.options))
  const { lastMessage } = hook
  const [seen, setSeen] = useState<SocketIOMessageData[]>([])
  useEffect(() => {
    if (lastMessage.type !== 'empty') setSeen((previous) => [...previous, lastMessage])
  }, [lastMessage])
  history = seen
  return (
    <div>
      <span data-testid="ready">{hook.readyState}</span>
      <span data-testid="count">{seen.length}</span>
    </div>
  )
}
const ready = () => Number(screen.getByTestId('ready').textContent)
const emitted = (type: string) => history.filter((message) => message.type === type).map((message) => message.payload)

describe('socketIOUrl', () => {
  it.each([
    ['http://example.com', `ws://example.com${PATH}`],
    ['https://example.com/', `wss://example.com${PATH}`],
    ['ws://localhost:3000', `ws://localhost:3000${PATH}`],
    ['wss://example.com/chat/', `wss://example.com/chat${PATH}`],
    ['example.com:8080', `ws://example.com:8080${PATH}`],
  ])('%s becomes %s, as react-use-websocket makes it', (url, expected) => {
    expect(socketIOUrl(url)).toBe(expected)
    expect(parseSocketIOUrl(url)).toBe(expected)
  })

  it("'' is the socket.io path on the page's host (resolved by the client against its location)", () => {
    expect(socketIOUrl('')).toBe(PATH)
  })

  it('queryParams come after the socket.io query, as react-use-websocket appends them', async () => {
    const options = { fromSocketIO: true, queryParams: { user: 7, room: 'a' } }
    const expected = appendQueryParams(parseSocketIOUrl('https://example.com'), options.queryParams)
    expect(clientUrl('https://example.com', true, options)).toBe(expected)
    expect(expected).toBe(`wss://example.com${PATH}&user=7&room=a`)
    const resolve = clientUrl(() => Promise.resolve('https://example.com'), true, options)
    expect(typeof resolve === 'function' ? await resolve() : resolve).toBe(expected)
  })

  it('without fromSocketIO the URL is left as it is', () => {
    expect(clientUrl('ws://example.com/x', true, { queryParams: { a: 1 } })).toBe('ws://example.com/x?a=1')
  })
})

describe('socketIOMessage', () => {
  const empty = { type: 'empty', payload: null }
  it.each<[string, unknown, unknown]>([
    ['an event', '42["chat",{"text":"hi"}]', { type: 'chat', payload: { text: 'hi' } }],
    ['an event of a namespace', '42/admin,["chat",1]', { type: 'chat', payload: 1 }],
    ['a falsy payload', '42["count",0]', { type: 'count', payload: 0 }],
    ['an event without payload', '42["bare"]', empty],
    ['the pong', '3', empty],
    ['the connect packet', '40', empty],
    ['the open packet', '0{"sid":"a","upgrades":[],"pingInterval":25000}', empty],
    ['a malformed frame (react-use-websocket throws)', '42["chat",{"text":', empty],
    ['a malformed array', '42["chat",}]', empty],
    ['a frame nested past 64 levels', `42["deep",${'['.repeat(70)}${']'.repeat(70)}]`, empty],
    ['a type that is not a string', '42[1,2]', empty],
    ['binary data', new ArrayBuffer(2), empty],
    ['no message', undefined, empty],
  ])('%s', (_name, data, expected) => {
    expect(socketIOMessage(data)).toEqual(expected)
  })
})

describe('clientOptions with fromSocketIO', () => {
  it("pings '2' every 25 s, takes '3' for the pong and times out after 20 s", () => {
    const heartbeat = clientOptions({ fromSocketIO: true }).heartbeat as HeartbeatOptions
    expect({ ...heartbeat, isPong: undefined }).toEqual({
      message: '2',
      intervalMs: 25_000,
      timeoutMs: 20_000,
      isPong: undefined,
    })
    expect([heartbeat.isPong?.('3'), heartbeat.isPong?.('2'), heartbeat.isPong?.('pong')]).toEqual([true, false, false])
  })

  it("heartbeat's interval and timeout tune the socket.io ping; message and returnMessage stay Engine.IO's", () => {
    const options: Options = { fromSocketIO: true, heartbeat: { interval: 1000, timeout: 500, message: 'ping' } }
    const heartbeat = clientOptions(options).heartbeat as HeartbeatOptions
    expect([heartbeat.message, heartbeat.intervalMs, heartbeat.timeoutMs]).toEqual(['2', 1000, 500])
  })
})

describe('compat useSocketIO against a socket.io server', () => {
  it('lastMessage and lastJsonMessage: the empty event, then { type, payload } of what the server emits', async () => {
    server.io.on('connection', (socket) => socket.emit('chat', { text: 'hello' }))
    render(<Io url={server.url} />)
    expect(hook.lastMessage).toEqual({ type: 'empty', payload: null })
    expect(ready()).toBe(ReadyState.CONNECTING)
    await waitFor(() => expect(emitted('chat')).toEqual([{ text: 'hello' }]))
    expect(hook.lastMessage).toEqual({ type: 'chat', payload: { text: 'hello' } })
    expect(hook.lastJsonMessage).toBe(hook.lastMessage)
    expect(ready()).toBe(ReadyState.OPEN)
  })

  it('sendMessage(\'42["echo",{"n":1}]\') reaches socket.on("echo") and its reply comes back', async () => {
    const received: unknown[] = []
    server.io.on('connection', (socket) => socket.on('echo', (value: unknown) => received.push(value)))
    render(<Io url={server.url} />)
    act(() => hook.sendMessage('42["echo",{"n":1}]'))
    await waitFor(() => expect(emitted('echoed')).toEqual([{ n: 1 }]))
    expect(received).toEqual([{ n: 1 }])
  })

  it("pings '2' at the interval, the server answers '3', and '3' is never a message", async () => {
    const pings: number[] = []
    server.io.on('connection', (socket) => socket.conn.on('heartbeat', () => pings.push(Date.now())))
    const raw: unknown[] = []
    const options: Options = { heartbeat: { interval: 30 }, onMessage: (event) => raw.push(event.data) }
    render(<Io url={server.url} options={options} />)
    await waitFor(() => expect(pings.length).toBeGreaterThanOrEqual(3))
    await waitFor(() => expect(hook.client?.getSnapshot().latencyMs).not.toBeNull())
    act(() => hook.sendMessage('42["echo","after pings"]'))
    await waitFor(() => expect(emitted('echoed')).toEqual(['after pings']))
    expect(raw).not.toContain('3')
    expect(raw).toContain('42["echoed","after pings"]')
    expect(server.sockets.length).toBe(1)
  })

  it('a malformed frame becomes the empty event without a throw; the next event still arrives', async () => {
    render(<Io url={server.url} />)
    await waitFor(() => expect(server.sockets.length).toBe(1))
    // An Engine.IO message packet whose socket.io payload is broken JSON: '42["chat",{"text":'.
    act(() => server.sockets[0]?.conn.send('2["chat",{"text":'))
    await waitFor(() => expect(hook.lastMessage).toEqual({ type: 'empty', payload: null }))
    act(() => hook.sendMessage('42["echo","still here"]'))
    await waitFor(() => expect(emitted('echoed')).toEqual(['still here']))
    expect(emitted('chat')).toEqual([])
  })

  it('every event of a burst of 500 renders once: the lastMessage history is complete and in order', async () => {
    render(<Io url={server.url} />)
    act(() => hook.sendMessage('42["burst",500]'))
    await waitFor(() => expect(emitted('n').length).toBe(500), { timeout: 20_000 })
    expect(emitted('n')).toEqual(Array.from({ length: 500 }, (_, index) => index))
  }, 30_000)

  it('the server disconnects the socket: with shouldReconnect it reconnects and events flow again', async () => {
    render(<Io url={server.url} options={{ shouldReconnect: () => true, reconnectInterval: 40 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => void server.sockets[0]?.disconnect(true))
    await waitFor(() => expect(server.sockets.length).toBe(2))
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => hook.sendMessage('42["echo","again"]'))
    await waitFor(() => expect(emitted('echoed')).toEqual(['again']))
  })

  it('the server is closed and restarted on the same port: it reconnects and events flow again', async () => {
    render(<Io url={server.url} options={{ shouldReconnect: () => true, reconnectInterval: 40 }} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    await act(() => server.io.close())
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    server = await startIo(server.port)
    await waitFor(() => expect(server.sockets.length).toBe(1), { timeout: 5000 })
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    act(() => hook.sendMessage('42["echo","restarted"]'))
    await waitFor(() => expect(emitted('echoed')).toEqual(['restarted']))
  })

  it('readyState: UNINSTANTIATED without a URL, CONNECTING, OPEN, CLOSED when the server goes (no reconnect)', async () => {
    const view = render(<Io url={null} />)
    expect(ready()).toBe(ReadyState.UNINSTANTIATED)
    view.rerender(<Io url={server.url} />)
    expect(ready()).toBe(ReadyState.CONNECTING)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(hook.getWebSocket()?.readyState).toBe(1)
    await act(() => server.io.close())
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
  })

  it("queryParams reach the server's handshake query, after EIO=3 and transport=websocket", async () => {
    render(<Io url={server.url} options={{ queryParams: { user: 7, room: 'lobby' } }} />)
    await waitFor(() => expect(server.sockets.length).toBe(1))
    expect(server.sockets[0]?.handshake.query).toEqual({ EIO: '3', transport: 'websocket', user: '7', room: 'lobby' })
  })

  it("'' connects to the page's host", async () => {
    const location = { href: `http://127.0.0.1:${String(server.port)}/app/page`, protocol: 'http:' }
    render(<Io url="" options={{ lifeline: { environment: { location } } }} />)
    await waitFor(() => expect(server.sockets.length).toBe(1))
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
  })

  it('StrictMode: one socket.io connection, closed after unmount', async () => {
    const view = render(
      <StrictMode>
        <Io url={server.url} />
      </StrictMode>,
    )
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    expect(server.io.engine.clientsCount).toBe(1)
    view.unmount()
    await waitFor(() => expect(server.io.engine.clientsCount).toBe(0))
    expect(server.sockets.length).toBe(1)
  })
})

describe('compat useWebSocket with fromSocketIO: true', () => {
  it('connects to the socket.io URL and gives raw frames as lastMessage, as react-use-websocket does', async () => {
    let last: MessageEvent | null = null
    function Plain(): ReactNode {
      last = useWebSocket(server.url, withWs({ fromSocketIO: true })).lastMessage
      return null
    }
    render(<Plain />)
    await waitFor(() => expect(server.sockets.length).toBe(1))
    act(() => void server.sockets[0]?.emit('chat', 'raw'))
    await waitFor(() => expect((last as MessageEvent | null)?.data).toBe('42["chat","raw"]'))
  })
})
