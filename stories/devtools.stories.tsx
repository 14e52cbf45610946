import { useEffect, useMemo, useState } from 'react'
import type { Meta, StoryObj } from '@storybook/react-vite'
import { ConnectionBanner, OfflineQueue, ReconnectCountdown } from '../src/components'
import type { DevtoolsTrace, TraceSnapshot } from '../src/devtools'
// The panel itself, not the `LifelineDevtools` entry: a static Storybook is a production build, where the entry
// renders nothing.
import { LifelineDevtoolsPanel } from '../src/devtools/panel'
import { LifelineProvider } from '../src/react'
import { replayTrace } from '../src/testing/replay'

const meta = {
  title: 'Devtools/LifelineDevtools',
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

const T0 = 1_700_000_000_000
const base: TraceSnapshot = {
  status: 'open',
  transport: 'websocket',
  attempt: 0,
  nextRetryAt: null,
  lastClose: null,
  lastError: null,
  online: true,
  latencyMs: 38,
  outbox: { queued: 0, inFlight: 0, failed: 0, bytes: 0 },
  session: { id: '[redacted]', resumed: null },
}
const drop = {
  code: 1006,
  reason: '',
  wasClean: false,
  at: T0 + 4000,
  meaning: { code: 1006, name: 'abnormal', action: 'reconnect' },
}
const item = {
  id: 'm1',
  channel: 'chat',
  bytes: 42,
  state: 'queued' as const,
  attempts: 0,
  createdAt: T0 + 5000,
  expiresAt: null,
  error: null,
}

/** A recorded incident (as `Export trace` writes one): the server dies, two retries fail, it comes back. */
const incident: DevtoolsTrace = {
  version: 1,
  exportedAt: T0 + 20_000,
  url: 'wss://example.test/live?[redacted]',
  protocol: 'lifeline',
  backoff: { minDelayMs: 500, maxDelayMs: 30_000 },
  timeline: [],
  frames: [],
  steps: [
    { at: T0, snapshot: base, items: [] },
    { at: T0 + 2000, snapshot: { ...base, latencyMs: 41 } },
    {
      at: T0 + 4000,
      snapshot: {
        ...base,
        status: 'reconnecting',
        attempt: 1,
        nextRetryAt: T0 + 6100,
        lastClose: drop,
        lastError: { name: 'LifelineError', code: 'CONNECTION_CLOSED', message: '1006 abnormal' },
      },
    },
    {
      at: T0 + 5000,
      snapshot: {
        ...base,
        status: 'reconnecting',
        attempt: 1,
        nextRetryAt: T0 + 6100,
        lastClose: drop,
        outbox: { queued: 1, inFlight: 0, failed: 0, bytes: 42 },
      },
      items: [item],
    },
    {
      at: T0 + 6100,
      snapshot: {
        ...base,
        status: 'connecting',
        attempt: 1,
        lastClose: drop,
        outbox: { queued: 1, inFlight: 0, failed: 0, bytes: 42 },
      },
    },
    {
      at: T0 + 6300,
      snapshot: {
        ...base,
        status: 'reconnecting',
        attempt: 2,
        nextRetryAt: T0 + 7900,
        lastClose: { ...drop, at: T0 + 6300 },
        lastError: {
          name: 'HandshakeError',
          code: 'HANDSHAKE_FAILED',
          message: 'upgrade failed: server-error',
          diagnosis: { kind: 'server-error', status: 502, reason: 'Bad Gateway', retryAfterMs: null },
        },
        outbox: { queued: 1, inFlight: 0, failed: 0, bytes: 42 },
      },
    },
    {
      at: T0 + 7900,
      snapshot: {
        ...base,
        status: 'connecting',
        attempt: 2,
        lastClose: { ...drop, at: T0 + 6300 },
        outbox: { queued: 1, inFlight: 0, failed: 0, bytes: 42 },
      },
    },
    {
      at: T0 + 8100,
      snapshot: {
        ...base,
        attempt: 0,
        lastClose: { ...drop, at: T0 + 6300 },
        latencyMs: 52,
        session: { id: '[redacted]', resumed: true },
      },
      items: [],
    },
  ],
}

function Player(props: { trace: DevtoolsTrace }) {
  const replay = useMemo(() => replayTrace(props.trace), [props.trace])
  const [index, setIndex] = useState(0)
  const [playing, setPlaying] = useState(false)
  useEffect(() => {
    if (!playing) return
    const stop = replay.play(1200)
    const timer = setInterval(() => {
      setIndex(replay.index)
      if (replay.index >= replay.length - 1) setPlaying(false)
    }, 100)
    return () => {
      stop()
      clearInterval(timer)
    }
  }, [playing, replay])
  const go = (target: number) => {
    replay.seek(target)
    setIndex(replay.index)
  }
  return (
    <LifelineProvider client={replay.client}>
      <p>
        Step {index + 1} of {replay.length}: <strong>{replay.client.getSnapshot().status}</strong>{' '}
        <button type="button" onClick={() => go(0)}>
          Reset
        </button>{' '}
        <button type="button" onClick={() => go(index + 1)} disabled={index >= replay.length - 1}>
          Step
        </button>{' '}
        <button type="button" onClick={() => setPlaying(!playing)}>
          {playing ? 'Pause' : 'Play'}
        </button>
      </p>
      <ConnectionBanner showAfterMs={0} />
      <ReconnectCountdown />
      <OfflineQueue defaultExpanded />
      <LifelineDevtoolsPanel initialIsOpen theme="light" />
    </LifelineProvider>
  )
}

/** A recorded incident replayed through `replayTrace()`: the components and the devtools follow it step by step. */
export const ReplayedIncident: Story = {
  render: () => <Player trace={incident} />,
}
