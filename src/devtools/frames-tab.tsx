'use client'
import { useState, type ReactNode } from 'react'
import type { RecorderState } from './recorder'
import { clock } from './timeline-tab'

/** Inbound and outbound frames (newest first), with a text filter, a direction filter and pause. */
export function FramesTab(props: {
  state: RecorderState
  showPayloads: boolean
  onPause: (paused: boolean) => void
  onClear: () => void
}): ReactNode {
  const { state, showPayloads, onPause, onClear } = props
  const [filter, setFilter] = useState('')
  const [direction, setDirection] = useState<'all' | 'in' | 'out'>('all')
  const needle = filter.trim().toLowerCase()
  const frames = state.frames
    .filter((frame) => direction === 'all' || frame.direction === direction)
    .filter(
      (frame) =>
        needle === '' ||
        frame.type.toLowerCase().includes(needle) ||
        (frame.channel ?? '').toLowerCase().includes(needle),
    )
    .reverse()
  return (
    <>
      <div className="ld-row">
        <label>
          Filter by type or channel{' '}
          <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} />
        </label>
        <label>
          Direction{' '}
          <select value={direction} onChange={(event) => setDirection(event.target.value as 'all' | 'in' | 'out')}>
            <option value="all">All</option>
            <option value="in">Inbound</option>
            <option value="out">Outbound</option>
          </select>
        </label>
        <button type="button" className="ld-btn" aria-pressed={state.paused} onClick={() => onPause(!state.paused)}>
          {state.paused ? 'Resume recording' : 'Pause recording'}
        </button>
        <button type="button" className="ld-btn" onClick={onClear}>
          Clear frames
        </button>
        <span className="ld-muted" role="status">
          {state.frames.length} frames kept{state.droppedFrames > 0 ? `, ${state.droppedFrames} older dropped` : ''}
          {showPayloads ? '' : '; payloads hidden'}
        </span>
      </div>
      <table className="ld-table" aria-label="Frames, newest first">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Direction</th>
            <th scope="col">Type</th>
            <th scope="col">Channel</th>
            <th scope="col">Size</th>
            {showPayloads ? <th scope="col">Payload</th> : null}
          </tr>
        </thead>
        <tbody>
          {frames.map((frame) => (
            <tr key={frame.index} data-direction={frame.direction}>
              <td className="ld-mono">{clock(frame.at)}</td>
              <td>{frame.direction === 'in' ? '↓ in' : '↑ out'}</td>
              <td className="ld-mono">{frame.type}</td>
              <td>{frame.channel ?? '–'}</td>
              <td>{frame.bytes} B</td>
              {showPayloads ? (
                <td>
                  <pre className="ld-payload">{frame.payload ?? ''}</pre>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}
