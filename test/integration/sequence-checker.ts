import type { ChannelGap, ChannelListener, ChannelMessage, GapReason, StreamPosition } from '../../src/core'

/** What every checked message carries: its channel and its publisher's counter on that channel (1, 2, 3 …). */
export interface Numbered {
  ch: string
  n: number
}

/** The findings of a {@link SequenceChecker}, over every subscriber and channel. */
export interface SequenceReport {
  /** Messages delivered. */
  delivered: number
  /** Numbers skipped with no discontinuity reported since the previous delivery (a silent gap), or never delivered. */
  lost: number
  /** Numbers delivered again, or after a later one. */
  duplicated: number
  /** Numbers skipped right after a reported discontinuity (allowed: the gap was announced). */
  skippedAfterGap: number
  /** Gap events, by `subscriber channel`, in order. */
  gaps: Record<string, GapReason[]>
  /** What went wrong, for the assertion message (the first 20). */
  violations: string[]
}

/** Records what was published and what each subscriber saw, and checks it against the reliability invariant. */
export interface SequenceChecker {
  /** The next payload to publish on `channel`; recorded as published. */
  next(channel: string): Numbered
  /** Forgets the last payload handed out for `channel` (it was refused before it could be published). */
  unpublish(channel: string, n: number): void
  /** How many payloads were handed out for `channel`. */
  published(channel: string): number
  /** A channel listener that records what `subscriber` is delivered on `channel` (one per subscriber and channel). */
  listen(subscriber: string, channel: string): ChannelListener
  /** Every listener has been delivered the last payload published on its channel. */
  caughtUp(): boolean
  /** Where the stragglers are, for a timeout message. */
  lagging(): string
  /** Delivered numbers of one subscriber on one channel, in order. */
  delivered(subscriber: string, channel: string): number[]
  /** Gap events of one subscriber on one channel. */
  gapsOf(subscriber: string, channel: string): ChannelGap[]
  /** The findings so far (`lost` also counts what has not arrived yet: check after {@link caughtUp}). */
  report(): SequenceReport
}

interface Stream {
  readonly subscriber: string
  readonly channel: string
  readonly numbers: number[]
  readonly gaps: ChannelGap[]
  /** Gaps reported since the last delivery. */
  pendingGaps: number
  position: StreamPosition | null
  lost: number
  duplicated: number
  skippedAfterGap: number
}

const MAX_VIOLATIONS = 20

/**
 * The sequence checker of RELIABILITY.md: per subscriber and channel, deliveries must be contiguous and increasing in
 * the publisher's numbering, and every skip must follow a discontinuity event for that channel. Independently, the
 * stream positions the library reports must move by exactly one seq within an epoch, unless a gap was reported.
 */
export function createSequenceChecker(): SequenceChecker {
  const counters = new Map<string, number>()
  const withdrawn = new Map<string, Set<number>>()
  const streams = new Map<string, Stream>()
  const violations: string[] = []
  const violation = (text: string) => {
    if (violations.length < MAX_VIOLATIONS) violations.push(text)
  }
  const key = (subscriber: string, channel: string) => `${subscriber} ${channel}`
  const published = (channel: string) => counters.get(channel) ?? 0
  const isWithdrawn = (channel: string, n: number) => withdrawn.get(channel)?.has(n) ?? false
  /** The number expected after `n` on `channel`, skipping withdrawn ones. */
  const after = (channel: string, n: number) => {
    let next = n + 1
    while (isWithdrawn(channel, next)) next++
    return next
  }
  const streamOf = (subscriber: string, channel: string) => {
    const stream = streams.get(key(subscriber, channel))
    if (!stream) throw new Error(`nobody listens as ${key(subscriber, channel)}`)
    return stream
  }
  const last = (stream: Stream) => stream.numbers[stream.numbers.length - 1] ?? 0

  const deliver = (stream: Stream, message: ChannelMessage) => {
    const where = key(stream.subscriber, stream.channel)
    const data = message.data as Partial<Numbered> | null
    if (typeof data?.n !== 'number' || data.ch !== stream.channel) {
      violation(`${where}: unnumbered or misrouted message ${JSON.stringify(message.data)}`)
      return
    }
    const previous = last(stream)
    const expected = after(stream.channel, previous)
    if (data.n < expected) {
      stream.duplicated++
      violation(`${where}: ${String(data.n)} delivered after ${String(previous)}`)
    } else if (data.n > expected) {
      let skipped = 0
      for (let n = expected; n < data.n; n++) if (!isWithdrawn(stream.channel, n)) skipped++
      if (stream.pendingGaps > 0) stream.skippedAfterGap += skipped
      else {
        stream.lost += skipped
        violation(`${where}: ${String(data.n)} after ${String(previous)} with no gap reported (silent loss)`)
      }
    }
    const position = stream.position
    if (position && stream.pendingGaps === 0) {
      if (message.epoch !== position.epoch) violation(`${where}: epoch changed to ${message.epoch} with no gap`)
      else if (message.seq !== position.seq + 1) {
        violation(`${where}: seq ${String(message.seq)} after ${String(position.seq)} with no gap`)
      }
    }
    stream.position = { epoch: message.epoch, seq: message.seq }
    stream.pendingGaps = 0
    stream.numbers.push(data.n)
  }

  return {
    next(channel) {
      const n = published(channel) + 1
      counters.set(channel, n)
      return { ch: channel, n }
    },
    unpublish(channel, n) {
      const set = withdrawn.get(channel) ?? new Set<number>()
      set.add(n)
      withdrawn.set(channel, set)
    },
    published,
    listen(subscriber, channel) {
      if (streams.has(key(subscriber, channel))) throw new Error(`${key(subscriber, channel)} listens already`)
      const stream: Stream = {
        subscriber,
        channel,
        numbers: [],
        gaps: [],
        pendingGaps: 0,
        position: null,
        lost: 0,
        duplicated: 0,
        skippedAfterGap: 0,
      }
      streams.set(key(subscriber, channel), stream)
      return {
        message: (message) => deliver(stream, message),
        gap(gap) {
          if (gap.channel !== channel) violation(`${key(subscriber, channel)}: gap for ${gap.channel}`)
          stream.gaps.push(gap)
          stream.pendingGaps++
        },
      }
    },
    caughtUp() {
      for (const stream of streams.values()) {
        let wanted = published(stream.channel)
        while (wanted > 0 && isWithdrawn(stream.channel, wanted)) wanted--
        if (last(stream) < wanted) return false
      }
      return true
    },
    lagging() {
      return [...streams.values()]
        .filter((stream) => last(stream) < published(stream.channel))
        .slice(0, 5)
        .map(
          (stream) =>
            `${key(stream.subscriber, stream.channel)} at ${String(last(stream))}/${String(published(stream.channel))}`,
        )
        .join(', ')
    },
    delivered: (subscriber, channel) => streamOf(subscriber, channel).numbers.slice(),
    gapsOf: (subscriber, channel) => streamOf(subscriber, channel).gaps.slice(),
    report() {
      const report: SequenceReport = {
        delivered: 0,
        lost: 0,
        duplicated: 0,
        skippedAfterGap: 0,
        gaps: {},
        violations: violations.slice(),
      }
      for (const stream of streams.values()) {
        report.delivered += stream.numbers.length
        report.duplicated += stream.duplicated
        report.skippedAfterGap += stream.skippedAfterGap
        // Trailing numbers never delivered are lost too, unless a gap was reported after the last delivery.
        let trailing = 0
        for (let n = last(stream) + 1; n <= published(stream.channel); n++) {
          if (!isWithdrawn(stream.channel, n)) trailing++
        }
        report.lost += stream.lost + (stream.pendingGaps > 0 ? 0 : trailing)
        if (stream.gaps.length > 0)
          report.gaps[key(stream.subscriber, stream.channel)] = stream.gaps.map((gap) => gap.reason)
      }
      return report
    },
  }
}
