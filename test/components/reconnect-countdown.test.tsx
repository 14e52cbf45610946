// @vitest-environment jsdom
import { createRef, StrictMode } from 'react'
import { act, fireEvent, render, renderHook, screen } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import { formatDuration, ReconnectCountdown, useCountdown } from '../../src/components'
import { closed, inProvider, NOW, useScriptedClient } from './fake-client'

const scripted = useScriptedClient()

const advance = (ms: number) => act(() => vi.advanceTimersByTime(ms))
const part = (name: string) => document.querySelector(`[data-lifeline="countdown-${name}"]`) as HTMLElement | null
const rootState = () => (document.querySelector('[data-lifeline="countdown"]') as HTMLElement).dataset.state
const waiting = (inMs: number, attempt = 2) =>
  scripted.set({ status: 'reconnecting', attempt, nextRetryAt: Date.now() + inMs, lastClose: closed(1006) })

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [1, '1 s'],
    [4001, '5 s'],
    [59_000, '59 s'],
    [60_000, '1 min'],
    [61_000, '1 min 1 s'],
    [300_000, '5 min'],
  ])('formats %i ms as %s (seconds rounded up)', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('useCountdown', () => {
  it('is null without a target and counts down on the second boundaries of the remaining time', () => {
    const { result, rerender } = renderHook((target: number | null) => useCountdown(target), {
      initialProps: null as number | null,
    })
    expect(result.current).toEqual({ remainingMs: null, totalMs: null })
    rerender(NOW + 2500)
    expect(result.current).toEqual({ remainingMs: 2500, totalMs: 2500 })
    advance(499)
    expect(result.current.remainingMs).toBe(2500)
    advance(1)
    expect(result.current).toEqual({ remainingMs: 2000, totalMs: 2500 })
    advance(1000)
    expect(result.current.remainingMs).toBe(1000)
    advance(5000)
    expect(result.current.remainingMs).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('starts a new wait when the target changes, and stops ticking when it goes', () => {
    const { result, rerender } = renderHook((target: number | null) => useCountdown(target), {
      initialProps: (NOW + 1000) as number | null,
    })
    advance(500)
    rerender(Date.now() + 4000)
    expect(result.current).toEqual({ remainingMs: 4000, totalMs: 4000 })
    rerender(null)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('ReconnectCountdown', () => {
  it('renders nothing but its root while no attempt is pending', () => {
    render(inProvider(scripted.client, <ReconnectCountdown />))
    expect(rootState()).toBe('inactive')
    expect(document.querySelector('[data-lifeline="countdown"]')?.childElementCount).toBe(0)
    scripted.set({ status: 'offline', online: false })
    expect(rootState()).toBe('inactive')
  })

  it('shows the time to nextRetryAt, ticking each second', () => {
    render(inProvider(scripted.client, <ReconnectCountdown />))
    waiting(3000)
    expect(rootState()).toBe('waiting')
    expect(part('time')?.textContent).toBe('Retrying in 3 s.')
    advance(1000)
    expect(part('time')?.textContent).toBe('Retrying in 2 s.')
    advance(1000)
    expect(part('time')?.textContent).toBe('Retrying in 1 s.')
  })

  it('shows a progress bar of the wait that is not a live region', () => {
    render(inProvider(scripted.client, <ReconnectCountdown />))
    waiting(4000)
    const progress = screen.getByRole('progressbar', { name: 'Time until the next attempt' }) as HTMLProgressElement
    expect(progress.max).toBe(4000)
    expect(progress.value).toBe(0)
    advance(1000)
    expect(progress.value).toBe(1000)
    advance(2000)
    expect(progress.value).toBe(3000)
    expect(progress.closest('[aria-live], [role="status"], [role="alert"]')).toBeNull()
    expect(document.querySelector('[aria-live]')).toBeNull()
  })

  it('shows "attempt n", and "attempt n of max" when maxAttempts is given', () => {
    const { rerender } = render(inProvider(scripted.client, <ReconnectCountdown />))
    waiting(3000, 2)
    expect(part('attempt')?.textContent).toBe('Attempt 2')
    rerender(inProvider(scripted.client, <ReconnectCountdown maxAttempts={5} />))
    expect(part('attempt')?.textContent).toBe('Attempt 2 of 5')
    rerender(inProvider(scripted.client, <ReconnectCountdown maxAttempts={Infinity} />))
    expect(part('attempt')?.textContent).toBe('Attempt 2')
  })

  it("takes the maximum from the client's own maxAttempts when the prop is omitted", () => {
    render(inProvider({ ...scripted.client, maxAttempts: 7 }, <ReconnectCountdown />))
    waiting(3000, 2)
    expect(part('attempt')?.textContent).toBe('Attempt 2 of 7')
  })

  it('says "Reconnecting…" with an indeterminate bar while the attempt runs, and Retry is aria-disabled', () => {
    render(inProvider(scripted.client, <ReconnectCountdown />))
    waiting(1000, 3)
    scripted.set({ status: 'connecting', nextRetryAt: null })
    expect(rootState()).toBe('connecting')
    expect(part('time')?.textContent).toBe('Reconnecting…')
    expect(part('progress')?.hasAttribute('value')).toBe(false)
    expect(part('attempt')?.textContent).toBe('Attempt 3')
    const retry = screen.getByRole('button', { name: 'Retry now' })
    expect(retry.getAttribute('aria-disabled')).toBe('true')
    fireEvent.click(retry)
    expect(scripted.retry).not.toHaveBeenCalled()
  })

  it('Retry now calls client.retry(), after the user onClick, unless it prevents the default', () => {
    const onClick = vi.fn()
    const { rerender } = render(inProvider(scripted.client, <ReconnectCountdown />))
    waiting(5000)
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }))
    expect(scripted.retry).toHaveBeenCalledTimes(1)
    rerender(
      inProvider(
        scripted.client,
        <ReconnectCountdown.Root>
          <ReconnectCountdown.RetryButton onClick={(event) => onClick(event.preventDefault())} />
        </ReconnectCountdown.Root>,
      ),
    )
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }))
    expect(onClick).toHaveBeenCalledTimes(1)
    expect(scripted.retry).toHaveBeenCalledTimes(1)
  })

  it('takes every text from labels, with overridable time formatting', () => {
    render(
      inProvider(
        scripted.client,
        <ReconnectCountdown
          maxAttempts={9}
          labels={{
            retryIn: (time) => `Nouvelle tentative dans ${time}`,
            attempt: (attempt, max) => `Essai ${attempt}/${max}`,
            progress: 'Attente',
            retry: 'Réessayer',
            formatDuration: (ms) => `${Math.round(ms / 1000)} secondes`,
          }}
        />,
      ),
    )
    waiting(65_000, 4)
    expect(part('time')?.textContent).toBe('Nouvelle tentative dans 65 secondes')
    expect(part('attempt')?.textContent).toBe('Essai 4/9')
    expect(screen.queryByRole('progressbar', { name: 'Attente' })).not.toBeNull()
    expect(screen.queryByRole('button', { name: 'Réessayer' })).not.toBeNull()
  })

  it('forwards refs and spreads rest props on every part, with an explicit client and no provider', () => {
    const refs = {
      root: createRef<HTMLDivElement>(),
      time: createRef<HTMLSpanElement>(),
      attempt: createRef<HTMLSpanElement>(),
      progress: createRef<HTMLProgressElement>(),
      retry: createRef<HTMLButtonElement>(),
    }
    render(
      <StrictMode>
        <ReconnectCountdown.Root ref={refs.root} client={scripted.client} className="countdown" aria-label="Reconnect">
          <ReconnectCountdown.Time ref={refs.time} className="time" />
          <ReconnectCountdown.Attempt ref={refs.attempt} id="attempt" />
          <ReconnectCountdown.Progress ref={refs.progress} className="bar" />
          <ReconnectCountdown.RetryButton ref={refs.retry} className="retry" />
        </ReconnectCountdown.Root>
      </StrictMode>,
    )
    waiting(2000)
    expect(refs.root.current?.className).toBe('countdown')
    expect(refs.root.current?.getAttribute('aria-label')).toBe('Reconnect')
    expect(refs.root.current?.dataset.state).toBe('waiting')
    expect(refs.time.current?.className).toBe('time')
    expect(refs.attempt.current?.id).toBe('attempt')
    expect(refs.progress.current?.className).toBe('bar')
    expect(refs.retry.current?.className).toBe('retry')
  })
})
