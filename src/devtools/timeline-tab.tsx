'use client'
import type { ReactNode } from 'react'
import { AttemptsChart, attemptsOf, LatencyChart } from './charts'
import type { RecorderState } from './recorder'
import type { TransitionCause } from './trace-format'

/** Clock time with milliseconds, e.g. `14:03:07.512`. */
export function clock(at: number): string {
  const date = new Date(at)
  const pad = (value: number, width = 2) => String(value).padStart(width, '0')
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

/** The cause of a transition in words. */
export function describeCause(cause: TransitionCause): string {
  const parts: string[] = []
  if (cause.close) {
    const reason = cause.close.reason ? ` "${cause.close.reason}"` : ''
    parts.push(`close ${cause.close.code} ${cause.close.name}${reason} → ${cause.close.action}`)
  }
  if (cause.error) parts.push(`error ${cause.error.code}`)
  if (cause.diagnosis) {
    const status = cause.diagnosis.status === null ? '' : ` (HTTP ${cause.diagnosis.status})`
    parts.push(`handshake: ${cause.diagnosis.kind}${status}`)
  }
  if (cause.transport) parts.push(`transport ${cause.transport.from ?? 'none'} → ${cause.transport.to ?? 'none'}`)
  return parts.join('; ')
}

/** Transitions with their causes, and the reconnect and heartbeat charts. */
export function TimelineTab(props: {
  state: RecorderState
  backoff: { minDelayMs: number; maxDelayMs: number }
}): ReactNode {
  const { state, backoff } = props
  const rows = [...state.timeline].reverse()
  return (
    <>
      <div className="ld-charts">
        <AttemptsChart points={attemptsOf(state.timeline, backoff)} />
        <LatencyChart samples={state.latency} />
      </div>
      {rows.length === 0 ? (
        <p className="ld-note">No transitions yet (status: {state.snapshot.status}).</p>
      ) : (
        <table className="ld-table" aria-label="Status transitions, newest first">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Transition</th>
              <th scope="col">Attempt</th>
              <th scope="col">Next retry in</th>
              <th scope="col">Cause</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((entry) => (
              <tr key={entry.index} data-transition={`${entry.from}->${entry.to}`}>
                <td className="ld-mono">{clock(entry.at)}</td>
                <td>
                  {entry.from} → {entry.to}
                </td>
                <td>{entry.attempt}</td>
                <td>
                  {entry.nextRetryAt === null ? '–' : `${Math.round(Math.max(0, entry.nextRetryAt - entry.at))} ms`}
                </td>
                <td data-cause="">{describeCause(entry.cause)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
