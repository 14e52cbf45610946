// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../../src/components'
import { closed, createScriptedClient, inProvider, item } from './fake-client'

afterEach(cleanup)

const root = (name: string) => document.querySelector(`[data-lifeline="${name}"]`) as HTMLElement

// The real layout (0 px in a flex or grid container with a gap) is measured in Chromium:
// test/e2e/components.node.test.ts. Here: the inline reset that makes it so without the optional stylesheet.
describe('empty component roots', () => {
  it('generate no box (display: contents) while they have nothing to show, and get it back when they do', () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(
      inProvider(
        scripted.client,
        <>
          <ConnectionBanner showAfterMs={0} style={{ color: 'red' }} />
          <ReconnectCountdown />
          <OfflineQueue />
        </>,
      ),
    )
    expect(['banner', 'countdown', 'queue'].map((name) => root(name).style.display)).toEqual([
      'contents',
      'contents',
      'contents',
    ])
    // The user's own style is kept.
    expect(root('banner').style.color).toBe('red')
    // The live regions stay mounted (empty) inside the boxless roots.
    expect(root('banner').querySelector('[role="status"]')).not.toBeNull()
    expect(root('queue').querySelector('[role="status"]')).not.toBeNull()
    scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: Date.now() + 3000, lastClose: closed(1006) })
    scripted.setItems([item('a', 'hello')])
    expect(['banner', 'countdown', 'queue'].map((name) => root(name).style.display)).toEqual(['', '', ''])
    expect(root('banner').style.color).toBe('red')
  })

  it("let the user's style decide when it sets display", () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(inProvider(scripted.client, <ReconnectCountdown style={{ display: 'block' }} />))
    expect(root('countdown').style.display).toBe('block')
  })
})
