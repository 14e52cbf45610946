import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { createEchoServer } from '../../src/testing'
import { LifelineProvider, useConnection, useOutbox, useWebSocket, useChannel } from '../../src/react'

describe('server rendering', () => {
  it('renders idle without touching window or opening a socket', async () => {
    const server = await createEchoServer()
    try {
      expect(typeof window).toBe('undefined')
      function View() {
        const { status, online } = useWebSocket(server.url)
        return <p>{`${status} ${online}`}</p>
      }
      expect(renderToString(<View />)).toBe('<p>idle true</p>')
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(server.totalConnections).toBe(0)
    } finally {
      await server.close()
    }
  })

  it('renders the idle snapshot for every hook under a provider that creates its client in the browser', () => {
    function View() {
      const { status, client } = useWebSocket()
      const attempt = useConnection((snapshot) => snapshot.attempt)
      const { items } = useOutbox()
      const { messages, status: channel } = useChannel('news')
      return <p>{`${status} ${attempt} ${items.length} ${messages.length} ${channel} ${String(client)}`}</p>
    }
    const html = renderToString(
      <LifelineProvider url="wss://example.com/socket" protocol="lifeline">
        <View />
      </LifelineProvider>,
    )
    expect(html).toBe('<p>idle 0 0 0 pending null</p>')
  })

  it('actions called while server rendering throw MISSING_PROVIDER', () => {
    let caught: unknown
    function View() {
      const { send } = useWebSocket()
      try {
        send('x')
      } catch (error) {
        caught = error
      }
      return null
    }
    renderToString(
      <LifelineProvider url="wss://example.com/socket">
        <View />
      </LifelineProvider>,
    )
    expect(caught).toMatchObject({ code: 'MISSING_PROVIDER' })
  })

  it('imports every entry without a DOM', async () => {
    const entry = await import('../../src/index')
    expect(typeof entry.useWebSocket).toBe('function')
    expect(typeof entry.createLifeline).toBe('function')
  })
})
