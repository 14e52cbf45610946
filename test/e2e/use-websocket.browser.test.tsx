import { StrictMode } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { commands, page } from 'vitest/browser'
import { useWebSocket } from '../../src/react'

function Live(props: { url: string }) {
  const { status, lastMessage, send } = useWebSocket(props.url, { minDelayMs: 100, maxDelayMs: 400 })
  return (
    <div>
      <output data-testid="status">{status}</output>
      <output data-testid="last">{typeof lastMessage?.data === 'string' ? lastMessage.data : ''}</output>
      <button type="button" onClick={() => send('from chromium')}>
        send
      </button>
    </div>
  )
}

async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('useWebSocket in real Chromium', () => {
  let container: HTMLDivElement
  let root: Root
  const consoleErrors: unknown[] = []

  beforeEach(async () => {
    consoleErrors.length = 0
    vi.spyOn(console, 'error').mockImplementation((...args) => consoleErrors.push(args))
    container = document.createElement('div')
    document.body.append(container)
    root = createRoot(container)
    await until(async () => (await commands.echoStats()).connections === 0)
  })

  afterEach(() => {
    container.remove()
    vi.restoreAllMocks()
  })

  it('opens exactly one server connection in StrictMode, survives a server restart, and leaves none after unmount', async () => {
    const url = inject('echoUrl')
    const before = (await commands.echoStats()).totalConnections
    root.render(
      <StrictMode>
        <Live url={url} />
      </StrictMode>,
    )
    const status = page.getByTestId('status')
    await expect.element(status).toHaveTextContent('open')
    expect(await commands.echoStats()).toEqual({ connections: 1, totalConnections: before + 1 })

    await page.getByRole('button', { name: 'send' }).click()
    await expect.element(page.getByTestId('last')).toHaveTextContent('from chromium')

    await commands.echoKill()
    await expect.element(status).toHaveTextContent(/reconnecting|connecting/)
    await commands.echoRestart()
    await expect.element(status).toHaveTextContent('open', { timeout: 5000 } as never)
    expect((await commands.echoStats()).connections).toBe(1)

    root.unmount()
    await until(async () => (await commands.echoStats()).connections === 0)
    expect(consoleErrors).toEqual([])
  })
})
