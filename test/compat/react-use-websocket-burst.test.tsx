// @vitest-environment jsdom
import { useEffect, useState, type ReactNode } from 'react'
import { render, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import useWebSocket, { ReadyState, type Options } from '../../src/compat/react-use-websocket'
import { setUpEchoHarness } from '../react/echo-harness'

// The compat entry renders once per message, as react-use-websocket does: the history pattern of its README must not
// lose a message of a burst (and must not trip React's nested-update limit, which console.error would show).

const echo = setUpEchoHarness()
const { WebSocket } = echo

const withWs = (options: Options = {}): Options => ({ ...options, lifeline: { environment: { WebSocket } } })

function Socket(props: { url: string }): ReactNode {
  const { lastMessage, readyState } = useWebSocket(props.url, withWs())
  const data = lastMessage?.data
  return (
    <div>
      <span data-testid="ready">{readyState}</span>
      <span data-testid="last">{typeof data === 'string' ? data : ''}</span>
    </div>
  )
}
const ready = () => Number(screen.getByTestId('ready').textContent)
const last = () => screen.getByTestId('last').textContent

/** The pattern react-use-websocket's README shows: every lastMessage appended to a history. */
function History(props: { url: string; options?: Options; onHistory: (history: unknown[]) => void }): ReactNode {
  const { lastMessage } = useWebSocket(props.url, withWs(props.options))
  const [history, setHistory] = useState<unknown[]>([])
  useEffect(() => {
    if (lastMessage !== null) setHistory((previous) => [...previous, lastMessage.data])
  }, [lastMessage])
  props.onHistory(history)
  return <span data-testid="count">{history.length}</span>
}

describe('compat useWebSocket: every message through lastMessage', () => {
  const COUNT = 10_000

  it(`a burst of ${String(COUNT)} messages reaches a lastMessage history complete and in order`, async () => {
    let history: unknown[] = []
    render(<History url={echo.server.url} onHistory={(next) => (history = next)} />)
    await waitFor(() => expect(echo.server.connections).toBe(1))
    const started = performance.now()
    for (let index = 0; index < COUNT; index++) echo.server.send(String(index))
    await waitFor(() => expect(history.length).toBe(COUNT), { timeout: 60_000 })
    const elapsed = performance.now() - started
    expect(history).toEqual(Array.from({ length: COUNT }, (_, index) => String(index)))
    console.info(`compat burst: ${String(COUNT)} messages, one render each, in ${elapsed.toFixed(0)} ms`)
  }, 90_000)

  it('a burst with no effect on lastMessage ends on the last message, without nested-update warnings', async () => {
    render(<Socket url={echo.server.url} />)
    await waitFor(() => expect(ready()).toBe(ReadyState.OPEN))
    for (let index = 0; index < 1000; index++) echo.server.send(String(index))
    await waitFor(() => expect(last()).toBe('999'), { timeout: 20_000 })
  }, 30_000)

  it('batch: true lets React batch a burst (fewer renders than messages); the last message still shows', async () => {
    let history: unknown[] = []
    render(<History url={echo.server.url} options={{ batch: true }} onHistory={(next) => (history = next)} />)
    await waitFor(() => expect(echo.server.connections).toBe(1))
    for (let index = 0; index < COUNT; index++) echo.server.send(String(index))
    await waitFor(() => expect(history.at(-1)).toBe(String(COUNT - 1)), { timeout: 30_000 })
    expect(history.length).toBeLessThan(COUNT)
  }, 60_000)
})
