import type { ComponentProps } from 'react'
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { ConnectionBanner, defaultReconnectCountdownLabels, ReconnectCountdown } from '../../src/components'
import '../../src/components/styles.css'
import { devServers } from '../_shared/dev-servers'
import { LiveFrame } from '../_shared/live'
import { ScriptedProvider, StateGrid } from '../_shared/scripted'
import { countdownStates } from '../_shared/scripted-client'
import { Themed, type StoryTheme } from './themed'

/** The Default story's controls: the countdown's props, plus the scripted state it shows and the theme around it. */
type CountdownArgs = ComponentProps<typeof ReconnectCountdown> & { state: string; theme: StoryTheme }

const meta = {
  title: 'Components/ReconnectCountdown',
  component: ReconnectCountdown,
  // A docs page with the prop table (from the props' JSDoc, by react-docgen) and every story below.
  tags: ['autodocs'],
  // A client is no value to edit: the stories provide one.
  argTypes: { client: { control: false } },
  parameters: {
    docs: {
      description: {
        component:
          'Time to the next attempt from `nextRetryAt`, attempt n of max, a progress bar of the wait and Retry now. ' +
          'Ticks silently (never announced).',
      },
    },
  },
} satisfies Meta<CountdownArgs>

export default meta
type Story = StoryObj<CountdownArgs>

/**
 * The drop-in countdown on a connection waiting for its fourth attempt. Try the controls: the state the client is in,
 * `maxAttempts`, the texts (`labels`, merged over the English ones) and the stylesheet's light or dark theme.
 */
export const Default: Story = {
  args: {
    state: 'Waiting: fourth retry, longer backoff',
    theme: 'light',
    maxAttempts: 10,
    labels: {
      connecting: defaultReconnectCountdownLabels.connecting,
      progress: defaultReconnectCountdownLabels.progress,
      retry: defaultReconnectCountdownLabels.retry,
    },
  },
  argTypes: {
    state: {
      description: 'The scripted connection state the countdown follows (story only, not a prop).',
      control: 'select',
      options: countdownStates().map((state) => state.title),
      table: { category: 'Story' },
    },
    theme: {
      description: 'The stylesheet theme around the countdown: `data-theme` on an ancestor (story only, not a prop).',
      control: 'inline-radio',
      options: ['light', 'dark'],
      table: { category: 'Story' },
    },
  },
  render: ({ state, theme, ...props }) => {
    const scripted = countdownStates().find((candidate) => candidate.title === state) ?? { snapshot: {} }
    return (
      <Themed theme={theme}>
        {/* Keyed: a new state is a new scripted client (and a fresh wait). */}
        <ScriptedProvider key={state} state={scripted}>
          <ReconnectCountdown {...props} />
        </ScriptedProvider>
      </Themed>
    )
  },
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
