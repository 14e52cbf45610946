import { useState } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { inject } from 'vitest'
import { page, userEvent } from 'vitest/browser'

function Counter({ label }: { label: string }) {
  const [count, setCount] = useState(0)
  return (
    <button type="button" onClick={() => setCount((previous) => previous + 1)}>
      {label}: {count}
    </button>
  )
}

describe('browser project smoke', () => {
  let container: HTMLDivElement
  let root: Root

  beforeEach(() => {
    container = document.createElement('div')
    document.body.append(container)
    root = createRoot(container)
  })

  // Real browser events update React outside act(); expect.element() retries until the DOM settles instead.
  afterEach(() => {
    root.unmount()
    container.remove()
  })

  it('runs in real Chromium with native WebSocket', () => {
    expect(navigator.userAgent).toMatch(/Chrome\//)
    expect(typeof WebSocket).toBe('function')
    expect(typeof CloseEvent).toBe('function')
  })

  it('sees the value provided by the global setup', () => {
    expect(inject('e2eGlobalSetup').startedAt).toBeLessThanOrEqual(Date.now())
  })

  it('renders a React component and reacts to a real click', async () => {
    root.render(<Counter label="Clicks" />)
    const button = page.getByRole('button', { name: 'Clicks: 0' })
    await expect.element(button).toBeVisible()

    await userEvent.click(button)

    await expect.element(page.getByRole('button', { name: 'Clicks: 1' })).toBeVisible()
  })
})
