import type { ComponentProps } from 'react'
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { ConnectionBanner, defaultOfflineQueueLabels, OfflineQueue } from '../../src/components'
import '../../src/components/styles.css'
import { Chat } from '../_shared/chat'
import { devServers } from '../_shared/dev-servers'
import { LiveFrame } from '../_shared/live'
import { ScriptedProvider, StateGrid } from '../_shared/scripted'
import { queueStates } from '../_shared/scripted-client'
import { Themed, type StoryTheme } from './themed'

/** The Default story's controls: the queue's props, plus the scripted outbox it shows and the theme around it. */
type QueueArgs = ComponentProps<typeof OfflineQueue> & { state: string; theme: StoryTheme }

const meta = {
  title: 'Components/OfflineQueue',
  component: OfflineQueue,
  // A docs page with the prop table (from the props' JSDoc, by react-docgen) and every story below.
  tags: ['autodocs'],
  // A client is no value to edit (the stories provide one), nor is a function.
  argTypes: { client: { control: false }, formatItem: { control: false } },
  parameters: {
    docs: {
      description: {
        component:
          'The outbox for users: messages waiting, their size and state (waiting, sending, failed with the reason), ' +
          'retry and discard per message and for all, behind a collapsed summary.',
      },
    },
  },
} satisfies Meta<QueueArgs>

export default meta
type Story = StoryObj<QueueArgs>

const [waiting, failedAndWaiting] = queueStates()

/**
 * The drop-in queue while offline with three messages waiting (collapsed; Show messages opens it). Try the controls:
 * the outbox it shows, `defaultExpanded`, the texts (`labels`, merged over the English ones) and the stylesheet's
 * light or dark theme.
 */
export const Default: Story = {
  args: {
    state: 'Waiting: three messages, collapsed',
    theme: 'light',
    defaultExpanded: false,
    labels: {
      list: defaultOfflineQueueLabels.list,
      queued: defaultOfflineQueueLabels.queued,
      sending: defaultOfflineQueueLabels.sending,
      retryAll: defaultOfflineQueueLabels.retryAll,
      discardAll: defaultOfflineQueueLabels.discardAll,
    },
  },
  argTypes: {
    state: {
      description: 'The scripted outbox the queue shows (story only, not a prop).',
      control: 'select',
      options: queueStates().map((state) => state.title),
      table: { category: 'Story' },
    },
    theme: {
      description: 'The stylesheet theme around the queue: `data-theme` on an ancestor (story only, not a prop).',
      control: 'inline-radio',
      options: ['light', 'dark'],
      table: { category: 'Story' },
    },
  },
  render: ({ state, theme, ...props }) => {
    const scripted = queueStates().find((candidate) => candidate.title === state) ?? { snapshot: {} }
    return (
      <Themed theme={theme}>
        {/* Keyed: a new outbox is a new scripted client; `defaultExpanded` applies when the queue mounts. */}
        <ScriptedProvider key={`${state}/${String(props.defaultExpanded)}`} state={scripted}>
          <OfflineQueue {...props} />
        </ScriptedProvider>
      </Themed>
    )
  },
  play: async ({ canvasElement }) => {
    await expect(canvasElement.querySelector('[data-lifeline="queue"]')?.getAttribute('data-state')).toBe('waiting')
  },
}

/** Expanded, with waiting, sending, failed (too large, refused) and binary items: retry and discard work. */
export const Expanded: Story = {
  args: { defaultExpanded: true },
  render: (args) => (
    <ScriptedProvider state={failedAndWaiting ?? { snapshot: {} }}>
      <OfflineQueue {...args} />
    </ScriptedProvider>
  ),
}

/**
 * Previews read the JSON as words by default (`text: On my way, 5 minutes`); `formatItem(item, preview)` renders them
 * your way, here with the message type as a label.
 */
export const FormattedItems: Story = {
  args: {
    defaultExpanded: true,
    formatItem: (item, preview) => {
      const type = typeof item.data === 'string' ? /"type":"(\w+)"/.exec(item.data)?.[1] : undefined
      return type ? `${type}: ${preview.replace(/^type: \w+, /, '')}` : preview
    },
  },
  render: (args) => (
    <ScriptedProvider state={waiting ?? { snapshot: {} }}>
      <OfflineQueue {...args} />
    </ScriptedProvider>
  ),
  play: async ({ canvasElement }) => {
    const previews = [...canvasElement.querySelectorAll('[data-lifeline="queue-preview"]')].map(
      (node) => node.textContent,
    )
    await expect(previews[0]).toBe('chat: text: On my way, 5 minutes')
  },
}

/** Every state from scripted outboxes, expanded. */
export const AllStates: Story = {
  render: () => (
    <StateGrid
      title="OfflineQueue: every state"
      states={queueStates()}
      render={() => <OfflineQueue defaultExpanded />}
    />
  ),
}

/** Every state in the stylesheet's dark theme (`data-theme="dark"` on an ancestor; `prefers-color-scheme` also works). */
export const AllStatesDark: Story = {
  render: () => (
    <StateGrid
      title="OfflineQueue: every state, dark theme"
      theme="dark"
      states={queueStates()}
      render={() => <OfflineQueue defaultExpanded />}
    />
  ),
}

/**
 * A chat on the embedded server: go offline (or kill the server), send a few messages and watch them wait in the
 * queue; go back online and they drain, in order, each applied once.
 */
export const Live: Story = {
  render: () => (
    <LiveFrame title="OfflineQueue, live">
      <ConnectionBanner />
      <Chat channel="queue-demo" name="you" />
      <OfflineQueue defaultExpanded />
    </LiveFrame>
  ),
  play: async ({ canvasElement }) => {
    if (!devServers().lifelineUrl) return
    await waitFor(() => expect(canvasElement.querySelector('[data-testid="live-status"]')?.textContent).toBe('open'), {
      timeout: 10_000,
    })
  },
}
