// @vitest-environment jsdom
import { act, fireEvent, render, screen } from '@testing-library/react'
import { StrictMode } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { ConnectionBanner, ReconnectCountdown, type ConnectionBannerProps } from '../../src/components'
import { closed, createScriptedClient, inProvider, useScriptedClient } from './fake-client'

const scripted = useScriptedClient()

const waiting = () => ({
  status: 'reconnecting' as const,
  attempt: 2,
  nextRetryAt: Date.now() + 6000,
  lastClose: closed(1006),
})
const retryButtons = () => screen.queryAllByRole('button', { name: 'Retry now' })
const retryingIn = () => screen.queryAllByText(/^Retrying in/)
/** The banner and the countdown side by side, for the same client. */
const renderBoth = (banner: ConnectionBannerProps = {}) =>
  render(
    inProvider(
      scripted.client,
      <>
        <ConnectionBanner {...banner} />
        <ReconnectCountdown />
      </>,
    ),
  )
const part = (name: string) => document.querySelector(`[data-lifeline="${name}"]`)

describe('ConnectionBanner next to ReconnectCountdown', () => {
  it('shows the countdown sentence and Retry now once when both are mounted for the same client', () => {
    renderBoth()
    scripted.set(waiting())
    // Before showAfterMs only the countdown shows: its own time and Retry now.
    expect(retryingIn().map((node) => node.getAttribute('data-lifeline'))).toEqual(['countdown-time'])
    expect(retryButtons().map((node) => node.getAttribute('data-lifeline'))).toEqual(['countdown-retry'])
    act(() => vi.advanceTimersByTime(1000))
    expect(part('banner')?.getAttribute('data-state')).toBe('reconnecting')
    // The countdown keeps the time; the banner, the message box, keeps the action.
    expect(retryingIn().map((node) => node.getAttribute('data-lifeline'))).toEqual(['countdown-time'])
    expect(retryingIn()[0]?.textContent).toBe('Retrying in 5 s.')
    expect(retryButtons().map((node) => node.getAttribute('data-lifeline'))).toEqual(['banner-retry'])
    fireEvent.click(retryButtons()[0]!)
    expect(scripted.retry).toHaveBeenCalledTimes(1)
  })

  it('keeps one Retry now, the banner one, through a failure and a retry (focus is never lost to a swap)', () => {
    renderBoth({ showAfterMs: 0 })
    scripted.set({ status: 'failed', lastClose: closed(1008), attempt: 0, nextRetryAt: null })
    const button = retryButtons()
    expect(button.map((node) => node.getAttribute('data-lifeline'))).toEqual(['banner-retry'])
    button[0]!.focus()
    scripted.set({ status: 'connecting', attempt: 0 })
    scripted.set(waiting())
    scripted.set({ status: 'connecting', attempt: 3, nextRetryAt: null })
    expect(retryButtons()).toEqual(button)
    expect(document.activeElement).toBe(button[0])
    expect(screen.getByText('Reconnecting…').getAttribute('data-lifeline')).toBe('countdown-time')
  })

  it('gives Retry now back to the countdown when the banner is dismissed', () => {
    renderBoth({ showAfterMs: 0 })
    scripted.set(waiting())
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(retryButtons().map((node) => node.getAttribute('data-lifeline'))).toEqual(['countdown-retry'])
    expect(retryingIn()).toHaveLength(1)
  })

  it('leaves each drop-in complete when used alone', () => {
    const { unmount } = render(inProvider(scripted.client, <ConnectionBanner showAfterMs={0} />))
    scripted.set(waiting())
    expect(retryingIn().map((node) => node.getAttribute('data-lifeline'))).toEqual(['banner-countdown'])
    expect(retryButtons().map((node) => node.getAttribute('data-lifeline'))).toEqual(['banner-retry'])
    unmount()
    render(inProvider(scripted.client, <ReconnectCountdown />))
    expect(retryingIn().map((node) => node.getAttribute('data-lifeline'))).toEqual(['countdown-time'])
    expect(retryButtons().map((node) => node.getAttribute('data-lifeline'))).toEqual(['countdown-retry'])
  })

  it('composes per client: a countdown for another client changes nothing', () => {
    const other = createScriptedClient({ ...waiting() })
    render(
      <StrictMode>
        <ConnectionBanner client={scripted.client} showAfterMs={0} />
        <ReconnectCountdown client={other.client} />
      </StrictMode>,
    )
    scripted.set(waiting())
    expect(retryingIn()).toHaveLength(2)
    expect(retryButtons()).toHaveLength(2)
  })

  it('composes per part: a countdown composed without Time or RetryButton leaves them to the banner', () => {
    render(
      inProvider(
        scripted.client,
        <>
          <ConnectionBanner showAfterMs={0} />
          <ReconnectCountdown.Root>
            <ReconnectCountdown.Attempt />
            <ReconnectCountdown.Progress />
          </ReconnectCountdown.Root>
        </>,
      ),
    )
    scripted.set(waiting())
    expect(retryingIn().map((node) => node.getAttribute('data-lifeline'))).toEqual(['banner-countdown'])
    expect(retryButtons().map((node) => node.getAttribute('data-lifeline'))).toEqual(['banner-retry'])
  })

  it('takes the banner countdown back when the countdown unmounts', () => {
    const ui = (countdown: boolean) =>
      inProvider(
        scripted.client,
        <>
          <ConnectionBanner showAfterMs={0} />
          {countdown && <ReconnectCountdown />}
        </>,
      )
    const { rerender } = render(ui(true))
    scripted.set(waiting())
    expect(part('banner-countdown')).toBeNull()
    rerender(ui(false))
    expect(part('banner-countdown')?.textContent).toBe('Retrying in 6 s.')
  })
})
