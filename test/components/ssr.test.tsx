import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../../src/components'
import { LifelineProvider } from '../../src/react'

describe('components during server rendering', () => {
  it('render their empty roots under a provider that creates its client on mount, without throwing', () => {
    expect(typeof window).toBe('undefined')
    const html = renderToString(
      <LifelineProvider url="ws://127.0.0.1:9/socket">
        <ConnectionBanner />
        <ReconnectCountdown />
        <OfflineQueue />
      </LifelineProvider>,
    )
    expect(html).toContain('data-lifeline="banner" data-state="hidden"')
    expect(html).toContain('data-lifeline="countdown" data-state="inactive"')
    expect(html).toContain('data-lifeline="queue" data-state="empty"')
    expect(html).not.toContain('<button')
    // The live regions are in the server HTML, empty, so they exist before any text arrives after hydration.
    expect(html).toMatch(/role="status" aria-live="polite" aria-atomic="true"><\/div>/)
  })
})
