import type { ChannelGap, ChannelListener, ChannelMessage, GapReason, StreamPosition } from '../../../src/core'

// The sequence checker of test/integration/sequence-checker.ts for channels with several publishers: per subscriber
// and channel, the stream positions must move by exactly one seq within an epoch unless a gap was reported; per
// publisher on that channel, its numbers must arrive contiguous and increasing, a skip allowed only after a reported
// gap. Every number is checked against what was published, so a loss at the tail counts too. Memory per stream is a
// counter per publisher, not the list of deliveries, so it holds 300 clients × 10 channels for a minute.

/** What every checked message carries: its channel, its publisher and that publisher's counter on it (1, 2, 3 …). */
export interface Stamped {
  ch: string
  p: string
  n: number
}

/** The findings over every subscriber and channel. */
export interface MultiReport {
  delivered: number
  /** Numbers skipped with no gap reported since that publisher's previous delivery, or never delivered. */
  lost: number
  /** Numbers delivered again, or after a later one of the same publisher. */
  duplicated: number
  /** Numbers skipped right after a reported gap (allowed). */
  skippedAfterGap: number
  /** Gap reasons by `subscriber channel`. */
  gaps: Record<string, GapReason[]>
  /** The first 20 problems. */
  violations: string[]
}

interface Stream {
  readonly subscriber: string
  readonly channel: string
  position: StreamPosition | null
  /** Gaps reported so far on this stream. */
  gapCount: number
  /** gapCount when the last message was delivered. */
  gapCountAtLast: number
  readonly last: Map<string, { n: number; gapCount: number; seq: number }>
  readonly gaps: ChannelGap[]
  delivered: number
  lost: number
  duplicated: number
  skippedAfterGap: number
}

const MAX_VIOLATIONS = 20

/** Creates a checker; publishers hand out numbers with {@link MultiChecker.next}. */
export function createMultiChecker() {
  const published = new Map<string, Map<string, number>>()
  const withdrawn = new Set<string>()
  const streams = new Map<string, Stream>()
  /** Problems by what went wrong with which message, with how many subscribers saw it (one line each). */
  const violations = new Map<string, { subscribers: number; atMs: number }>()
  let startedAt = performance.now()
  const violation = (what: string): void => {
    const seen = violations.get(what)
    if (seen) seen.subscribers++
    else violations.set(what, { subscribers: 1, atMs: performance.now() - startedAt })
  }
  const isWithdrawn = (channel: string, publisher: string, n: number): boolean =>
    withdrawn.has(`${channel}/${publisher}/${String(n)}`)
  /** Not-withdrawn numbers strictly between `from` and `to`. */
  const between = (channel: string, publisher: string, from: number, to: number): number => {
    let skipped = 0
    for (let n = from + 1; n < to; n++) if (!isWithdrawn(channel, publisher, n)) skipped++
    return skipped
  }

  const deliver = (stream: Stream, message: ChannelMessage): void => {
    const where = stream.channel
    const data = message.data as Partial<Stamped> | null
    if (typeof data?.n !== 'number' || typeof data.p !== 'string' || data.ch !== stream.channel) {
      violation(`${where}: unstamped or misrouted message ${JSON.stringify(message.data)}`)
      return
    }
    stream.delivered++
    const gapSinceLast = stream.gapCount > stream.gapCountAtLast
    if (stream.position && !gapSinceLast) {
      if (message.epoch !== stream.position.epoch) violation(`${where}: epoch changed to ${message.epoch} with no gap`)
      else if (message.seq !== stream.position.seq + 1) {
        violation(`${where}: seq ${String(message.seq)} after ${String(stream.position.seq)} with no gap`)
      }
    }
    stream.position = { epoch: message.epoch, seq: message.seq }
    stream.gapCountAtLast = stream.gapCount
    const previous = stream.last.get(data.p) ?? { n: 0, gapCount: 0, seq: 0 }
    if (data.n <= previous.n) {
      stream.duplicated++
      violation(
        `${where}: ${data.p}#${String(data.n)} delivered after #${String(previous.n)} (seq ${String(message.seq)}, #${String(previous.n)} had seq ${String(previous.seq)})`,
      )
      return
    }
    const skipped = between(stream.channel, data.p, previous.n, data.n)
    if (skipped > 0) {
      if (stream.gapCount > previous.gapCount) stream.skippedAfterGap += skipped
      else {
        stream.lost += skipped
        violation(`${where}: ${data.p}#${String(data.n)} after #${String(previous.n)} with no gap (silent loss)`)
      }
    }
    stream.last.set(data.p, { n: data.n, gapCount: stream.gapCount, seq: message.seq })
  }

  return {
    /** Times violations from now (the start of publishing). */
    start(): void {
      startedAt = performance.now()
    },
    /** The next payload `publisher` publishes on `channel`. */
    next(channel: string, publisher: string): Stamped {
      const byPublisher = published.get(channel) ?? new Map<string, number>()
      published.set(channel, byPublisher)
      const n = (byPublisher.get(publisher) ?? 0) + 1
      byPublisher.set(publisher, n)
      return { ch: channel, p: publisher, n }
    },
    /** Forgets a payload that was refused or failed: nobody must expect it. */
    withdraw(payload: Stamped): void {
      withdrawn.add(`${payload.ch}/${payload.p}/${String(payload.n)}`)
    },
    /** Payloads withdrawn so far. */
    withdrawnCount: () => withdrawn.size,
    /** Payloads handed out so far. */
    publishedCount(): number {
      let total = 0
      for (const byPublisher of published.values()) for (const n of byPublisher.values()) total += n
      return total
    },
    /** A channel listener recording what `subscriber` is delivered on `channel`. */
    listen(subscriber: string, channel: string): ChannelListener {
      const key = `${subscriber} ${channel}`
      if (streams.has(key)) throw new Error(`${key} listens already`)
      const stream: Stream = {
        subscriber,
        channel,
        position: null,
        gapCount: 0,
        gapCountAtLast: 0,
        last: new Map(),
        gaps: [],
        delivered: 0,
        lost: 0,
        duplicated: 0,
        skippedAfterGap: 0,
      }
      streams.set(key, stream)
      return {
        message: (message) => deliver(stream, message),
        gap(gap) {
          if (gap.channel !== channel) violation(`${channel}: gap for ${gap.channel}`)
          stream.gaps.push(gap)
          stream.gapCount++
        },
      }
    },
    /** Numbers published (not withdrawn) that some subscriber has not been delivered yet. */
    outstanding(): number {
      let missing = 0
      for (const stream of streams.values()) {
        for (const [publisher, total] of published.get(stream.channel) ?? []) {
          const last = stream.last.get(publisher)?.n ?? 0
          if (last < total) missing += between(stream.channel, publisher, last, total + 1)
        }
      }
      return missing
    },
    report(): MultiReport {
      const report: MultiReport = {
        delivered: 0,
        lost: 0,
        duplicated: 0,
        skippedAfterGap: 0,
        gaps: {},
        violations: [...violations]
          .slice(0, MAX_VIOLATIONS)
          .map(
            ([what, seen]) => `${(seen.atMs / 1000).toFixed(1)} s: ${what} (${String(seen.subscribers)} subscriber(s))`,
          )
          .concat(violations.size > MAX_VIOLATIONS ? [`… ${String(violations.size - MAX_VIOLATIONS)} more`] : []),
      }
      for (const stream of streams.values()) {
        report.delivered += stream.delivered
        report.duplicated += stream.duplicated
        report.skippedAfterGap += stream.skippedAfterGap
        report.lost += stream.lost
        for (const [publisher, total] of published.get(stream.channel) ?? []) {
          const last = stream.last.get(publisher) ?? { n: 0, gapCount: 0, seq: 0 }
          // Never delivered at the tail: lost, unless a gap was reported after this publisher's last delivery.
          if (stream.gapCount === last.gapCount) report.lost += between(stream.channel, publisher, last.n, total + 1)
        }
        if (stream.gaps.length > 0) {
          report.gaps[`${stream.subscriber} ${stream.channel}`] = stream.gaps.map((gap) => gap.reason)
        }
      }
      return report
    },
  }
}

export type MultiChecker = ReturnType<typeof createMultiChecker>
