// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../../src/components'
import { createLifeline, type LifelineClient, type WebSocketLike } from '../../src/core'
import { inProvider } from './fake-client'

/** A socket the test opens and closes by hand, as the server would. */
class HandSocket implements WebSocketLike {
  static all: HandSocket[] = []
  readyState = 0
  bufferedAmount = 0
  binaryType = 'blob'
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  constructor(readonly url: string) {
    HandSocket.all.push(this)
  }
  send(): void {}
  close(): void {
    this.readyState = 3
  }
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  drop(code: number, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean: code !== 1006 })
  }
}

const last = () => HandSocket.all.at(-1) as HandSocket
let client: LifelineClient

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 })
  HandSocket.all = []
  client = createLifeline({
    url: 'wss://example.test/socket',
    environment: { WebSocket: HandSocket, random: () => 0.5 },
    minDelayMs: 4000,
    maxDelayMs: 4000,
  })
})
afterEach(() => {
  cleanup()
  client.dispose()
  vi.useRealTimers()
})

describe('components on a real client', () => {
  it('follow a dropped connection through the banner, the countdown and the queue, and Retry now reconnects', () => {
    client.connect()
    act(() => last().open())
    render(
      inProvider(
        client,
        <>
          <ConnectionBanner />
          <ReconnectCountdown />
          <OfflineQueue />
        </>,
      ),
    )
    expect(screen.queryByRole('button')).toBeNull()
    act(() => last().drop(1006))
    act(() => void client.send('queued while down'))
    expect(document.querySelector('[data-lifeline="banner"]')?.getAttribute('data-state')).toBe('hidden')
    expect(document.querySelector('[data-lifeline="countdown-time"]')?.textContent).toBe('Retrying in 4 s.')
    expect(document.querySelector('[data-lifeline="queue-summary"]')?.textContent).toBe(
      '1 message waiting to send (17 B).',
    )
    act(() => vi.advanceTimersByTime(1000))
    expect(document.querySelector('[data-lifeline="banner"]')?.getAttribute('data-state')).toBe('reconnecting')
    // Side by side, the countdown says the time and the banner offers Retry now: each once.
    expect(document.querySelector('[data-lifeline="countdown-time"]')?.textContent).toBe('Retrying in 3 s.')
    expect(document.querySelector('[data-lifeline="banner-countdown"]')).toBeNull()
    expect(screen.getAllByRole('button', { name: 'Retry now' })).toHaveLength(1)
    const sockets = HandSocket.all.length
    fireEvent.click(document.querySelector('[data-lifeline="banner-retry"]') as HTMLElement)
    expect(HandSocket.all.length).toBe(sockets + 1)
    expect(client.getSnapshot().status).toBe('connecting')
    act(() => last().open())
    expect(document.querySelector('[data-lifeline="banner"]')?.getAttribute('data-state')).toBe('hidden')
    const announcer = document.querySelector('[data-lifeline="banner-announcer"]') as HTMLElement
    expect(within(announcer).getByRole('status').textContent).toBe('Reconnected.')
  })
})
