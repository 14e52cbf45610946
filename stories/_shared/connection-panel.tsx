import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react'
import { LifelineError, type ConnectionSnapshot } from '../../src'
import type { EchoAction, EchoControl, EchoServerState } from './echo-control'
import { LOG_SIZE, type LogEntry } from './message-log'

// Exports components only, so React Fast Refresh can update it in place (helpers live in message-log.ts).

/** Props of {@link ConnectionPanel}: everything it shows comes in, so a story can script it without a network. */
export interface ConnectionPanelProps {
  /** The connection snapshot to show. */
  snapshot: ConnectionSnapshot
  /** Epoch ms the countdown is computed against. */
  now: number
  /** The last received messages, oldest first. */
  log: readonly LogEntry[]
  /** How many times `getToken()` was called. */
  tokenRequests: number
  /** The WebSocket URL, shown as text. */
  url: string
  /** Sends a text message; may throw a `LifelineError` (shown next to the form). */
  onSend: (text: string) => void
  /** Retry now. */
  onRetry: () => void
  /** Close without reconnecting. */
  onClose: () => void
  /** The echo server's control API, `null` when there is no server (the buttons are then disabled). */
  control: EchoControl | null
}

function countdown(nextRetryAt: number | null, now: number): string {
  if (nextRetryAt === null) return 'none scheduled'
  return `in ${(Math.max(0, nextRetryAt - now) / 1000).toFixed(1)} s`
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 23)
}

function describeError(error: unknown): string {
  if (error instanceof LifelineError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

function describeServer(state: EchoServerState | null): string {
  if (!state) return 'unknown'
  const accepting = !state.up
    ? state.restartAt === null
      ? 'killed'
      : `killed, back at ${clock(state.restartAt)}`
    : state.rejectStatus === null
      ? 'accepting upgrades'
      : `refusing upgrades with ${String(state.rejectStatus)}`
  return `${accepting} · ${String(state.connections)} open, ${String(state.totalConnections)} since start`
}

/** A fault button: its label and the control call it makes. */
interface Fault {
  label: string
  action: EchoAction
  params?: Record<string, string | number>
}

const faultGroups: ReadonlyArray<{ title: string; faults: readonly Fault[] }> = [
  {
    title: 'Server',
    faults: [
      { label: 'Kill server', action: 'kill' },
      { label: 'Restart server', action: 'restart' },
      { label: 'Kill for 3 s', action: 'restart-after', params: { ms: 3000 } },
      { label: 'Terminate (no close frame)', action: 'terminate' },
    ],
  },
  {
    title: 'Close with a code',
    faults: [
      { label: 'Close 1001 going away', action: 'close', params: { code: 1001, reason: 'server going away' } },
      { label: 'Close 1008 policy violation', action: 'close', params: { code: 1008, reason: 'policy violation' } },
      { label: 'Close 1009 message too big', action: 'close', params: { code: 1009, reason: 'message too big' } },
      { label: 'Close 4001 token invalid', action: 'close', params: { code: 4001, reason: 'token expired' } },
      {
        label: 'Close 4002 rate limited (3 s)',
        action: 'close',
        params: { code: 4002, reason: '{"retryAfterMs":3000}' },
      },
      { label: 'Close 4003 session expired', action: 'close', params: { code: 4003, reason: 'session expired' } },
    ],
  },
  {
    title: 'Upgrades',
    faults: [
      { label: 'Reject upgrades 401', action: 'reject', params: { status: 401 } },
      { label: 'Reject upgrades 403', action: 'reject', params: { status: 403 } },
      { label: 'Accept again', action: 'accept' },
    ],
  },
]

function Section(props: { title: string; children: ReactNode }) {
  const id = useId()
  return (
    <section className="pg-section" aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  )
}

function Field(props: { term: string; testId: string; children: ReactNode; state?: string }) {
  return (
    <>
      <dt>{props.term}</dt>
      <dd data-testid={props.testId} data-state={props.state}>
        {props.children}
      </dd>
    </>
  )
}

function FaultPanel(props: { control: EchoControl | null }) {
  const { control } = props
  const [server, setServer] = useState<EchoServerState | null>(null)
  const [result, setResult] = useState('')
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    if (!control) return
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
    if (!control) return
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

  return (
    <Section title="Fault panel">
      <p>
        {control ? (
          <>
            Server: <span data-testid="server-state">{describeServer(server)}</span>
          </>
        ) : (
          'No echo server in this story: the faults are disabled.'
        )}
      </p>
      {faultGroups.map((group) => (
        <fieldset key={group.title} className="pg-faults">
          <legend>{group.title}</legend>
          {group.faults.map((fault) => (
            <button key={fault.label} type="button" disabled={!control || busy} onClick={() => void run(fault)}>
              {fault.label}
            </button>
          ))}
        </fieldset>
      ))}
      <p role="status" data-testid="fault-result">
        {result}
      </p>
    </Section>
  )
}

/** The playground's panel: the snapshot as text, a send form, actions, a message log and the fault panel. */
export function ConnectionPanel(props: ConnectionPanelProps) {
  const { snapshot, now, log } = props
  const [draft, setDraft] = useState('hello')
  const [sendResult, setSendResult] = useState('')
  const inputId = useId()
  const logTitleId = useId()
  const { lastClose, lastError, outbox } = snapshot

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    try {
      props.onSend(draft)
      setSendResult(`Queued “${draft}”`)
    } catch (error) {
      setSendResult(`Not sent. ${describeError(error)}`)
    }
  }

  return (
    <div className="pg">
      <style>{css}</style>
      <h1>useWebSocket playground</h1>
      <p>
        Echo server: <code>{props.url}</code>
      </p>
      <div className="pg-columns">
        <div>
          <Section title="Connection">
            <dl className="pg-fields">
              <Field term="Status" testId="status" state={snapshot.status}>
                {snapshot.status}
              </Field>
              <Field term="Transport" testId="transport">
                {snapshot.transport ?? 'none yet'}
              </Field>
              <Field term="Attempt" testId="attempt">
                {snapshot.attempt}
              </Field>
              <Field term="Next retry" testId="next-retry">
                {countdown(snapshot.nextRetryAt, now)}
              </Field>
              <Field term="Last close" testId="last-close">
                {lastClose
                  ? `${String(lastClose.code)} ${lastClose.meaning.name} (${lastClose.meaning.action}), ` +
                    `reason “${lastClose.reason}”${lastClose.wasClean ? '' : ', not clean'}`
                  : 'none'}
              </Field>
              <Field term="Last error" testId="last-error">
                {lastError ? (
                  <>
                    {lastError.code}: {lastError.message}
                    {lastError.hint ? <span className="pg-hint">Hint: {lastError.hint}</span> : null}
                  </>
                ) : (
                  'none'
                )}
              </Field>
              <Field term="Online" testId="online">
                {snapshot.online ? 'yes' : 'no'}
              </Field>
              <Field term="Latency" testId="latency">
                {snapshot.latencyMs === null ? 'not measured yet' : `${String(snapshot.latencyMs)} ms`}
              </Field>
              <Field term="Outbox" testId="outbox">
                {`${String(outbox.queued)} queued, ${String(outbox.inFlight)} in flight, ` +
                  `${String(outbox.failed)} failed, ${String(outbox.bytes)} bytes`}
              </Field>
              <Field term="getToken() calls" testId="token-requests">
                {props.tokenRequests}
              </Field>
            </dl>
          </Section>

          <Section title="Send">
            <form className="pg-send" onSubmit={submit}>
              <label htmlFor={inputId}>Message</label>
              <input id={inputId} value={draft} onChange={(event) => setDraft(event.target.value)} />
              <button type="submit">Send</button>
            </form>
            <p role="status" data-testid="send-result">
              {sendResult}
            </p>
            <div className="pg-actions">
              <button type="button" onClick={props.onRetry}>
                Retry now
              </button>
              <button type="button" onClick={props.onClose}>
                Close
              </button>
            </div>
          </Section>
        </div>

        <div>
          <FaultPanel control={props.control} />
          <section className="pg-section" aria-labelledby={logTitleId}>
            <h2 id={logTitleId}>Received (last {LOG_SIZE})</h2>
            {/* Focusable so the scrolling log can be read with the keyboard. */}
            <div
              role="log"
              aria-live="polite"
              aria-labelledby={logTitleId}
              className="pg-log"
              data-testid="log"
              tabIndex={0}
            >
              {log.length === 0 ? (
                <p>Nothing received yet.</p>
              ) : (
                <ol>
                  {log.map((entry) => (
                    <li key={entry.id}>
                      <time dateTime={new Date(entry.at).toISOString()}>{clock(entry.at)}</time> {entry.text}
                    </li>
                  ))}
                </ol>
              )}
            </div>
          </section>
        </div>
      </div>
    </div>
  )
}

// Story-only styling: the library itself ships unstyled parts plus an optional stylesheet.
const css = `
.pg { font: 14px/1.4 system-ui, sans-serif; color: #111; max-width: 72rem; }
.pg h1 { font-size: 1.25rem; margin: 0 0 .25rem; }
.pg h2 { font-size: 1rem; margin: 0 0 .5rem; }
.pg code { font-family: ui-monospace, monospace; }
.pg-columns { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); }
.pg-section { border: 1px solid #bbb; border-radius: 6px; padding: .75rem; margin-bottom: 1rem; }
.pg-fields { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .75rem; margin: 0; }
.pg-fields dt { font-weight: 600; }
.pg-fields dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.pg-fields dd[data-state="open"] { color: #0a5a25; font-weight: 700; }
.pg-fields dd[data-state="reconnecting"], .pg-fields dd[data-state="connecting"] { color: #7a4b00; font-weight: 700; }
.pg-fields dd[data-state="failed"], .pg-fields dd[data-state="closed"] { color: #a01818; font-weight: 700; }
.pg-hint { display: block; font-family: system-ui, sans-serif; color: #444; }
.pg-send { display: flex; gap: .5rem; align-items: center; }
.pg-send input { flex: 1; font: inherit; padding: .25rem .4rem; }
.pg-actions, .pg-faults { display: flex; flex-wrap: wrap; gap: .4rem; }
.pg-faults { border: 1px solid #ddd; border-radius: 4px; margin: 0 0 .5rem; }
.pg button { font: inherit; padding: .3rem .6rem; }
.pg-log { max-height: 18rem; overflow: auto; font-family: ui-monospace, monospace; }
.pg-log ol { margin: 0; padding-left: 1.5rem; }
.pg-log time { color: #555; }
`
