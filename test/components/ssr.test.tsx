import type { ComponentType } from 'react'
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../../src/components'
import type { LifelineClient } from '../../src/core'
import { LifelineProvider } from '../../src/react'
import { closed, createScriptedClient, mixedItems } from './fake-client'

/** Every part of the three components composed inside its roots (item parts inside an `Item`). */
function everyPart() {
  const [item] = mixedItems()
  return (
    <>
      <ConnectionBanner.Root showAfterMs={0}>
        <ConnectionBanner.Announcer />
        <ConnectionBanner.Message />
        <ConnectionBanner.Countdown />
        <ConnectionBanner.RetryButton />
        <ConnectionBanner.DismissButton />
      </ConnectionBanner.Root>
      <ReconnectCountdown.Root>
        <ReconnectCountdown.Time />
        <ReconnectCountdown.Attempt />
        <ReconnectCountdown.Progress />
        <ReconnectCountdown.RetryButton />
      </ReconnectCountdown.Root>
      <OfflineQueue.Root>
        <OfflineQueue.Announcer />
        <OfflineQueue.Details />
        <OfflineQueue.Summary />
        <OfflineQueue.List />
        <OfflineQueue.RetryAllButton />
        <OfflineQueue.DiscardAllButton />
        <OfflineQueue.Item item={item!}>
          <OfflineQueue.ItemPreview />
          <OfflineQueue.ItemSize />
          <OfflineQueue.ItemStatus />
          <OfflineQueue.ItemRetryButton />
          <OfflineQueue.ItemDiscardButton />
        </OfflineQueue.Item>
      </OfflineQueue.Root>
    </>
  )
}

/** `[part, data-state]` of every element the HTML has with a `data-lifeline`. */
const states = (html: string) =>
  Array.from(html.matchAll(/<[a-z]+ [^>]*>/g), ([tag]) => [
    /data-lifeline="([^"]+)"/.exec(tag)?.[1],
    /data-state="([^"]+)"/.exec(tag)?.[1],
  ]).filter(([part]) => part)

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

  it('render every part without a client (provider creating it on mount), each with the data-state of its root or item', () => {
    const html = renderToString(<LifelineProvider url="ws://127.0.0.1:9/socket">{everyPart()}</LifelineProvider>)
    expect(states(html)).toEqual([
      ['banner', 'hidden'],
      ['banner-announcer', 'hidden'],
      ['countdown', 'inactive'],
      ['queue', 'empty'],
      ['queue-announcer', 'empty'],
      ['queue-summary', 'empty'],
      ['queue-list', 'empty'],
      ['queue-item', 'queued'],
      ['queue-preview', 'queued'],
      ['queue-size', 'queued'],
      ['queue-status', 'queued'],
      ['queue-item-discard', 'queued'],
    ])
  })

  it("render every part with a client in trouble, the countdowns read on the client's clock", () => {
    const now = 1_700_000_000_000
    const scripted = createScriptedClient({
      status: 'reconnecting',
      attempt: 2,
      nextRetryAt: now + 5000,
      lastClose: closed(1006, '', now),
    })
    // Date.now() is years past `now`: a countdown on it would say 0 s.
    const client: LifelineClient = { ...scripted.client, now: () => now }
    const html = renderToString(<LifelineProvider client={client}>{everyPart()}</LifelineProvider>)
    const text = (part: string) => new RegExp(`<[a-z]+ [^>]*data-lifeline="${part}"[^>]*>([^<]*)<`).exec(html)?.[1]
    expect(text('banner-countdown')).toBe('Retrying in 5 s.')
    expect(text('countdown-time')).toBe('Retrying in 5 s.')
    // The outbox is read on the server as empty (what the first client render shows too), item parts as their item.
    expect(states(html)).toEqual([
      ['banner', 'reconnecting'],
      ['banner-announcer', 'reconnecting'],
      ['banner-message', 'reconnecting'],
      ['banner-countdown', 'reconnecting'],
      ['banner-retry', 'reconnecting'],
      ['banner-dismiss', 'reconnecting'],
      ['countdown', 'waiting'],
      ['countdown-time', 'waiting'],
      ['countdown-attempt', 'waiting'],
      ['countdown-progress', 'waiting'],
      ['countdown-retry', 'waiting'],
      ['queue', 'empty'],
      ['queue-announcer', 'empty'],
      ['queue-summary', 'empty'],
      ['queue-list', 'empty'],
      ['queue-item', 'queued'],
      ['queue-preview', 'queued'],
      ['queue-size', 'queued'],
      ['queue-status', 'queued'],
      ['queue-item-discard', 'queued'],
    ])
  })
})

describe('a part outside its root', () => {
  const cases: [element: ComponentType, message: string][] = [
    [ConnectionBanner.Message, '<ConnectionBanner.Message> must be used inside <ConnectionBanner.Root>'],
    [ConnectionBanner.Announcer, '<ConnectionBanner.Announcer> must be used inside <ConnectionBanner.Root>'],
    [ConnectionBanner.RetryButton, '<ConnectionBanner.RetryButton> must be used inside <ConnectionBanner.Root>'],
    [ReconnectCountdown.Time, '<ReconnectCountdown.Time> must be used inside <ReconnectCountdown.Root>'],
    [OfflineQueue.Announcer, '<OfflineQueue.Announcer> must be used inside <OfflineQueue.Root>'],
    [OfflineQueue.Summary, '<OfflineQueue.Summary> must be used inside <OfflineQueue.Root>'],
    [OfflineQueue.List, '<OfflineQueue.List> must be used inside <OfflineQueue.Root>'],
    [OfflineQueue.ItemStatus, '<OfflineQueue.ItemStatus> must be used inside <OfflineQueue.Item>'],
  ]

  it.each(cases)('throws PART_OUTSIDE_ROOT naming the part and its root: %#', (Part, message) => {
    expect(() => renderToString(<Part />)).toThrow(
      expect.objectContaining({ name: 'LifelineError', code: 'PART_OUTSIDE_ROOT', message }),
    )
  })

  it('names the Item, not the Root, for an item part inside the Root but outside an Item', () => {
    const Item = OfflineQueue.Item as ComponentType<{ item: ReturnType<typeof mixedItems>[number] }>
    expect(() => renderToString(<Item item={mixedItems()[0]!} />)).toThrow(
      '<OfflineQueue.Item> must be used inside <OfflineQueue.Root>',
    )
    expect(() =>
      renderToString(
        <LifelineProvider url="ws://127.0.0.1:9/socket">
          <OfflineQueue.Root>
            <OfflineQueue.ItemPreview />
          </OfflineQueue.Root>
        </LifelineProvider>,
      ),
    ).toThrow('<OfflineQueue.ItemPreview> must be used inside <OfflineQueue.Item>')
  })
})
