// @vitest-environment jsdom
import axe from 'axe-core'
import type { ReactNode } from 'react'
import { cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../../src/components'
import type { ConnectionSnapshot, OutboxItem } from '../../src/core'
import { bannerCases, closed, createScriptedClient, error, inProvider, item } from './fake-client'

afterEach(cleanup)

/**
 * Runs axe on what `ui` renders for `snapshot` and `items`. jsdom does no layout or painting, so axe cannot compute
 * colour contrast there: `color-contrast` is disabled in this file only (the stylesheet's pairs are checked in the
 * browser by Storybook's a11y addon).
 */
async function violations(ui: ReactNode, snapshot: Partial<ConnectionSnapshot>, items: readonly OutboxItem[] = []) {
  const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
  const { container } = render(<main>{inProvider(scripted.client, ui)}</main>)
  scripted.set(snapshot)
  scripted.setItems(items)
  const results = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } })
  return results.violations.map(
    (violation) => `${violation.id}: ${violation.nodes.map((node) => node.html).join(', ')}`,
  )
}

const now = Date.now()

describe('accessibility (axe-core, jsdom)', () => {
  it.each([
    { name: 'hidden (healthy)', snapshot: { status: 'open' } as Partial<ConnectionSnapshot> },
    ...bannerCases(now),
  ])('ConnectionBanner: no violations when $name', async ({ snapshot }) => {
    expect(await violations(<ConnectionBanner showAfterMs={0} />, snapshot)).toEqual([])
  })

  it('ConnectionBanner: no violations once recovered (hidden, "Reconnected." in its polite region)', async () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    const { container } = render(<main>{inProvider(scripted.client, <ConnectionBanner showAfterMs={0} />)}</main>)
    scripted.set({ status: 'offline', online: false })
    scripted.set({ status: 'open', online: true })
    expect(container.querySelector('[role="status"]')?.textContent).toBe('Reconnected.')
    const results = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } })
    expect(results.violations.map((violation) => violation.id)).toEqual([])
  })

  it.each<[string, Partial<ConnectionSnapshot>]>([
    ['inactive', { status: 'open' }],
    ['waiting', { status: 'reconnecting', attempt: 2, nextRetryAt: now + 5000, lastClose: closed(1006) }],
    ['connecting', { status: 'connecting', attempt: 2, nextRetryAt: null, lastClose: closed(1006) }],
    ['waiting, at its very end (0 s left)', { status: 'reconnecting', attempt: 1, nextRetryAt: now - 10 }],
  ])('ReconnectCountdown: no violations when %s', async (_, snapshot) => {
    expect(await violations(<ReconnectCountdown maxAttempts={5} />, snapshot)).toEqual([])
    cleanup()
    expect(await violations(<ReconnectCountdown />, snapshot)).toEqual([])
  })

  const mixed = [
    item('a', 'hello'),
    item('b', 'world', { state: 'sending', attempts: 1 }),
    item('c', 'broken', { state: 'failed', error: error('MESSAGE_REFUSED') }),
    item('d', new Uint8Array([1, 2]), { bytes: 2 }),
  ]
  it.each<[string, ReactNode, readonly OutboxItem[]]>([
    ['empty', <OfflineQueue key="q" />, []],
    ['collapsed', <OfflineQueue key="q" />, mixed],
    ['expanded with queued, sending, failed and binary items', <OfflineQueue key="q" defaultExpanded />, mixed],
    [
      'expanded with waiting items only',
      <OfflineQueue key="q" defaultExpanded />,
      [item('a', 'hello'), item('b', 'x'.repeat(500), { state: 'sending', attempts: 2 })],
    ],
    [
      'expanded with failed items only',
      <OfflineQueue key="q" defaultExpanded />,
      [item('c', 'x', { state: 'failed', error: error('MESSAGE_DISCARDED') })],
    ],
    [
      'expanded with readable JSON previews and a formatItem of its own',
      <OfflineQueue key="q" defaultExpanded formatItem={(entry, preview) => <em>{`${entry.id}: ${preview}`}</em>} />,
      [item('j', '{"type":"chat","text":"hi"}', { channel: 'room' }), item('k', '"plain"')],
    ],
  ])('OfflineQueue: no violations when %s', async (_, ui, items) => {
    expect(await violations(ui, { status: 'offline', online: false }, items)).toEqual([])
  })

  it.each([0, 60_000])(
    'a banner (showAfterMs %i) next to a countdown, each saying its part once: no violations',
    async (showAfterMs) => {
      const ui = (
        <>
          <ConnectionBanner showAfterMs={showAfterMs} />
          <ReconnectCountdown />
        </>
      )
      const snapshot = { status: 'reconnecting', attempt: 1, nextRetryAt: now + 3000, lastClose: closed(1006) } as const
      expect(await violations(ui, snapshot)).toEqual([])
      expect(document.querySelectorAll('button[data-lifeline$="-retry"]')).toHaveLength(1)
    },
  )

  it('all three together, composed in one page', async () => {
    const ui = (
      <>
        <ConnectionBanner showAfterMs={0} />
        <ReconnectCountdown />
        <OfflineQueue defaultExpanded />
      </>
    )
    const snapshot = { status: 'reconnecting', attempt: 1, nextRetryAt: now + 3000, lastClose: closed(1006) } as const
    expect(await violations(ui, snapshot, mixed)).toEqual([])
  })
})
