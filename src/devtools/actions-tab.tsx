'use client'
import { useId, useState, type ReactNode } from 'react'
import { canSimulateFault, simulateFault, type LifelineClient } from '../core'
import type { DevtoolsTrace } from './trace-format'
import type { DevtoolsHooks } from './types'

/** Close codes offered in the picker: the ones whose client policy differs. */
const CODES: readonly [number, string][] = [
  [1000, 'normal'],
  [4001, 'token-invalid (refresh the token)'],
  [4002, 'rate-limited'],
  [4003, 'session-expired'],
  [4000, 'application'],
  [3000, 'registered'],
]

const validCode = (code: number) => Number.isInteger(code) && (code === 1000 || (code >= 3000 && code <= 4999))

/** Saves `trace` as a JSON file (a download). */
export function downloadTrace(trace: DevtoolsTrace): void {
  const blob = new Blob([JSON.stringify(trace, null, 2)], { type: 'application/json' })
  const href = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = href
  link.download = `lifeline-trace-${new Date(trace.exportedAt).toISOString().replace(/[:.]/g, '-')}.json`
  link.click()
  setTimeout(() => URL.revokeObjectURL(href), 0)
}

/** A debug action the client can only take with a hook the core does not have yet. */
function HookedAction(props: { label: string; hook: string; run: (() => void) | undefined }): ReactNode {
  const noteId = useId()
  return (
    <span>
      <button
        type="button"
        className="ld-btn"
        disabled={!props.run}
        aria-describedby={props.run ? undefined : noteId}
        onClick={props.run}
      >
        {props.label}
      </button>
      {props.run ? null : (
        <span id={noteId} className="ld-muted">
          {' '}
          (needs client.devtools.{props.hook})
        </span>
      )}
    </span>
  )
}

/** Connection actions and trace export. */
export function ActionsTab(props: { client: LifelineClient; onExport: () => void }): ReactNode {
  const { client, onExport } = props
  const [code, setCode] = useState('1000')
  // A client of its own (`client.devtools`), else the core's fault injection for clients made by createLifeline.
  const hooks: DevtoolsHooks | undefined =
    (client as { devtools?: DevtoolsHooks }).devtools ??
    (canSimulateFault(client)
      ? {
          dropLink: () => void simulateFault(client, 'drop-link'),
          setOnline: (online) => void simulateFault(client, online === false ? 'offline' : 'online'),
          // Only with a long-poll fallback configured.
          ...(canSimulateFault(client, 'force-longpoll') && {
            forceTransport: (kind) => void (kind === 'longpoll' && simulateFault(client, 'force-longpoll')),
          }),
        }
      : undefined)
  const [offline, setOffline] = useState(false)
  const parsed = Number(code)
  const status = client.getSnapshot().status
  return (
    <>
      <div className="ld-row">
        <label>
          Close code{' '}
          <input
            type="number"
            inputMode="numeric"
            min={1000}
            max={4999}
            list="ld-close-codes"
            value={code}
            aria-invalid={!validCode(parsed)}
            onChange={(event) => setCode(event.target.value)}
          />
        </label>
        <datalist id="ld-close-codes">
          {CODES.map(([value, name]) => (
            <option key={value} value={value}>
              {name}
            </option>
          ))}
        </datalist>
        <button type="button" className="ld-btn" disabled={!validCode(parsed)} onClick={() => client.close(parsed)}>
          Close with code
        </button>
        <button type="button" className="ld-btn" onClick={() => client.retry()}>
          Retry now
        </button>
        <button type="button" className="ld-btn" onClick={() => client.connect()}>
          Connect
        </button>
        <span className="ld-muted">Status: {status}</span>
      </div>
      <div className="ld-row">
        <HookedAction label="Drop the link (no close frame)" hook="dropLink()" run={hooks?.dropLink} />
        <HookedAction
          label={offline ? 'Go back online' : 'Go offline'}
          hook="setOnline()"
          run={
            hooks?.setOnline
              ? () => {
                  hooks.setOnline?.(offline ? null : false)
                  setOffline(!offline)
                }
              : undefined
          }
        />
        <HookedAction
          label="Force long-poll"
          hook="forceTransport()"
          run={hooks?.forceTransport ? () => hooks.forceTransport?.('longpoll') : undefined}
        />
      </div>
      <div className="ld-row">
        <button type="button" className="ld-btn" onClick={onExport}>
          Export trace (JSON)
        </button>
        <span className="ld-muted">Secrets, session ids and payloads are redacted.</span>
      </div>
    </>
  )
}
