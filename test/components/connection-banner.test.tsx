// @vitest-environment jsdom
import { createRef, StrictMode } from 'react'
import { act, fireEvent, render, screen, within } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import { ConnectionBanner, getConnectionBannerState } from '../../src/components'
import type { ConnectionSnapshot } from '../../src/core'
import { bannerCases, closed, createScriptedClient, error, inProvider, NOW, useScriptedClient } from './fake-client'

const scripted = useScriptedClient()

const root = (container: HTMLElement) => container.querySelector('[data-lifeline="banner"]') as HTMLElement
const polite = () => screen.getByRole('status').textContent
const assertive = () => screen.getByRole('alert').textContent
const advance = (ms: number) => act(() => vi.advanceTimersByTime(ms))

describe('getConnectionBannerState', () => {
  it.each(bannerCases(NOW))('maps $name to $state', ({ snapshot, state }) => {
    expect(getConnectionBannerState({ ...scripted.client.getSnapshot(), ...snapshot } as ConnectionSnapshot)).toBe(
      state,
    )
  })

  it.each<[string, Partial<ConnectionSnapshot>]>([
    ['open on WebSocket', { status: 'open', transport: 'websocket' }],
    ['idle', { status: 'idle' }],
    ['a first connect', { status: 'connecting', attempt: 0, lastClose: null }],
    ['closed by the app', { status: 'closed', lastClose: closed(1000) }],
    ['closing', { status: 'closing' }],
    ['open again after a 4001 refresh', { status: 'open', transport: 'websocket', lastClose: closed(4001) }],
  ])('is null (nothing to say) when %s', (_, snapshot) => {
    expect(getConnectionBannerState({ ...scripted.client.getSnapshot(), ...snapshot })).toBeNull()
  })
})

describe('ConnectionBanner', () => {
  it("takes a hook's `client: null` as no client: the provider's is used, as with none", () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner client={null} showAfterMs={0} />))
    scripted.set({ status: 'offline', online: false })
    expect(root(container).dataset.state).toBe('offline')
  })

  it('renders only an empty hidden root and empty live regions while healthy', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    expect(root(container).dataset.state).toBe('hidden')
    expect(screen.queryByRole('button')).toBeNull()
    expect(container.querySelector('p')).toBeNull()
    expect(polite()).toBe('')
    expect(assertive()).toBe('')
  })

  it.each(bannerCases(NOW))('says $name in plain words after showAfterMs', (testCase) => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set(testCase.snapshot)
    if (testCase.state !== 'failed') {
      advance(999)
      expect(root(container).dataset.state).toBe('hidden')
      advance(1)
    }
    expect(root(container).dataset.state).toBe(testCase.state)
    expect(container.querySelector('[data-lifeline="banner-message"]')?.textContent).toBe(testCase.text)
    const countdown = container.querySelector('[data-lifeline="banner-countdown"]')
    expect(countdown?.textContent ?? null).toBe('countdown' in testCase ? testCase.countdown : null)
    // Announced, without the countdown: assertively only for a terminal failure.
    expect(testCase.state === 'failed' ? assertive() : polite()).toBe(testCase.text)
    expect(testCase.state === 'failed' ? polite() : assertive()).toBe('')
    expect(screen.queryByRole('button', { name: 'Dismiss' })).not.toBeNull()
    expect(!!screen.queryByRole('button', { name: 'Retry now' })).toBe(testCase.state !== 'degraded')
  })

  it('mounts its live regions empty, even when there is something to say at once, and fills them after', () => {
    scripted.set({ status: 'failed', lastError: error('MAX_ATTEMPTS') })
    const firstCommit: (string | null)[] = []
    render(
      inProvider(
        scripted.client,
        <ConnectionBanner.Root showAfterMs={0}>
          <ConnectionBanner.Announcer ref={(node) => void (node && firstCommit.push(node.textContent))} />
        </ConnectionBanner.Root>,
      ),
    )
    expect(firstCommit[0]).toBe('')
    expect(assertive()).toBe('Connection failed. The server is unreachable. Check your network and retry.')
  })

  it('never flashes for a blip shorter than showAfterMs, and announces nothing', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: NOW + 500, lastClose: closed(1006) })
    advance(600)
    scripted.set({ status: 'connecting' })
    advance(300)
    scripted.set({ status: 'open', attempt: 0 })
    advance(5000)
    expect(root(container).dataset.state).toBe('hidden')
    expect(polite()).toBe('')
  })

  it('keeps counting the delay across kinds of trouble (offline, then reconnecting)', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'offline', online: false })
    advance(600)
    scripted.set({ status: 'reconnecting', online: true, attempt: 1, nextRetryAt: NOW + 5000, lastClose: closed(1006) })
    advance(400)
    expect(root(container).dataset.state).toBe('reconnecting')
  })

  it('honours a custom showAfterMs, and 0 shows at once', () => {
    const { container, rerender } = render(inProvider(scripted.client, <ConnectionBanner showAfterMs={3000} />))
    scripted.set({ status: 'offline', online: false })
    advance(2999)
    expect(root(container).dataset.state).toBe('hidden')
    advance(1)
    expect(root(container).dataset.state).toBe('offline')
    scripted.set({ status: 'open', online: true })
    rerender(inProvider(scripted.client, <ConnectionBanner showAfterMs={0} />))
    scripted.set({ status: 'offline', online: false })
    expect(root(container).dataset.state).toBe('offline')
  })

  it('hides at once when healthy again and announces the recovery politely', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'offline', online: false })
    advance(1000)
    expect(polite()).toBe('You are offline. Waiting for the network…')
    scripted.set({ status: 'open', online: true })
    expect(root(container).dataset.state).toBe('hidden')
    expect(polite()).toBe('Reconnected.')
    // The next trouble starts a new episode: nothing is announced until it shows.
    scripted.set({ status: 'offline', online: false })
    expect(polite()).toBe('')
    advance(1000)
    expect(polite()).toBe('You are offline. Waiting for the network…')
  })

  it('shows a terminal failure at once and keeps showing after Retry while the new attempt runs', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'failed', lastError: error('MAX_ATTEMPTS') })
    expect(root(container).dataset.state).toBe('failed')
    const retry = screen.getByRole('button', { name: 'Retry now' })
    retry.focus()
    fireEvent.click(retry)
    expect(scripted.retry).toHaveBeenCalledTimes(1)
    scripted.set({ status: 'connecting', attempt: 0, lastError: null, lastClose: closed(1006) })
    // Same button, still focused, now aria-disabled: the running attempt cannot be retried.
    expect(root(container).dataset.state).toBe('reconnecting')
    expect(document.activeElement).toBe(retry)
    expect(retry.getAttribute('aria-disabled')).toBe('true')
    fireEvent.click(retry)
    expect(scripted.retry).toHaveBeenCalledTimes(1)
    expect(polite()).toBe('Connection lost. Reconnecting…')
    expect(assertive()).toBe('')
  })

  it('counts down to nextRetryAt each second, and never announces the ticks', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: NOW + 1000 + 4500, lastClose: closed(1006) })
    advance(1000)
    const countdown = () => container.querySelector('[data-lifeline="banner-countdown"]')?.textContent
    expect(countdown()).toBe('Retrying in 5 s.')
    const announced = polite()
    advance(500)
    expect(countdown()).toBe('Retrying in 4 s.')
    advance(1000)
    expect(countdown()).toBe('Retrying in 3 s.')
    advance(3000)
    expect(countdown()).toBe('Retrying in 0 s.')
    expect(polite()).toBe(announced)
    expect(announced).not.toMatch(/\d/)
    expect(container.querySelector('[data-lifeline="banner-countdown"]')?.closest('[aria-live]')).toBeNull()
  })

  it('Dismiss hides it until the state changes', () => {
    const { container } = render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: NOW + 5000, lastClose: closed(1006) })
    advance(1000)
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(root(container).dataset.state).toBe('hidden')
    // Another attempt is the same state: still dismissed.
    scripted.set({ attempt: 2, nextRetryAt: NOW + 9000 })
    advance(1000)
    expect(root(container).dataset.state).toBe('hidden')
    scripted.set({ status: 'failed', nextRetryAt: null, lastError: error('MAX_ATTEMPTS') })
    expect(root(container).dataset.state).toBe('failed')
  })

  it('Retry now calls client.retry()', () => {
    render(inProvider(scripted.client, <ConnectionBanner />))
    scripted.set({ status: 'offline', online: false })
    advance(1000)
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }))
    expect(scripted.retry).toHaveBeenCalledTimes(1)
  })

  it('takes every text from labels, including reasons and time formatting', () => {
    render(
      inProvider(
        scripted.client,
        <ConnectionBanner
          labels={{
            reconnecting: 'Verbindung verloren.',
            retryIn: (time) => `Neuer Versuch in ${time}`,
            formatDuration: (ms) => `${ms} ms`,
            retry: 'Jetzt',
            dismiss: 'Schließen',
          }}
        />,
      ),
    )
    scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: NOW + 3000, lastClose: closed(1006) })
    advance(1000)
    expect(document.querySelector('[data-lifeline="banner-message"]')?.textContent).toBe('Verbindung verloren.')
    expect(polite()).toBe('Verbindung verloren.')
    expect(screen.queryByText('Neuer Versuch in 2000 ms')).not.toBeNull()
    expect(screen.queryByRole('button', { name: 'Jetzt' })).not.toBeNull()
    expect(screen.queryByRole('button', { name: 'Schließen' })).not.toBeNull()
  })

  it('merges reasons key by key and formats failures with labels.failed', () => {
    render(
      inProvider(
        scripted.client,
        <ConnectionBanner labels={{ failed: (reason) => `Kaputt: ${reason}`, reasons: { 'tls-failure': 'TLS!' } }} />,
      ),
    )
    scripted.set({ status: 'failed', lastClose: closed(1015), lastError: error('CONNECTION_CLOSED') })
    expect(assertive()).toBe('Kaputt: TLS!')
    scripted.set({ status: 'failed', lastError: error('TOKEN_REFRESH_FAILED') })
    expect(assertive()).toBe('Kaputt: Your sign-in expired. Sign in again.')
  })

  it('uses an explicit client prop instead of the provider', () => {
    const other = createScriptedClient({ status: 'offline', online: false })
    const { container } = render(
      inProvider(scripted.client, <ConnectionBanner client={other.client} showAfterMs={0} />),
    )
    expect(root(container).dataset.state).toBe('offline')
    render(
      <StrictMode>
        <ConnectionBanner client={other.client} showAfterMs={0} data-testid="no-provider" />
      </StrictMode>,
    )
    expect(screen.getByTestId('no-provider').dataset.state).toBe('offline')
  })

  it('forwards refs and spreads rest props on every part', () => {
    const refs = {
      root: createRef<HTMLDivElement>(),
      announcer: createRef<HTMLDivElement>(),
      message: createRef<HTMLParagraphElement>(),
      countdown: createRef<HTMLSpanElement>(),
      retry: createRef<HTMLButtonElement>(),
      dismiss: createRef<HTMLButtonElement>(),
    }
    render(
      inProvider(
        scripted.client,
        <ConnectionBanner.Root ref={refs.root} className="mine" id="banner" showAfterMs={0}>
          <ConnectionBanner.Announcer ref={refs.announcer} className="sr" />
          <ConnectionBanner.Message ref={refs.message} className="message" />
          <ConnectionBanner.Countdown ref={refs.countdown} title="countdown" />
          <ConnectionBanner.RetryButton ref={refs.retry} className="primary" />
          <ConnectionBanner.DismissButton ref={refs.dismiss} aria-label="Close the notice">
            ×
          </ConnectionBanner.DismissButton>
        </ConnectionBanner.Root>,
      ),
    )
    scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: NOW + 5000, lastClose: closed(1006) })
    expect(refs.root.current?.id).toBe('banner')
    expect(refs.root.current?.className).toBe('mine')
    expect(refs.root.current?.dataset.state).toBe('reconnecting')
    expect(refs.announcer.current?.className).toBe('sr')
    expect(refs.message.current?.className).toBe('message')
    expect(refs.countdown.current?.title).toBe('countdown')
    expect(refs.retry.current?.className).toBe('primary')
    expect(refs.retry.current?.type).toBe('button')
    expect(refs.dismiss.current?.textContent).toBe('×')
    expect(screen.getByRole('button', { name: 'Close the notice' })).toBe(refs.dismiss.current)
  })

  it("runs the user's onClick first and skips the default action when it calls preventDefault()", () => {
    const order: string[] = []
    scripted.retry.mockImplementation(() => order.push('retry'))
    const { container } = render(
      inProvider(
        scripted.client,
        <ConnectionBanner.Root showAfterMs={0}>
          <ConnectionBanner.RetryButton onClick={() => order.push('user')} />
          <ConnectionBanner.DismissButton onClick={(event) => event.preventDefault()} />
        </ConnectionBanner.Root>,
      ),
    )
    scripted.set({ status: 'offline', online: false })
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }))
    expect(order).toEqual(['user', 'retry'])
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(root(container).dataset.state).toBe('offline')
  })

  it('lets parts take children instead of the label', () => {
    render(
      inProvider(
        scripted.client,
        <ConnectionBanner.Root showAfterMs={0}>
          <ConnectionBanner.Message>
            <strong>Custom</strong>
          </ConnectionBanner.Message>
        </ConnectionBanner.Root>,
      ),
    )
    scripted.set({ status: 'offline', online: false })
    expect(within(screen.getByText('Custom').parentElement as HTMLElement).getByText('Custom').tagName).toBe('STRONG')
  })

  it('throws MISSING_PROVIDER in the browser when there is neither a client nor a provider', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    expect(() => render(<ConnectionBanner />)).toThrow(expect.objectContaining({ code: 'MISSING_PROVIDER' }))
    vi.restoreAllMocks()
  })

  it('throws PART_OUTSIDE_ROOT for a part outside its Root, in the browser too', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    expect(() => render(inProvider(scripted.client, <ConnectionBanner.Message />))).toThrow(
      expect.objectContaining({
        code: 'PART_OUTSIDE_ROOT',
        message: '<ConnectionBanner.Message> must be used inside <ConnectionBanner.Root>',
      }),
    )
    vi.restoreAllMocks()
  })
})
