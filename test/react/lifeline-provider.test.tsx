// @vitest-environment jsdom
import { StrictMode, type ReactNode } from 'react'
import { cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { createTestServer, type TestServer } from '../../src/testing'
import type { WebSocketConstructor } from '../../src/core'
import { Boundary } from './support'
import { LifelineProvider, useChannel, useLifelineClient, type LifelineProviderProps } from '../../src/react'

// The provider's serialisable shorthands (what a React Server Component can pass): `protocol="lifeline"` builds the
// lifeline protocol in the browser, so a layout never has to call lifelineProtocol() on the server.

const environment = { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined }
let server: TestServer
const consoleErrors: unknown[][] = []

beforeEach(async () => {
  server = await createTestServer()
  consoleErrors.length = 0
  vi.spyOn(console, 'error').mockImplementation((...args) => consoleErrors.push(args))
})
afterEach(async () => {
  cleanup()
  await server.close()
  vi.restoreAllMocks()
})

function Feed(): ReactNode {
  const client = useLifelineClient()
  const { messages, status } = useChannel<{ text: string }>('news')
  return (
    <div>
      <span data-testid="protocol">{client.protocol.name}</span>
      <span data-testid="status">{status}</span>
      <span data-testid="texts">{messages.map((message) => message.data.text).join(',')}</span>
    </div>
  )
}

const text = (id: string) => screen.getByTestId(id).textContent

async function expectChannelWorks(): Promise<void> {
  await waitFor(() => expect(text('status')).toBe('subscribed'))
  await server.publish('news', { text: 'hello' })
  await waitFor(() => expect(text('texts')).toBe('hello'))
  expect(text('protocol')).toBe('lifeline')
  expect(server.totalConnections).toBe(1)
}

describe('LifelineProvider serialisable props', () => {
  it('protocol="lifeline" speaks the lifeline protocol: useChannel receives, one connection in StrictMode', async () => {
    render(
      <StrictMode>
        <LifelineProvider url={server.url} protocol="lifeline" options={{ environment }}>
          <Feed />
        </LifelineProvider>
      </StrictMode>,
    )
    await expectChannelWorks()
    expect(consoleErrors).toEqual([])
  })

  it("options.protocol accepts the name 'lifeline' too", async () => {
    render(
      <LifelineProvider url={server.url} options={{ protocol: 'lifeline', environment }}>
        <Feed />
      </LifelineProvider>,
    )
    await expectChannelWorks()
  })

  it('protocol="raw" is the default raw protocol (useChannel refuses it with WRONG_PROTOCOL)', () => {
    render(
      <Boundary>
        <LifelineProvider url={server.url} protocol="raw" options={{ environment }}>
          <Feed />
        </LifelineProvider>
      </Boundary>,
    )
    expect(text('caught')).toBe('WRONG_PROTOCOL')
  })

  it('the protocol prop wins over options.protocol', async () => {
    render(
      <LifelineProvider url={server.url} protocol="lifeline" options={{ protocol: 'raw', environment }}>
        <Feed />
      </LifelineProvider>,
    )
    await expectChannelWorks()
  })

  it('an unknown protocol name is INVALID_OPTIONS naming the field', () => {
    const props = { url: server.url, protocol: 'json', options: { environment } } as unknown as LifelineProviderProps
    render(
      <Boundary>
        <LifelineProvider {...props}>
          <Feed />
        </LifelineProvider>
      </Boundary>,
    )
    expect(text('caught')).toBe('INVALID_OPTIONS')
    expect(screen.getByTestId('caught').title).toMatch(/^protocol must be 'raw', 'lifeline' or a Protocol instance/)
  })
})
