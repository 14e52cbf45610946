// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/react'
import type { ComponentType } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../../src/components'
import { closed, createScriptedClient, inProvider, mixedItems } from './fake-client'

afterEach(cleanup)

/** Each compound component, by name, with the parts it documents, in order. */
const anatomy = [
  ['ConnectionBanner', ConnectionBanner, ['Root', 'Announcer', 'Message', 'Countdown', 'RetryButton', 'DismissButton']],
  ['ReconnectCountdown', ReconnectCountdown, ['Root', 'Time', 'Attempt', 'Progress', 'RetryButton']],
  [
    'OfflineQueue',
    OfflineQueue,
    [
      'Root',
      'Announcer',
      'Details',
      'RetryAllButton',
      'DiscardAllButton',
      'Summary',
      'List',
      'Item',
      'ItemPreview',
      'ItemSize',
      'ItemStatus',
      'ItemRetryButton',
      'ItemDiscardButton',
    ],
  ],
] as const

/** The properties of a drop-in that are parts (capitalised), as components. */
const partsOf = (component: object) =>
  Object.entries(component).filter(([key]) => /^[A-Z]/.test(key)) as [string, ComponentType][]

/** Every element carrying `data-lifeline` in `container`, as `[part, data-state]` in document order. */
const states = (container: Element) =>
  Array.from(container.querySelectorAll('[data-lifeline]'), (node) => [
    node.getAttribute('data-lifeline'),
    node.getAttribute('data-state'),
  ])

describe('compound components', () => {
  it.each(anatomy)(
    '%s names itself and every part after itself (no generic ForwardRef in DevTools)',
    (name, dropIn, parts) => {
      expect(dropIn.displayName).toBe(name)
      expect(partsOf(dropIn).map(([key]) => key)).toEqual(parts)
      for (const [key, part] of partsOf(dropIn)) {
        expect(part.displayName).toBe(name + key)
        // The render function carries the name too, so component stacks say `ConnectionBannerMessage`, not `Part`.
        expect((part as unknown as { render: { name: string } }).render.name).toBe(name + key)
      }
    },
  )

  it('the drop-in ConnectionBanner renders Announcer, Message, Countdown, RetryButton and DismissButton, each with the banner state', () => {
    const scripted = createScriptedClient({
      status: 'reconnecting',
      attempt: 2,
      nextRetryAt: Date.now() + 6000,
      lastClose: closed(1006),
    })
    const { container } = render(inProvider(scripted.client, <ConnectionBanner showAfterMs={0} />))
    expect(states(container)).toEqual(
      ['banner', 'banner-announcer', 'banner-message', 'banner-countdown', 'banner-retry', 'banner-dismiss'].map(
        (part) => [part, 'reconnecting'],
      ),
    )
  })

  it('gives the always-mounted banner Announcer the hidden state of its root', () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    expect(states(container)).toEqual([
      ['banner', 'hidden'],
      ['banner-announcer', 'hidden'],
    ])
  })

  it('the drop-in ReconnectCountdown renders Time, Attempt, Progress and RetryButton, each with the countdown state', () => {
    const scripted = createScriptedClient({
      status: 'reconnecting',
      attempt: 2,
      nextRetryAt: Date.now() + 6000,
      lastClose: closed(1006),
    })
    const { container } = render(inProvider(scripted.client, <ReconnectCountdown />))
    expect(states(container)).toEqual(
      ['countdown', 'countdown-time', 'countdown-attempt', 'countdown-progress', 'countdown-retry'].map((part) => [
        part,
        'waiting',
      ]),
    )
  })

  it('the drop-in OfflineQueue renders Announcer, Details (Summary, List of Items) and the all-buttons; Details carries open/closed, item parts their item state', () => {
    const scripted = createScriptedClient({ status: 'offline', online: false })
    scripted.setItems(mixedItems())
    const { container, rerender } = render(inProvider(scripted.client, <OfflineQueue defaultExpanded />))
    const queueLevel = states(container).filter(([part]) => !/^queue-(item|preview|size|status)/.test(part ?? ''))
    expect(queueLevel).toEqual([
      ['queue', 'failed'],
      ['queue-announcer', 'failed'],
      ['queue-details', 'open'],
      ['queue-summary', 'failed'],
      ['queue-list', 'failed'],
      ['queue-retry-all', 'failed'],
      ['queue-discard-all', 'failed'],
    ])
    const items = Array.from(container.querySelectorAll('[data-lifeline="queue-item"]'))
    expect(items.map((node) => node.getAttribute('data-state'))).toEqual(mixedItems().map((item) => item.state))
    for (const node of items) {
      const parts = states(node)
      expect(parts.map(([part]) => part)).toEqual(
        ['queue-preview', 'queue-size', 'queue-status', 'queue-item-retry', 'queue-item-discard'].filter(
          (part) => part !== 'queue-item-retry' || node.getAttribute('data-state') === 'failed',
        ),
      )
      expect(parts.map(([, state]) => state)).toEqual(parts.map(() => node.getAttribute('data-state')))
    }
    rerender(inProvider(scripted.client, <OfflineQueue />))
    scripted.setItems([])
    expect(states(container)).toEqual([
      ['queue', 'empty'],
      ['queue-announcer', 'empty'],
    ])
  })
})
