import { useEffect, useMemo, useRef, useState } from 'react'
import type { Meta, StoryObj } from '@storybook/react-vite'
import { useWebSocket, type ConnectionSnapshot, type InboundMessage } from '../src'
import { lifelineError, resolveCloseMeaning } from '../src/core'
import { ConnectionPanel } from './_shared/connection-panel'
import { devServers } from './_shared/dev-servers'
import { createEchoControl } from './_shared/echo-control'
import { describeData, LOG_SIZE, type LogEntry } from './_shared/message-log'

const meta = {
  title: 'Hooks/useWebSocket',
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/** Wall-clock time, re-rendering every 100 ms while something (a retry countdown) needs it. */
function useNow(ticking: boolean): number {
  const [, setTicks] = useState(0)
  useEffect(() => {
    if (!ticking) return
    const timer = setInterval(() => setTicks((ticks) => ticks + 1), 100)
    return () => clearInterval(timer)
  }, [ticking])
  // Read during render, so a countdown that just appeared is right on its first frame (not the last tick's time).
  return Date.now()
}

function LivePlayground(props: { echoUrl: string }) {
  const { echoUrl } = props
  const [log, setLog] = useState<LogEntry[]>([])
  const [tokenRequests, setTokenRequests] = useState(0)
  const nextId = useRef(0)
  const socket = useWebSocket(echoUrl, {
    heartbeat: { intervalMs: 5000, timeoutMs: 3000 },
    minDelayMs: 300,
    maxDelayMs: 5000,
    // Called before the first connect and after every 4001: the counter shows the refresh.
    getToken: async () => {
      setTokenRequests((count) => count + 1)
      return 'demo-token'
    },
    onMessage: (message: InboundMessage) => {
      nextId.current += 1
      const entry = { id: nextId.current, at: message.receivedAt, text: describeData(message.data) }
      setLog((previous) => [...previous, entry].slice(-LOG_SIZE))
    },
  })
  const now = useNow(socket.nextRetryAt !== null)
  const control = useMemo(() => createEchoControl(echoUrl), [echoUrl])
  return (
    <ConnectionPanel
      snapshot={socket}
      now={now}
      log={log}
      tokenRequests={tokenRequests}
      url={echoUrl}
      onSend={(text) => void socket.send(text)}
      onRetry={socket.retry}
      onClose={() => socket.close()}
      control={control}
    />
  )
}

/**
 * A live connection to the echo server that `npm start` runs next to Storybook, with a fault panel driving the
 * server: kill and restart it, close with the codes of the close-code table, drop sockets, refuse upgrades.
 */
export const Playground: Story = {
  render: () => {
    const { echoUrl } = devServers()
    return echoUrl ? <LivePlayground echoUrl={echoUrl} /> : <EchoMissingNote />
  },
}

/** Shown instead of the playground when no echo server is running (a static build, `npm run storybook`). */
function EchoMissingNote() {
  return (
    <div role="note" style={{ font: '14px/1.4 system-ui, sans-serif', maxWidth: '40rem' }}>
      <p>
        <strong>No echo server.</strong> This playground talks to the echo server that <code>npm start</code> runs next
        to Storybook, with a fault panel to kill it, close with a code and refuse upgrades. Run <code>npm start</code>{' '}
        and open this story there; the Static story below needs no server.
      </p>
    </div>
  )
}

// A fixed moment, so the scripted story renders the same text on every run.
const NOW = Date.UTC(2025, 0, 1, 12, 0, 0)
const closeReason = '{"retryAfterMs":3000}'

const scriptedSnapshot: ConnectionSnapshot = {
  status: 'reconnecting',
  transport: 'websocket',
  attempt: 3,
  nextRetryAt: NOW + 2400,
  lastClose: { code: 4002, reason: closeReason, wasClean: true, at: NOW - 600, meaning: resolveCloseMeaning(4002) },
  lastError: lifelineError('CONNECT_TIMEOUT', 'The attempt did not open within 10000 ms'),
  online: true,
  latencyMs: 12,
  outbox: { queued: 2, inFlight: 0, failed: 1, bytes: 48 },
  session: { id: null, resumed: null },
}

const scriptedLog: LogEntry[] = [
  { id: 1, at: NOW - 9000, text: 'hello' },
  { id: 2, at: NOW - 7500, text: '{"type":"chat","text":"still there?"}' },
  { id: 3, at: NOW - 4000, text: '[binary, 16 bytes]' },
]

const ignore = () => undefined

/** The same panel from a scripted snapshot (rate limited, third retry pending): no network, no server needed. */
export const Static: Story = {
  render: () => (
    <ConnectionPanel
      snapshot={scriptedSnapshot}
      now={NOW}
      log={scriptedLog}
      tokenRequests={1}
      url="ws://127.0.0.1:8787 (not connected in this story)"
      onSend={ignore}
      onRetry={ignore}
      onClose={ignore}
      control={null}
    />
  ),
}
