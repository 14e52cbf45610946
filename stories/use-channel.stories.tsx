import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, userEvent, waitFor, within } from 'storybook/test'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../src/components'
import '../src/components/styles.css'
import { Chat } from './_shared/chat'
import { devServers } from './_shared/dev-servers'
import { LiveFrame } from './_shared/live'

const meta = {
  title: 'Hooks/useChannel',
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/**
 * A small chat over `useChannel` on the embedded reference server, with the three components and the fault panel.
 * Go offline (or kill the server) and send: the offline queue fills. Come back: it drains in order, each message
 * applied once, and the channel resumes where it left off (no gap inside the resume window).
 */
export const Playground: Story = {
  render: () => (
    <LiveFrame title="useChannel playground: chat">
      <ConnectionBanner />
      <ReconnectCountdown maxAttempts={12} />
      <Chat channel="lobby" name="you" />
      <OfflineQueue defaultExpanded />
    </LiveFrame>
  ),
  play: async ({ canvasElement }) => {
    if (!devServers().lifelineUrl) return
    const canvas = within(canvasElement)
    const status = () => canvasElement.querySelector('[data-testid="live-status"]')?.textContent
    await waitFor(() => expect(status()).toBe('open'), { timeout: 10_000 })
    // Offline: a message waits in the queue…
    await userEvent.click(canvas.getByRole('button', { name: 'Go offline' }))
    await waitFor(() => expect(status()).toBe('offline'))
    const text = `queued while offline ${String(Date.now())}`
    const input = canvas.getByLabelText('Message')
    await userEvent.clear(input)
    await userEvent.type(input, text)
    await userEvent.click(canvas.getByRole('button', { name: 'Send' }))
    await waitFor(() =>
      expect(canvasElement.querySelector('[data-lifeline="queue"]')?.getAttribute('data-state')).toBe('waiting'),
    )
    // …and drains once back online, arriving in the channel.
    await userEvent.click(canvas.getByRole('button', { name: 'Go online' }))
    await waitFor(() => expect(canvas.getByTestId('chat-log').textContent).toContain(text), { timeout: 10_000 })
    await waitFor(() =>
      expect(canvasElement.querySelector('[data-lifeline="queue"]')?.getAttribute('data-state')).toBe('empty'),
    )
  },
}
