'use client'
import type { ReactNode } from 'react'
import type { LifelineClient } from '../core'
import type { ChannelView, RecorderState } from './recorder'
import { clock } from './timeline-tab'

/** The outbox items with their state and attempts, and retry/discard per item and for all. */
export function OutboxTab(props: { state: RecorderState; client: LifelineClient }): ReactNode {
  const { state, client } = props
  const { items } = state
  const stats = state.snapshot.outbox
  return (
    <>
      <div className="ld-row">
        <span>
          {stats.queued} queued, {stats.inFlight} in flight, {stats.failed} failed, {stats.bytes} B
        </span>
        <button
          type="button"
          className="ld-btn"
          disabled={!items.some((item) => item.state === 'failed')}
          onClick={() => client.outbox.retry()}
        >
          Retry all failed
        </button>
        <button type="button" className="ld-btn" disabled={items.length === 0} onClick={() => client.outbox.discard()}>
          Discard all
        </button>
      </div>
      {items.length === 0 ? (
        <p className="ld-note">The outbox is empty.</p>
      ) : (
        <table className="ld-table" aria-label="Outbox items, oldest first">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Queued at</th>
              <th scope="col">Channel</th>
              <th scope="col">Size</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id} data-item={item.id} data-state={item.state}>
                <td className="ld-mono">{item.id}</td>
                <td className="ld-mono">{clock(item.createdAt)}</td>
                <td>{item.channel ?? '–'}</td>
                <td>{item.bytes} B</td>
                <td>
                  {item.state}
                  {item.error ? <span className="ld-bad"> ({item.error.code})</span> : null}
                </td>
                <td>{item.attempts}</td>
                <td>
                  {item.state === 'failed' ? (
                    <button
                      type="button"
                      className="ld-btn"
                      aria-label={`Retry ${item.id}`}
                      onClick={() => client.outbox.retry(item.id)}
                    >
                      Retry
                    </button>
                  ) : null}{' '}
                  <button
                    type="button"
                    className="ld-btn"
                    aria-label={`Discard ${item.id}`}
                    onClick={() => client.outbox.discard(item.id)}
                  >
                    Discard
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}

function gapText(channel: ChannelView): string {
  const last = channel.gaps.at(-1)
  if (!last) return 'none'
  const from = last.from ? `${last.from.epoch}:${last.from.seq}` : 'start'
  return `${channel.gaps.length} (last: ${last.reason}, ${from} → ${last.to.epoch}:${last.to.seq})`
}

/** The lifeline protocol's channels: status, position and epoch, gaps, rate. */
export function ChannelsTab(props: { state: RecorderState; protocol: string }): ReactNode {
  const { state, protocol } = props
  if (protocol !== 'lifeline') {
    return <p className="ld-note">Channels need the lifeline protocol (this client speaks {protocol}).</p>
  }
  if (state.channels.length === 0) return <p className="ld-note">No channel joined yet.</p>
  return (
    <table className="ld-table" aria-label="Channels">
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">Status</th>
          <th scope="col">Resumed</th>
          <th scope="col">Epoch</th>
          <th scope="col">Seq</th>
          <th scope="col">Gaps</th>
          <th scope="col">Messages</th>
          <th scope="col">Rate</th>
        </tr>
      </thead>
      <tbody>
        {state.channels.map((channel) => (
          <tr key={channel.name} data-channel={channel.name} data-state={channel.status.state}>
            <td className="ld-mono">{channel.name}</td>
            <td>
              {channel.status.state}
              {channel.status.error ? <span className="ld-bad"> ({channel.status.error})</span> : null}
            </td>
            <td data-resumed={String(channel.status.resumed)}>
              {channel.status.resumed === null ? '–' : channel.status.resumed ? 'yes' : 'no'}
            </td>
            <td className="ld-mono">{channel.position?.epoch ?? '–'}</td>
            <td className="ld-mono">{channel.position?.seq ?? '–'}</td>
            <td>{gapText(channel)}</td>
            <td>{channel.messages}</td>
            <td>{channel.rate}/s</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
