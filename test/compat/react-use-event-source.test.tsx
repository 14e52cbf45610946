// @vitest-environment jsdom
import { useEffect, useState, type ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import useCompatWebSocket, {
  ReadyState,
  useEventSource as useCompatEventSource,
  type EventSourceHook,
  type EventSourceOptions,
} from '../../src/compat/react-use-websocket'
import { ConnectionBanner } from '../../src/components'
import { useEventSource, type UseEventSourceResult } from '../../src/react'
import { closeSseServers, sseServer, stream } from '../integration/sse-server'

const errors: unknown[] = []
beforeEach(() => {
  errors.length = 0
  vi.spyOn(console, 'error').mockImplementation((...args) => errors.push(args))
})
afterEach(async () => {
  cleanup()
  await closeSseServers()
  vi.restoreAllMocks()
  expect(errors).toEqual([])
})

let hook: EventSourceHook
function Compat(props: { url: string | null; options?: EventSourceOptions; connect?: boolean }): ReactNode {
  hook = useCompatEventSource(props.url, props.options, props.connect)
  return <span data-testid="ready">{hook.readyState}</span>
}
const ready = () => Number(screen.getByTestId('ready').textContent)

describe('compat useEventSource (react-use-websocket’s, on the event-stream transport)', () => {
  it('readyState CONNECTING → OPEN; lastEvent is a MessageEvent with type, data and lastEventId; getEventSource is null', async () => {
    const { url } = await sseServer(({ response }) => {
      stream(response)
      response.write('id: 7\nevent: update\ndata: {"n":1}\n\n')
    })
    render(<Compat url={url} />)
    expect(ready()).toBe(ReadyState.CONNECTING)
    await waitFor(() => expect(hook.lastEvent?.data).toBe('{"n":1}'))
    expect(ready()).toBe(ReadyState.OPEN)
    expect(hook.lastEvent).toBeInstanceOf(MessageEvent)
    expect(hook.lastEvent).toMatchObject({ type: 'update', lastEventId: '7' })
    expect(hook.getEventSource()).toBeNull()
    expect(hook.client?.getSnapshot().transport).toBe('sse')
  })

  it('events: each handler gets every event of its type, in order; a `constructor` event reaches no prototype', async () => {
    const { url } = await sseServer(({ response }) => {
      stream(response)
      for (let n = 1; n <= 50; n++) response.write(`event: ${n % 2 ? 'odd' : 'even'}\ndata: ${n}\n\n`)
      response.write('event: constructor\ndata: x\n\n')
    })
    const odd: string[] = []
    const even: string[] = []
    const events = {
      odd: (event: MessageEvent) => odd.push(event.data as string),
      even: (event: MessageEvent) => even.push(event.data as string),
    }
    render(<Compat url={url} options={{ events }} />)
    await waitFor(() => expect(hook.lastEvent?.type).toBe('constructor'))
    expect(odd).toEqual(Array.from({ length: 25 }, (_, index) => String(index * 2 + 1)))
    expect(even).toEqual(Array.from({ length: 25 }, (_, index) => String(index * 2 + 2)))
  })

  it('every event renders once: a lastEvent history effect loses none of a 2,000-event burst', async () => {
    const { url } = await sseServer(({ response }) => {
      stream(response)
      let chunk = ''
      for (let n = 1; n <= 2000; n++) chunk += `id: ${n}\ndata: ${n}\n\n`
      response.write(chunk)
    })
    let history: string[] = []
    function App(): ReactNode {
      const { lastEvent } = useCompatEventSource(url)
      const [seen, setSeen] = useState<string[]>([])
      useEffect(() => {
        if (lastEvent) setSeen((list) => [...list, lastEvent.data as string])
      }, [lastEvent])
      history = seen
      return null
    }
    render(<App />)
    await waitFor(() => expect(history).toHaveLength(2000), { timeout: 15_000 })
    expect(history).toEqual(Array.from({ length: 2000 }, (_, index) => String(index + 1)))
  }, 20_000)

  it('no reconnect by default (react-use-websocket’s rule); with shouldReconnect it resumes with Last-Event-ID', async () => {
    const once = await sseServer(({ response }) => {
      stream(response)
      response.write('id: 1\ndata: a\n\n')
      setTimeout(() => response.end(), 20)
    })
    render(<Compat url={once.url} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.CLOSED))
    await act(() => new Promise((resolve) => setTimeout(resolve, 200)))
    expect(once.requests).toHaveLength(1)
    cleanup()

    const healing = await sseServer(({ response, headers }, index) => {
      stream(response)
      response.write(`id: ${index + 1}\ndata: ${String(headers['last-event-id'] ?? 'none')}\n\n`)
      if (index === 0) setTimeout(() => response.socket?.destroy(), 20)
    })
    const onClose = vi.fn()
    const onOpen = vi.fn()
    render(
      <Compat url={healing.url} options={{ shouldReconnect: () => true, reconnectInterval: 50, onOpen, onClose }} />,
    )
    await waitFor(() => expect(hook.lastEvent?.data).toBe('1'))
    expect(healing.requests[1]?.headers['last-event-id']).toBe('1')
    expect(onOpen).toHaveBeenCalledTimes(2)
    expect(onClose).toHaveBeenCalledTimes(1)
    expect(onClose.mock.calls[0]?.[0]).toMatchObject({ code: 1006, wasClean: false })
  })

  it('onReconnectStop after reconnectAttempts refusals; the client drives <ConnectionBanner>', async () => {
    const { url, requests } = await sseServer(({ response }) => void response.writeHead(502).end())
    const onReconnectStop = vi.fn()
    function App(): ReactNode {
      const { client } = useCompatEventSource(url, {
        shouldReconnect: () => true,
        reconnectAttempts: 2,
        reconnectInterval: 20,
        onReconnectStop,
      })
      return <ConnectionBanner client={client ?? undefined} showAfterMs={0} />
    }
    render(<App />)
    await waitFor(() => expect(onReconnectStop).toHaveBeenCalledWith(2))
    expect(requests).toHaveLength(3)
    expect(screen.getByRole('alert').textContent).toMatch(/./)
  })
})

let result: UseEventSourceResult<{ n: number }>
function Stream(props: { url: string; events?: string[]; share?: boolean }): ReactNode {
  result = useEventSource<{ n: number }>(props.url, {
    ...(props.events && { events: props.events }),
    ...(props.share && { share: true }),
    minDelayMs: 20,
  })
  return <span data-testid="status">{result.status}</span>
}

describe('useEventSource (our API)', () => {
  it('status, lastMessage with type and id, lastJsonMessage; no send; `events` picks what becomes a message', async () => {
    const { url } = await sseServer(({ response }) => {
      stream(response)
      response.write('id: a1\nevent: tick\ndata: {"n":1}\n\nevent: noise\ndata: {"n":0}\n\n')
    })
    render(<Stream url={url} events={['tick']} />)
    await waitFor(() => expect(result.lastJsonMessage).toEqual({ n: 1 }))
    // The `noise` event after it never becomes the message.
    await act(() => new Promise((resolve) => setTimeout(resolve, 100)))
    expect(result.lastJsonMessage).toEqual({ n: 1 })
    expect(screen.getByTestId('status').textContent).toBe('open')
    expect(result.lastMessage).toMatchObject({ type: 'tick', lastEventId: 'a1' })
    expect(result).not.toHaveProperty('send')
    expect(result.transport).toBe('sse')
  })

  it('onGap: called once for each reconnect the server could not resume, not for one it resumed', async () => {
    const { url, requests } = await sseServer(({ response }, index) => {
      stream(response)
      const resumed = index === 2
      if (index > 0) response.write(`event: lifeline:subscribed\ndata: {"resumed":${String(resumed)}}\n\n`)
      response.write(`id: e:${index + 1}\ndata: {"n":${index + 1}}\n\n`)
      if (index < 2) setTimeout(() => response.socket?.destroy(), 30)
    })
    const onGap = vi.fn()
    function Gaps(): ReactNode {
      result = useEventSource<{ n: number }>(url, { onGap, minDelayMs: 20, maxDelayMs: 40 })
      return null
    }
    render(<Gaps />)
    await waitFor(() => expect(result.lastJsonMessage).toEqual({ n: 3 }))
    expect(requests.map((request) => request.headers['last-event-id'])).toEqual([undefined, 'e:1', 'e:2'])
    expect(onGap).toHaveBeenCalledTimes(1)
    expect(result.session.resumed).toBe(true)
  })

  it('share: many components on one URL read one stream', async () => {
    const { url, requests } = await sseServer(({ response }) => {
      stream(response)
      response.write('data: {"n":2}\n\n')
    })
    render(
      <>
        {Array.from({ length: 20 }, (_, index) => (
          <Stream key={index} url={url} share />
        ))}
      </>,
    )
    await waitFor(() => expect(result.lastJsonMessage).toEqual({ n: 2 }))
    expect(requests).toHaveLength(1)
  })

  it('compat useWebSocket with eventSourceOptions throws NOT_SUPPORTED naming useEventSource (no WebSocket opened)', async () => {
    const { url, requests } = await sseServer(({ response }) => stream(response))
    const thrown: unknown[] = []
    function App(): ReactNode {
      try {
        useCompatWebSocket(url, { eventSourceOptions: { withCredentials: true } })
      } catch (error) {
        thrown.push(error)
      }
      return null
    }
    render(<App />)
    expect(thrown[0]).toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining('useEventSource') })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(requests).toHaveLength(0)
  })
})
