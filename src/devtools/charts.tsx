'use client'
import type { ReactNode } from 'react'
import type { TimelineEntry } from './trace-format'

const WIDTH = 320
const HEIGHT = 120
const PAD = 24

/** One reconnect attempt: the delay chosen and the backoff range it was drawn from. */
export interface AttemptPoint {
  attempt: number
  delayMs: number
  rangeMs: [number, number]
}

/** The attempts of a timeline: every transition into `reconnecting` with a scheduled retry. */
export function attemptsOf(
  timeline: readonly TimelineEntry[],
  backoff: { minDelayMs: number; maxDelayMs: number },
): AttemptPoint[] {
  return timeline
    .filter((entry) => entry.to === 'reconnecting' && entry.nextRetryAt !== null)
    .map((entry) => {
      const { minDelayMs, maxDelayMs } = backoff
      const jitterTop = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(entry.attempt, 52))
      // The client spreads the first retry after an announced restart (1001, 1012) and after a drop of an open
      // connection (1006) over [min, min(max, 10·min)], so thousands of clients do not return at once.
      const close = entry.cause.close
      const spread =
        close !== undefined && (close.action === 'reconnect-spread' || (entry.from === 'open' && close.code === 1006))
      const top = spread ? Math.max(jitterTop, Math.min(maxDelayMs, minDelayMs * 10)) : jitterTop
      return {
        attempt: entry.attempt,
        delayMs: Math.max(0, (entry.nextRetryAt ?? entry.at) - entry.at),
        rangeMs: [minDelayMs, Math.max(minDelayMs, top)],
      }
    })
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`

/** Reconnect delays (dots) against their backoff ranges (bands), so jitter is visible. */
export function AttemptsChart(props: { points: readonly AttemptPoint[] }): ReactNode {
  const points = props.points.slice(-30)
  const top = Math.max(1, ...points.map((point) => Math.max(point.delayMs, point.rangeMs[1])))
  const y = (ms: number) => HEIGHT - PAD - (ms / top) * (HEIGHT - 2 * PAD)
  const step = (WIDTH - 2 * PAD) / Math.max(1, points.length)
  const label =
    points.length === 0
      ? 'Reconnect attempts: none yet.'
      : `Reconnect attempts: ${points
          .map(
            (point) =>
              `attempt ${point.attempt} waited ${seconds(point.delayMs)} (range ${seconds(point.rangeMs[0])}–${seconds(point.rangeMs[1])})`,
          )
          .join('; ')}.`
  return (
    <svg className="ld-chart" width={WIDTH} height={HEIGHT} role="img" aria-label={label} data-chart="attempts">
      <line className="ld-axis" x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} />
      <text x={PAD} y={12}>
        Reconnect delay vs backoff range (max {seconds(top)})
      </text>
      {points.map((point, index) => {
        const x = PAD + step * index + step / 2
        return (
          <g
            key={index}
            data-attempt={point.attempt}
            data-delay={Math.round(point.delayMs)}
            data-range={`${point.rangeMs[0]}-${point.rangeMs[1]}`}
          >
            <rect
              className="ld-range"
              x={x - 4}
              width={8}
              y={y(point.rangeMs[1])}
              height={Math.max(1, y(point.rangeMs[0]) - y(point.rangeMs[1]))}
            />
            <circle className="ld-point" cx={x} cy={y(point.delayMs)} r={3} />
          </g>
        )
      })}
    </svg>
  )
}

/** Heartbeat round trips over time. */
export function LatencyChart(props: { samples: readonly { at: number; ms: number }[] }): ReactNode {
  const samples = props.samples
  const top = Math.max(1, ...samples.map((sample) => sample.ms))
  const step = (WIDTH - 2 * PAD) / Math.max(1, samples.length - 1)
  const points = samples
    .map((sample, index) => `${PAD + step * index},${HEIGHT - PAD - (sample.ms / top) * (HEIGHT - 2 * PAD)}`)
    .join(' ')
  const last = samples.at(-1)
  const label = last
    ? `Heartbeat round trips: ${samples.length} samples, last ${Math.round(last.ms)} ms, max ${Math.round(top)} ms.`
    : 'Heartbeat round trips: none yet.'
  return (
    <svg className="ld-chart" width={WIDTH} height={HEIGHT} role="img" aria-label={label} data-chart="latency">
      <line className="ld-axis" x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} />
      <text x={PAD} y={12}>
        Heartbeat round trip (max {Math.round(top)} ms)
      </text>
      {samples.length > 1 ? <polyline className="ld-line" points={points} /> : null}
    </svg>
  )
}
