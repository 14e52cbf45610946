import type { ComponentProps } from 'react'
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import {
  ConnectionBanner,
  defaultConnectionBannerLabels,
  ReconnectCountdown,
  type ConnectionBannerLabels,
} from '../../src/components'
import '../../src/components/styles.css'
import { devServers } from '../_shared/dev-servers'
import { LiveFrame } from '../_shared/live'
import { playOutage } from '../_shared/outage'
import { ScriptedProvider, StateGrid } from '../_shared/scripted'
import { bannerStates, closed } from '../_shared/scripted-client'
import { Themed, type StoryTheme } from './themed'

/** The Default story's controls: the banner's props, plus the scripted state it shows and the theme around it. */
type BannerArgs = ComponentProps<typeof ConnectionBanner> & { state: string; theme: StoryTheme }

const stateTitles = bannerStates().map((state) => state.title)

const meta = {
  title: 'Components/ConnectionBanner',
  component: ConnectionBanner,
  // A docs page with the prop table (from the props' JSDoc, by react-docgen) and every story below.
  tags: ['autodocs'],
  // A client is no value to edit: the stories provide one.
  argTypes: { client: { control: false } },
  parameters: {
    docs: {
      description: {
        component:
          'Tells users what is happening to the connection in plain words, after `showAfterMs` of trouble, with ' +
          'Retry now and Dismiss. Works with no props inside a `LifelineProvider`.',
      },
    },
  },
} satisfies Meta<BannerArgs>

export default meta
type Story = StoryObj<BannerArgs>

/**
 * The drop-in banner on a connection that was just lost: it appears after `showAfterMs` (1 s), says what happens,
 * counts down to the next attempt, and offers Retry now and Dismiss. Try the controls: the state the client is in,
 * the delay, the texts (`labels`, merged over the English ones) and the stylesheet's light or dark theme.
 */
export const Default: Story = {
  args: {
    state: 'Reconnecting, with the countdown',
    theme: 'light',
    showAfterMs: 1000,
    labels: {
      reconnecting: defaultConnectionBannerLabels.reconnecting,
      offline: defaultConnectionBannerLabels.offline,
      degraded: defaultConnectionBannerLabels.degraded,
      retry: defaultConnectionBannerLabels.retry,
      dismiss: defaultConnectionBannerLabels.dismiss,
    },
  },
  argTypes: {
    state: {
      description: 'The scripted connection state the banner reports on (story only, not a prop).',
      control: 'select',
      options: stateTitles,
      table: { category: 'Story' },
    },
    theme: {
      description: 'The stylesheet theme around the banner: `data-theme` on an ancestor (story only, not a prop).',
      control: 'inline-radio',
      options: ['light', 'dark'],
      table: { category: 'Story' },
    },
  },
  render: ({ state, theme, ...props }) => {
    const scripted = bannerStates().find((candidate) => candidate.title === state) ?? { snapshot: {} }
    return (
      <Themed theme={theme}>
        {/* Keyed: a new state is a new scripted client, and the banner waits `showAfterMs` again. */}
        <ScriptedProvider key={`${state}/${String(props.showAfterMs)}`} state={scripted}>
          <ConnectionBanner {...props} />
        </ScriptedProvider>
      </Themed>
    )
  },
  play: async ({ canvasElement }) => {
    const root = canvasElement.querySelector('[data-lifeline="banner"]')
    await waitFor(() => expect(root?.getAttribute('data-state')).toBe('reconnecting'), { timeout: 3000 })
    // Let the entrance animation end before axe checks contrast (a fading banner has too little).
    await Promise.all(root?.getAnimations({ subtree: true }).map((animation) => animation.finished) ?? [])
  },
}

/**
 * Next to a `ReconnectCountdown` of the same client the two compose: the countdown says "Retrying in …" and the banner
 * offers Retry now, each once. Alone, each shows both.
 */
export const WithCountdown: Story = {
  render: () => (
    <ScriptedProvider
      state={{
        snapshot: { status: 'reconnecting', attempt: 2, nextRetryAt: Date.now() + 8000, lastClose: closed(1006) },
      }}
    >
      <div style={{ display: 'grid', gap: '0.5rem' }}>
        <ConnectionBanner showAfterMs={0} />
        <ReconnectCountdown maxAttempts={10} />
      </div>
    </ScriptedProvider>
  ),
  play: async ({ canvasElement }) => {
    await expect(canvasElement.querySelectorAll('button[data-lifeline$="-retry"]')).toHaveLength(1)
    await expect(canvasElement.querySelector('[data-lifeline="banner-retry"]')).not.toBeNull()
    await expect(canvasElement.querySelector('[data-lifeline="banner-countdown"]')).toBeNull()
    await expect(canvasElement.querySelector('[data-lifeline="countdown-time"]')?.textContent).toMatch(/^Retrying in/)
    const root = canvasElement.querySelector('[data-lifeline="banner"]')
    await Promise.all(root?.getAnimations({ subtree: true }).map((animation) => animation.finished) ?? [])
  },
}

const french: Partial<ConnectionBannerLabels> = {
  reconnecting: 'Connexion perdue. Reconnexion…',
  retryIn: (time) => `Nouvel essai dans ${time}.`,
  retry: 'Réessayer maintenant',
  formatDuration: (ms) => `${String(Math.ceil(ms / 1000))} s`,
}

/**
 * Composed from the headless parts, as a design system would: its own markup and styles (keyed on `data-state`), no
 * Dismiss, an icon, and every text from `labels` (French here).
 */
export const Composed: Story = {
  render: () => (
    <ScriptedProvider
      state={{
        snapshot: { status: 'reconnecting', attempt: 2, nextRetryAt: Date.now() + 8000, lastClose: closed(1006) },
      }}
    >
      <style>{composedCss}</style>
      <ConnectionBanner.Root showAfterMs={0} labels={french} className="ds-toast" lang="fr">
        <ConnectionBanner.Announcer />
        <span aria-hidden="true" className="ds-toast-icon">
          ⟳
        </span>
        <div className="ds-toast-text">
          <ConnectionBanner.Message className="ds-toast-title" />
          <ConnectionBanner.Countdown className="ds-toast-detail" />
        </div>
        <ConnectionBanner.RetryButton className="ds-toast-action" />
      </ConnectionBanner.Root>
    </ScriptedProvider>
  ),
}

const composedCss = `
.ds-toast { display: flex; align-items: center; gap: .75rem; max-width: 26rem; padding: .75rem 1rem; border-radius: 999px;
  font: 14px/1.3 system-ui, sans-serif; background: #24292f; color: #ffffff; box-shadow: 0 4px 12px rgb(0 0 0 / .25); }
.ds-toast[data-state='hidden'] { display: none; }
.ds-toast-icon { font-size: 1.25rem; }
.ds-toast-text { display: grid; flex: 1; }
.ds-toast-title { margin: 0; font-weight: 600; }
.ds-toast-detail { color: #d0d7de; }
.ds-toast-action { font: inherit; padding: .35rem .8rem; border: 0; border-radius: 999px; background: #ffffff; color: #24292f; cursor: pointer; }
`

/** Every state the banner has words for, from scripted snapshots, shown at once (`showAfterMs={0}`). */
export const AllStates: Story = {
  render: () => (
    <StateGrid
      title="ConnectionBanner: every state"
      states={bannerStates()}
      render={() => <ConnectionBanner showAfterMs={0} />}
    />
  ),
}

/** Every state in the stylesheet's dark theme (`data-theme="dark"` on an ancestor; `prefers-color-scheme` also works). */
export const AllStatesDark: Story = {
  render: () => (
    <StateGrid
      title="ConnectionBanner: every state, dark theme"
      theme="dark"
      states={bannerStates()}
      render={() => <ConnectionBanner showAfterMs={0} />}
    />
  ),
}

/**
 * Connected to the embedded reference server through the fault proxy: kill it, blackhole it, close with a code,
 * reject or block upgrades, or take this tab offline, and watch the banner (it waits 1 s before it shows).
 */
export const Live: Story = {
  render: () => (
    <LiveFrame title="ConnectionBanner, live">
      <ConnectionBanner />
    </LiveFrame>
  ),
  play: async ({ canvasElement }) => {
    if (!devServers().lifelineUrl) return
    await waitFor(() => expect(canvasElement.querySelector('[data-testid="live-status"]')?.textContent).toBe('open'), {
      timeout: 10_000,
    })
  },
}

/**
 * R28, run by the stories-as-tests project only (`!dev`: it kills the server every Live story shares): through a real
 * outage the banner waits `showAfterMs`, its countdown matches `nextRetryAt` within 1 s, and Retry now reconnects at
 * once.
 */
export const Outage: Story = {
  tags: ['!dev', '!autodocs'],
  render: () => (
    // With the long-poll fallback, as an app would have it: a plain restart must come back on WebSocket.
    <LiveFrame title="ConnectionBanner through an outage">
      <ConnectionBanner />
    </LiveFrame>
  ),
  play: async ({ canvasElement }) => playOutage(canvasElement),
}
