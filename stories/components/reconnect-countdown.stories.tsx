import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { ConnectionBanner, ReconnectCountdown } from '../../src/components'
import '../../src/components/styles.css'
import { devServers } from '../_shared/dev-servers'
import { LiveFrame } from '../_shared/live'
import { ScriptedProvider, StateGrid } from '../_shared/scripted'
import { closed, countdownStates } from '../_shared/scripted-client'

const meta = {
  title: 'Components/ReconnectCountdown',
  component: ReconnectCountdown,
  parameters: {
    docs: {
      description: {
        component:
          'Time to the next attempt from `nextRetryAt`, attempt n of max, a progress bar of the wait and Retry now. ' +
          'Ticks silently (never announced).',
      },
    },
  },
} satisfies Meta<typeof ReconnectCountdown>

export default meta
type Story = StoryObj<typeof meta>

/** The drop-in countdown on a connection waiting for its third attempt. */
export const Default: Story = {
  args: { maxAttempts: 10 },
  render: (args) => (
    <ScriptedProvider
      state={{
        snapshot: { status: 'reconnecting', attempt: 3, nextRetryAt: Date.now() + 9000, lastClose: closed(1006) },
      }}
    >
      <ReconnectCountdown {...args} />
    </ScriptedProvider>
  ),
  play: async ({ canvasElement }) => {
    const root = canvasElement.querySelector('[data-lifeline="countdown"]')
    await expect(root?.getAttribute('data-state')).toBe('waiting')
  },
}

/** Every state from scripted snapshots: waiting (short, long, rate limited), the attempt running, inactive. */
export const AllStates: Story = {
  render: () => (
    <StateGrid
      title="ReconnectCountdown: every state"
      states={countdownStates()}
      render={() => <ReconnectCountdown maxAttempts={10} />}
    />
  ),
}

/** Every state in the stylesheet's dark theme (`data-theme="dark"` on an ancestor; `prefers-color-scheme` also works). */
export const AllStatesDark: Story = {
  render: () => (
    <StateGrid
      title="ReconnectCountdown: every state, dark theme"
      theme="dark"
      states={countdownStates()}
      render={() => <ReconnectCountdown maxAttempts={10} />}
    />
  ),
}

/** Connected to the embedded server: kill it (or go offline) and the countdown follows every backoff wait. */
export const Live: Story = {
  render: () => (
    <LiveFrame title="ReconnectCountdown, live">
      <ConnectionBanner />
      <ReconnectCountdown maxAttempts={12} />
    </LiveFrame>
  ),
  play: async ({ canvasElement }) => {
    if (!devServers().lifelineUrl) return
    await waitFor(() => expect(canvasElement.querySelector('[data-testid="live-status"]')?.textContent).toBe('open'), {
      timeout: 10_000,
    })
  },
}
