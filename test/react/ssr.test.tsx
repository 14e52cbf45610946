import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { createEchoServer } from '../../src/testing'
import { useWebSocket } from '../../src/react'

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

  it('imports every entry without a DOM', async () => {
    const entry = await import('../../src/index')
    expect(typeof entry.useWebSocket).toBe('function')
    expect(typeof entry.createLifeline).toBe('function')
  })
})
