import { useEffect, useId, useState, type ReactNode } from 'react'
import {
  createLifeline,
  lifelineProtocol,
  longPollFallback,
  type ConnectionSnapshot,
  type LifelineOptions,
} from '../../src/core'
import { LifelineProvider, useConnection } from '../../src/react'
import { LifelineDevtoolsPanel } from '../../src/devtools/panel'
import { devServers } from './dev-servers'
import {
  createLifelineControl,
  type LifelineControl,
  type LifelineServerAction,
  type LifelineServerState,
} from './lifeline-control'
import { createNetworkSwitch, type NetworkSwitch } from './network-switch'

// Exports components only, so React Fast Refresh can update it in place.

/** The options every Live story connects with: short waits and heartbeat so the faults show within seconds. */
function liveOptions(network: NetworkSwitch, fallback: boolean): Omit<LifelineOptions, 'url'> {
  return {
    protocol: lifelineProtocol(),
    minDelayMs: 500,
    maxDelayMs: 8000,
    maxAttempts: 12,
    heartbeat: { intervalMs: 4000, timeoutMs: 3000 },
    getToken: () => 'story-token',
    environment: network.environment,
    // WebSocket blocked → long-poll; after "Unblock WebSocket" it moves back at the next upgrade probe (10 s here).
    ...(fallback ? { fallback: longPollFallback({ upgradeProbeMs: 10_000 }) } : {}),
  }
}

/** A fault button: its label, the control action, and its parameters. */
interface Fault {
  label: string
  action: LifelineServerAction
  params?: Record<string, string | number>
}

const faultGroups: ReadonlyArray<{ title: string; faults: readonly Fault[] }> = [
  {
    title: 'Server',
    faults: [
      { label: 'Kill server', action: 'kill' },
      { label: 'Restart server', action: 'restart' },
      { label: 'Kill for 5 s', action: 'restart-after', params: { ms: 5000 } },
      { label: 'Drop connections', action: 'terminate' },
    ],
  },
  {
    title: 'Network',
    faults: [
      { label: 'Blackhole (half-open)', action: 'blackhole' },
      { label: 'End blackhole', action: 'unblackhole' },
    ],
  },
  {
    title: 'Close with a code',
    faults: [
      { label: '1001 going away', action: 'close', params: { code: 1001 } },
      { label: '1008 policy violation', action: 'close', params: { code: 1008 } },
      { label: '1009 message too big', action: 'close', params: { code: 1009 } },
      { label: '4001 token expired', action: 'close', params: { code: 4001 } },
      { label: '4002 rate limited (5 s)', action: 'close', params: { code: 4002 } },
      { label: '4003 session expired', action: 'close', params: { code: 4003 } },
    ],
  },
  {
    title: 'Upgrades',
    faults: [
      { label: 'Reject 401', action: 'reject', params: { status: 401 } },
      { label: 'Reject 403', action: 'reject', params: { status: 403 } },
      { label: 'Accept again', action: 'accept' },
      { label: 'Block WebSocket (long-poll)', action: 'block-websocket' },
      { label: 'Unblock WebSocket', action: 'unblock-websocket' },
    ],
  },
]

/** Cluster mode only (`npm run start:cluster`): a node process each, and Redis. */
function clusterFaults(state: LifelineServerState): Array<{ title: string; faults: readonly Fault[] }> {
  const nodes = state.nodes ?? []
  return [
    {
      title: 'Cluster nodes',
      faults: nodes.flatMap(({ index }) => [
        { label: `Kill node ${String(index + 1)}`, action: 'kill-node', params: { index } },
        { label: `Restart node ${String(index + 1)}`, action: 'restart-node', params: { index } },
      ]),
    },
    {
      title: 'Redis',
      faults: [
        { label: 'Stop Redis', action: 'stop-redis' },
        { label: 'Start Redis', action: 'start-redis' },
      ],
    },
  ]
}

function describeServer(state: LifelineServerState | null): string {
  if (!state) return 'unknown'
  const parts = [state.up ? 'up' : state.restartAt === null ? 'killed' : 'killed, restarting']
  if (state.blackholed) parts.push('blackholed')
  if (state.rejectStatus !== null) parts.push(`rejecting with ${String(state.rejectStatus)}`)
  if (state.webSocketBlocked) parts.push('WebSocket blocked')
  parts.push(`${String(state.connections)} WebSocket open, ${String(state.totalConnections)} since start`)
  if (state.mode === 'cluster') {
    const nodes = (state.nodes ?? []).map(
      (node) => `node ${String(node.index + 1)} ${node.up ? `up (${String(node.connections)})` : 'killed'}`,
    )
    parts.push(...nodes, state.redisUp === true ? 'Redis up' : 'Redis stopped')
  }
  return parts.join(' · ')
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The fault panel: server faults through the control API, and the client's own network switch. */
export function FaultPanel(props: { control: LifelineControl; network: NetworkSwitch }) {
  const { control, network } = props
  const [server, setServer] = useState<LifelineServerState | null>(null)
  const [online, setOnline] = useState(network.get())
  const [result, setResult] = useState('')
  const [busy, setBusy] = useState(false)
  const titleId = useId()

  useEffect(() => {
    let active = true
    const refresh = () =>
      control.state().then(
        (state) => active && setServer(state),
        () => active && setServer(null),
      )
    void refresh()
    const timer = setInterval(refresh, 1000)
    return () => {
      active = false
      clearInterval(timer)
    }
  }, [control])

  const run = async (fault: Fault) => {
    setBusy(true)
    try {
      setServer(await control.run(fault.action, fault.params))
      setResult(`${fault.label}: done`)
    } catch (error) {
      setResult(`${fault.label}: failed. ${describeError(error)}`)
    } finally {
      setBusy(false)
    }
  }
  const flip = (next: boolean) => {
    network.set(next)
    setOnline(next)
    setResult(next ? 'Back online' : 'Offline (this tab only)')
  }

  return (
    <section className="live-panel" aria-labelledby={titleId}>
      <h2 id={titleId}>Fault panel</h2>
      <p>
        Server: <span data-testid="server-state">{describeServer(server)}</span>
      </p>
      {[...(server?.mode === 'cluster' ? clusterFaults(server) : []), ...faultGroups].map((group) => (
        <fieldset key={group.title} className="live-faults">
          <legend>{group.title}</legend>
          {group.faults.map((fault) => (
            <button key={fault.label} type="button" disabled={busy} onClick={() => void run(fault)}>
              {fault.label}
            </button>
          ))}
        </fieldset>
      ))}
      <fieldset className="live-faults">
        <legend>This tab</legend>
        <button type="button" aria-pressed={!online} onClick={() => flip(!online)}>
          {online ? 'Go offline' : 'Go online'}
        </button>
      </fieldset>
      <p role="status" data-testid="fault-result">
        {result}
      </p>
    </section>
  )
}

const identity = (snapshot: ConnectionSnapshot) => snapshot

/** The snapshot in a few words, so the effect of each fault is visible next to the component. */
export function SnapshotSummary() {
  const snapshot = useConnection(identity)
  const { outbox, lastClose, lastError } = snapshot
  const diagnosis = (lastError as { diagnosis?: { kind: string } } | null)?.diagnosis
  return (
    <dl className="live-summary">
      <dt>Status</dt>
      <dd data-testid="live-status">{snapshot.status}</dd>
      <dt>Transport</dt>
      <dd data-testid="live-transport">{snapshot.transport ?? 'none'}</dd>
      <dt>Attempt</dt>
      <dd data-testid="live-attempt" data-next-retry-at={snapshot.nextRetryAt ?? undefined}>
        {snapshot.attempt}
        {snapshot.nextRetryAt === null ? '' : ', next one scheduled'}
      </dd>
      <dt>Last close</dt>
      <dd>{lastClose ? `${String(lastClose.code)} ${lastClose.meaning.name}` : 'none'}</dd>
      <dt>Last error</dt>
      <dd>{lastError ? `${lastError.code}${diagnosis ? ` (${diagnosis.kind})` : ''}` : 'none'}</dd>
      <dt>Outbox</dt>
      <dd data-testid="live-outbox">
        {`${String(outbox.queued)} queued, ${String(outbox.inFlight)} sending, ${String(outbox.failed)} failed`}
      </dd>
    </dl>
  )
}

/** Shown instead of a Live story when no embedded server is running. */
export function ServerMissingNote() {
  return (
    <div className="live-note" role="note" data-testid="server-missing">
      <p>
        <strong>No embedded server.</strong> This Live story connects to the reference server that{' '}
        <code>npm start</code> runs next to Storybook, with a fault panel to kill it, blackhole it, close with a code,
        reject or block upgrades, and take this tab offline.
      </p>
      <p>
        Run <code>npm start</code> and open this story there. The AllStates story shows every state without a server.
      </p>
    </div>
  )
}

/**
 * A Live story's frame: a `LifelineProvider` connected to the embedded reference server (through the fault proxy),
 * the fault panel and a snapshot summary around `children`; a note when there is no server.
 */
export function LiveFrame(props: {
  title: string
  children: ReactNode
  /** Whether the client has the long-poll fallback. @default true */
  fallback?: boolean
}) {
  const { lifelineUrl, lifelineControlUrl } = devServers()
  const [network] = useState(() => createNetworkSwitch())
  // A client of our own rather than `LifelineProvider url options`: StrictMode runs the provider's memo twice, and a
  // `lifelineProtocol()` instance in its options would be attached to both clients (it serves one).
  const [client] = useState(() =>
    lifelineUrl
      ? createLifeline({ ...liveOptions(network, props.fallback ?? true), url: lifelineUrl, autoConnect: false })
      : null,
  )
  useEffect(() => client?.retain(), [client])
  const [control] = useState(() => (lifelineControlUrl ? createLifelineControl(lifelineControlUrl) : null))
  return (
    <main className="live">
      <style>{css}</style>
      <h1>{props.title}</h1>
      {client && control ? (
        <LifelineProvider client={client}>
          <div className="live-columns">
            <div>
              <section className="live-app" aria-label="Your app">
                {props.children}
              </section>
              <SnapshotSummary />
            </div>
            <FaultPanel control={control} network={network} />
          </div>
          {/* Open, with the backoff range of liveOptions, so each fault's transitions and retries show as they happen.
              The panel itself rather than the lazy LifelineDevtools entry: it is there from the first render, so the
              story's axe check always covers it. */}
          <LifelineDevtoolsPanel initialIsOpen backoff={{ minDelayMs: 500, maxDelayMs: 8000 }} />
        </LifelineProvider>
      ) : (
        <ServerMissingNote />
      )}
    </main>
  )
}

// Story-only styling (the components use the optional stylesheet).
const css = `
.live { font: 14px/1.4 system-ui, sans-serif; color: #1f2328; max-width: 70rem; }
.live h1 { font-size: 1.2rem; margin: 0 0 .75rem; }
.live h2 { font-size: 1rem; margin: 0 0 .5rem; }
.live code { font-family: ui-monospace, monospace; }
.live-columns { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(24rem, 100%), 1fr)); align-items: start; }
.live-app { display: grid; gap: .75rem; min-height: 4rem; padding: .75rem; border: 1px dashed #8c959f; border-radius: 6px; }
.live-summary { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .75rem 0 0; }
.live-summary dt { font-weight: 600; }
.live-summary dd { margin: 0; font-family: ui-monospace, monospace; }
.live-panel { border: 1px solid #d1d9e0; border-radius: 6px; padding: .75rem; }
.live-faults { display: flex; flex-wrap: wrap; gap: .4rem; border: 1px solid #d1d9e0; border-radius: 4px; margin: 0 0 .5rem; }
.live-panel button { font: inherit; padding: .25rem .6rem; }
.live-note { border: 1px solid #9a6700; background: #fff8c5; color: #3b2300; border-radius: 6px; padding: .5rem 1rem; }
`
