import { useEffect, useId, useState } from 'react'
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, userEvent, waitFor, within } from 'storybook/test'
import { ConnectionBanner, ReconnectCountdown } from '../src/components'
import '../src/components/styles.css'
import { useEventSource } from '../src/react'
import { devServers } from './_shared/dev-servers'
import { createLifelineControl, type LifelineControl } from './_shared/lifeline-control'
import { FaultPanel, ServerMissingNote } from './_shared/live'
import { createNetworkSwitch, type NetworkSwitch } from './_shared/network-switch'

/** The Live story's controls. */
interface LiveArgs {
  /** The channel the stream reads (`<path>/events?ch=<channel>`). */
  channel: string
  /** How often the story publishes on it through the control API, ms. */
  publishEveryMs: number
}

const meta = {
  title: 'Hooks/useEventSource',
  args: { channel: 'ticker', publishEveryMs: 1000 },
  argTypes: {
    channel: { control: 'text', description: 'Channel read by the stream (`?ch=`)' },
    publishEveryMs: {
      control: { type: 'number', min: 250, max: 10_000, step: 250 },
      description: 'Publish period, ms',
    },
  },
} satisfies Meta<LiveArgs>

export default meta
type Story = StoryObj<LiveArgs>

/** Events kept on screen. */
const SHOWN = 8

interface EventRow {
  type: string
  id: string
  data: string
}

function resumeText(resumed: boolean | null): string {
  if (resumed === null) return 'No reconnect yet'
  return resumed ? 'Resumed: nothing missed' : 'Gap: the server lost the history, events may be missing'
}

/** Publishes `tick <n>` on `channel` every `everyMs` through the control API, while mounted. */
function usePublisher(control: LifelineControl, channel: string, everyMs: number): void {
  useEffect(() => {
    let n = 0
    const timer = setInterval(() => {
      n += 1
      // Publishing goes on while the server is killed (the broker outlives it): the resume replays those.
      control.run('publish', { channel, text: `tick ${String(n)}` }).catch(() => undefined)
    }, everyMs)
    return () => clearInterval(timer)
  }, [control, channel, everyMs])
}

function LiveStream(props: LiveArgs & { lifelineUrl: string; control: LifelineControl; network: NetworkSwitch }) {
  const { channel, control, network } = props
  const url = `${props.lifelineUrl.replace(/^ws/, 'http')}/events?ch=${encodeURIComponent(channel)}`
  usePublisher(control, channel, props.publishEveryMs)
  const [rows, setRows] = useState<EventRow[]>([])
  const result = useEventSource(url, {
    getToken: () => 'story-token',
    environment: network.environment,
    minDelayMs: 500,
    maxDelayMs: 8000,
    maxAttempts: 12,
    // Above the server's 15 s keep-alive: a blackholed stream is replaced within 20 s.
    idleTimeoutMs: 20_000,
    onMessage: (message) => {
      const row = { type: message.type ?? 'message', id: message.lastEventId ?? '', data: String(message.data) }
      setRows((previous) => [...previous, row].slice(-SHOWN))
    },
  })
  const { status, attempt, session, lastClose, lastError } = result
  const listId = useId()
  return (
    <div className="sse-columns">
      <div>
        <section className="sse-app" aria-label="Your app">
          {/* `result.client` is `LifelineClient | null`; the components take `LifelineClient | undefined`. */}
          <ConnectionBanner client={result.client ?? undefined} />
          <ReconnectCountdown client={result.client ?? undefined} maxAttempts={12} />
          <p data-testid="resume-state" data-resumed={String(session.resumed)}>
            {resumeText(session.resumed)}
          </p>
          <h2 id={listId}>Last events</h2>
          <ol aria-labelledby={listId} data-testid="event-list" className="sse-events">
            {rows.map((row) => (
              <li key={row.id || row.data}>
                <code>{row.type}</code> <code>{row.id}</code> <code>{row.data}</code>
              </li>
            ))}
          </ol>
        </section>
        <dl className="sse-summary">
          <dt>Status</dt>
          <dd data-testid="live-status">{status}</dd>
          <dt>Attempt</dt>
          <dd>{attempt}</dd>
          <dt>Last close</dt>
          <dd>{lastClose ? `${String(lastClose.code)} ${lastClose.meaning.name}` : 'none'}</dd>
          <dt>Last error</dt>
          <dd>{lastError ? lastError.code : 'none'}</dd>
          <dt>Stream</dt>
          <dd>
            <code>{url}</code>
          </dd>
        </dl>
      </div>
      <FaultPanel control={control} network={network} />
    </div>
  )
}

function LiveEventSource(props: LiveArgs) {
  const { lifelineUrl, lifelineControlUrl } = devServers()
  const [network] = useState(() => createNetworkSwitch())
  const [control] = useState(() => (lifelineControlUrl ? createLifelineControl(lifelineControlUrl) : null))
  return (
    <main className="sse">
      <style>{css}</style>
      <h1>useEventSource: a channel as Server-Sent Events</h1>
      {lifelineUrl && control ? (
        <LiveStream {...props} lifelineUrl={lifelineUrl} control={control} network={network} />
      ) : (
        <ServerMissingNote />
      )}
    </main>
  )
}

/**
 * `useEventSource` on `<path>/events?ch=<channel>` of the embedded reference server, through the fault proxy, while
 * the story publishes on the channel every second. Kill the server, drop connections, blackhole, reject, or go
 * offline: the banner and countdown follow the stream, and on the way back the stream resumes from `Last-Event-ID`
 * (nothing missed). The server keeps the history across a kill, so a gap only shows when it is lost.
 */
export const Live: Story = {
  render: (args) => <LiveEventSource {...args} />,
  play: async ({ canvasElement }) => {
    if (!devServers().lifelineUrl) return
    const canvas = within(canvasElement)
    const status = () => canvas.getByTestId('live-status').textContent
    const events = () => canvas.getByTestId('event-list').querySelectorAll('li').length
    await waitFor(() => expect(status()).toBe('open'), { timeout: 10_000 })
    await waitFor(() => expect(events()).toBeGreaterThan(0), { timeout: 5000 })
    // Offline: the stream is cut, ticks go on in the channel; back online it resumes from the last id.
    await userEvent.click(canvas.getByRole('button', { name: 'Go offline' }))
    await waitFor(() => expect(status()).toBe('offline'))
    await userEvent.click(canvas.getByRole('button', { name: 'Go online' }))
    await waitFor(() => expect(status()).toBe('open'), { timeout: 10_000 })
    await waitFor(() => expect(canvas.getByTestId('resume-state').dataset.resumed).toBe('true'), { timeout: 5000 })
  },
}

// Story-only styling (the components use the optional stylesheet).
const css = `
.sse { font: 14px/1.4 system-ui, sans-serif; color: #1f2328; max-width: 70rem; }
.sse h1 { font-size: 1.2rem; margin: 0 0 .75rem; }
.sse h2 { font-size: 1rem; margin: 0 0 .5rem; }
.sse code { font-family: ui-monospace, monospace; }
.sse-columns { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(24rem, 100%), 1fr)); align-items: start; }
.sse-app { display: grid; gap: .75rem; min-height: 4rem; padding: .75rem; border: 1px dashed #8c959f; border-radius: 6px; }
.sse-events { margin: 0; padding-left: 1.5rem; min-height: 1rem; word-break: break-all; }
.sse-summary { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .75rem 0 0; }
.sse-summary dt { font-weight: 600; }
.sse-summary dd { margin: 0; word-break: break-all; }
.live-panel { border: 1px solid #d1d9e0; border-radius: 6px; padding: .75rem; }
.live-faults { display: flex; flex-wrap: wrap; gap: .4rem; border: 1px solid #d1d9e0; border-radius: 4px; margin: 0 0 .5rem; }
.live-panel button { font: inherit; padding: .25rem .6rem; }
.live-note { border: 1px solid #9a6700; background: #fff8c5; color: #3b2300; border-radius: 6px; padding: .5rem 1rem; }
`
