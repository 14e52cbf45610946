import { expect, waitFor } from 'storybook/test'
import { devServers } from './dev-servers'
import { createLifelineControl } from './lifeline-control'

const SHOW_AFTER_MS = 1000

/**
 * R28 through a real outage of the embedded server, as a story's play function (test runs only: it kills the server
 * every Live story shares, so its story is tagged `!dev`): the banner stays hidden during the first `showAfterMs`,
 * then says reconnecting; its countdown matches `nextRetryAt` within 1 s; once the server is back, Retry now
 * reconnects at once instead of waiting for the scheduled attempt. The server is restarted whatever happens.
 */
export async function playOutage(canvasElement: HTMLElement): Promise<void> {
  const { lifelineUrl, lifelineControlUrl } = devServers()
  if (!lifelineUrl || !lifelineControlUrl) return
  const control = createLifelineControl(lifelineControlUrl)
  const select = (selector: string) => canvasElement.querySelector<HTMLElement>(selector)
  const status = () => select('[data-testid="live-status"]')?.textContent
  const banner = () => select('[data-lifeline="banner"]')?.getAttribute('data-state')
  const nextRetryAt = () => Number(select('[data-testid="live-attempt"]')?.dataset.nextRetryAt ?? Number.NaN)

  await waitFor(() => expect(status()).toBe('open'), { timeout: 10_000 })
  try {
    await control.run('kill')
    await waitFor(() => expect(status()).not.toBe('open'), { timeout: 5000 })
    const troubleAt = performance.now()
    // A blip is not shown: hidden until showAfterMs has passed…
    await expect(banner()).toBe('hidden')
    await waitFor(() => expect(banner()).toBe('reconnecting'), { timeout: SHOW_AFTER_MS + 2000 })
    await expect(performance.now() - troubleAt).toBeGreaterThanOrEqual(SHOW_AFTER_MS - 50)

    // …then the countdown says what nextRetryAt says, to the second. Wait for a wait long enough to read.
    await waitFor(() => expect(nextRetryAt() - Date.now()).toBeGreaterThan(2500), { timeout: 20_000, interval: 100 })
    const shown = select('[data-lifeline="banner-countdown"]')?.textContent ?? ''
    const seconds = Number(/(\d+) s/.exec(shown)?.[1] ?? Number.NaN)
    const expected = (nextRetryAt() - Date.now()) / 1000
    // Whole seconds rounded up, re-rendered on each second boundary (a timer may fire a few ms late).
    await expect(Math.abs(seconds - expected)).toBeLessThanOrEqual(1.05)

    // Retry now, with the server back, reconnects long before the scheduled attempt.
    const scheduled = nextRetryAt()
    await control.run('restart')
    select('[data-lifeline="banner-retry"]')?.click()
    await waitFor(() => expect(status()).toBe('open'), { timeout: 2000 })
    await expect(Date.now()).toBeLessThan(scheduled)
    // Back on WebSocket with the banner gone: a plain restart is no reason for the long-poll fallback.
    await waitFor(() => expect(banner()).toBe('hidden'))
    await expect(select('[data-testid="live-transport"]')?.textContent).toBe('websocket')
  } finally {
    const state = await control.state()
    if (!state.up) await control.run('restart')
  }
}
