import type {
  ChannelGap,
  ChannelStatus,
  ConnectionSnapshot,
  LifelineClient,
  LifelineProtocol,
  OutboxItem,
  StreamPosition,
} from '../core'
import { describeFrame, previewOf, scrub, sizeOf, traceItem, traceSnapshot } from './serialize'
import {
  TRACE_VERSION,
  type DevtoolsTrace,
  type FrameRecord,
  type TimelineEntry,
  type TraceStep,
  type TransitionCause,
} from './trace-format'

/** One channel the app holds, as the devtools see it (gone from the list once the registry drops it). */
export interface ChannelView {
  name: string
  status: ChannelStatus
  /** Last position delivered (known once a message arrived while the panel was open). */
  position: StreamPosition | null
  /** Gaps reported while the panel was open, newest last (at most 20). */
  gaps: ChannelGap[]
  /** Messages seen. */
  messages: number
  /** Messages per second over the last 10 s. */
  rate: number
}

/** What the panel renders. A new object on every change. */
export interface RecorderState {
  snapshot: ConnectionSnapshot
  items: readonly OutboxItem[]
  timeline: readonly TimelineEntry[]
  frames: readonly FrameRecord[]
  /** Heartbeat round trips: epoch ms and ms. */
  latency: readonly { at: number; ms: number }[]
  channels: readonly ChannelView[]
  /** Frames are not recorded while paused. */
  paused: boolean
  /** Frames dropped from the ring buffer since the last clear. */
  droppedFrames: number
}

/** Options of {@link createRecorder}. */
export interface RecorderOptions {
  /** Epoch ms. @default client.now() */
  now?: (() => number) | undefined
  /** Most frames kept (a ring buffer). @default 500 */
  maxFrames?: number | undefined
  /** Most snapshots kept for an exported trace. @default 1000 */
  maxSteps?: number | undefined
  /** Keep payload previews (never exported). @default false */
  showPayloads?: boolean | undefined
  /** Backoff range written into an exported trace. @default { minDelayMs: 500, maxDelayMs: 30000 } */
  backoff?: { minDelayMs: number; maxDelayMs: number } | undefined
}

/** Records one client for the panel: timeline, frames, snapshots and channels. */
export interface Recorder {
  getState(): RecorderState
  subscribe(listener: () => void): () => void
  setPaused(paused: boolean): void
  clearFrames(): void
  exportTrace(): DevtoolsTrace
  /** Stops listening and observing channels. */
  dispose(): void
}

const LATENCY_SAMPLES = 120
const MAX_TIMELINE = 500
const RATE_WINDOW_MS = 10_000

function lifelineOf(client: LifelineClient): LifelineProtocol | null {
  const protocol = client.protocol as Partial<LifelineProtocol>
  return protocol.name === 'lifeline' && 'channels' in protocol ? (protocol as LifelineProtocol) : null
}

const sameClose = (a: ConnectionSnapshot['lastClose'], b: ConnectionSnapshot['lastClose']) =>
  a === b || (a !== null && b !== null && a.code === b.code && a.at === b.at)
const sameError = (a: ConnectionSnapshot['lastError'], b: ConnectionSnapshot['lastError']) =>
  a === b || (a !== null && b !== null && a.code === b.code && a.message === b.message)

/**
 * What changed in the snapshot from `before` to `after` that explains a transition: a new close, a new error (with
 * its handshake diagnosis), a transport switch. Compared by value, so a replayed trace yields the same causes.
 */
export function causeOf(before: ConnectionSnapshot, after: ConnectionSnapshot): TransitionCause {
  const cause: TransitionCause = {}
  const close = after.lastClose
  if (close && !sameClose(close, before.lastClose)) {
    cause.close = {
      code: close.code,
      name: close.meaning.name,
      action: close.meaning.action,
      reason: scrub(close.reason),
      wasClean: close.wasClean,
    }
  }
  const error = after.lastError
  if (error && !sameError(error, before.lastError)) {
    cause.error = { code: error.code, message: scrub(error.message) }
    const diagnosis = (error as { diagnosis?: { kind?: unknown; status?: unknown } }).diagnosis
    if (diagnosis && typeof diagnosis.kind === 'string') {
      cause.diagnosis = { kind: diagnosis.kind, status: typeof diagnosis.status === 'number' ? diagnosis.status : null }
    }
  }
  if (after.transport !== before.transport) cause.transport = { from: before.transport, to: after.transport }
  return cause
}

/** Creates a {@link Recorder} for `client`. */
export function createRecorder(client: LifelineClient, options: RecorderOptions = {}): Recorder {
  const now = options.now ?? (() => client.now())
  const maxFrames = options.maxFrames ?? 500
  const maxSteps = options.maxSteps ?? 1000
  const listeners = new Set<() => void>()
  let previous = client.getSnapshot()
  let previousItems = client.outbox.items()
  const steps: TraceStep[] = [{ at: now(), snapshot: traceSnapshot(previous), items: previousItems.map(traceItem) }]
  let frameIndex = 0
  let entryIndex = 0
  let pending: TransitionCause = {}
  const channelViews = new Map<string, ChannelView & { times: number[] }>()
  let state: RecorderState = {
    snapshot: previous,
    items: previousItems,
    timeline: [],
    frames: [],
    latency: [],
    channels: [],
    paused: false,
    droppedFrames: 0,
  }

  const publish = (change: Partial<RecorderState>) => {
    state = { ...state, ...change }
    listeners.forEach((listener) => listener())
  }

  /** The frame buffer with `records` appended (oldest dropped past `maxFrames`), or `null` while paused. */
  const appended = (records: Omit<FrameRecord, 'index'>[]): Partial<RecorderState> | null => {
    if (state.paused || records.length === 0) return null
    const frames = [...state.frames]
    for (const record of records) {
      frameIndex += 1
      frames.push({ ...record, index: frameIndex })
    }
    const over = Math.max(0, frames.length - maxFrames)
    frames.splice(0, over)
    return { frames, droppedFrames: state.droppedFrames + over }
  }

  const onSnapshot = () => {
    const snapshot = client.getSnapshot()
    const items = client.outbox.items()
    if (snapshot === previous && items === previousItems) return
    const at = now()
    const change: Partial<RecorderState> = { snapshot, items }
    // Causes seen between transitions (an error recorded while connecting, a diagnosis that arrives later) are kept
    // for the next transition: the timeline shows everything that happened since the previous one.
    const { transport, ...seen } = causeOf(previous, snapshot)
    pending = { ...pending, ...seen }
    if (snapshot.status !== previous.status || transport) {
      const cause: TransitionCause = transport ? { ...pending, transport } : pending
      pending = {}
      entryIndex += 1
      const entry: TimelineEntry = {
        index: entryIndex,
        at,
        from: previous.status,
        to: snapshot.status,
        attempt: snapshot.attempt,
        nextRetryAt: snapshot.nextRetryAt,
        cause,
      }
      change.timeline = [...state.timeline, entry].slice(-MAX_TIMELINE)
    }
    if (snapshot.latencyMs !== null && snapshot.latencyMs !== previous.latencyMs) {
      change.latency = [...state.latency, { at, ms: snapshot.latencyMs }].slice(-LATENCY_SAMPLES)
    }
    if (items !== previousItems) {
      const known = new Set(previousItems.map((item) => item.id))
      const records = items
        .filter((item) => !known.has(item.id))
        .map((item) => {
          const described = describeFrame(item.data)
          const record: Omit<FrameRecord, 'index'> = {
            direction: 'out',
            at: item.createdAt,
            type: described.type,
            channel: item.channel ?? described.channel,
            bytes: item.bytes,
            id: item.id,
          }
          if (options.showPayloads) record.payload = previewOf(item.data)
          return record
        })
      Object.assign(change, appended(records))
    }
    const step: TraceStep = { at, snapshot: traceSnapshot(snapshot) }
    if (items !== previousItems) step.items = items.map(traceItem)
    steps.push(step)
    if (steps.length > maxSteps) {
      // The first step keeps the outbox items a replay starts from.
      const dropped = steps.splice(0, steps.length - maxSteps)
      const first = steps[0]
      if (first && !first.items) first.items = [...dropped].reverse().find((old) => old.items)?.items ?? []
    }
    previous = snapshot
    previousItems = items
    publish(change)
  }

  const inbound = (record: Omit<FrameRecord, 'index'>) => {
    const change = appended([record])
    if (change) publish(change)
  }

  const publishChannels = () => {
    const cutoff = now() - RATE_WINDOW_MS
    publish({
      channels: [...channelViews.values()].map(({ times, ...view }) => {
        const recent = times.filter((time) => time >= cutoff)
        return { ...view, rate: Math.round((recent.length / (RATE_WINDOW_MS / 1000)) * 10) / 10 }
      }),
    })
  }

  const viewOf = (name: string) => {
    let view = channelViews.get(name)
    if (!view) {
      view = {
        name,
        status: { state: 'pending', resumed: null, error: null },
        position: null,
        gaps: [],
        messages: 0,
        rate: 0,
        times: [],
      }
      channelViews.set(name, view)
    }
    return view
  }
  const update = (name: string, change: Partial<ChannelView & { times: number[] }>) => {
    Object.assign(viewOf(name), change)
    publishChannels()
  }

  const unsubscribers = [
    client.subscribe(onSnapshot),
    client.on('message', (message) => {
      const described = describeFrame(message.data)
      const record: Omit<FrameRecord, 'index'> = {
        direction: 'in',
        at: message.receivedAt,
        type: described.type,
        channel: described.channel,
        bytes: sizeOf(message.data),
      }
      if (options.showPayloads) record.payload = previewOf(message.data)
      inbound(record)
    }),
  ]
  // Observed, never joined: a channel the app leaves is unsubscribed after its linger, panel open or not.
  const stopObserving = lifelineOf(client)?.channels?.observe({
    status: (status, name) => update(name, { status }),
    gap: (gap, name) => update(name, { gaps: [...viewOf(name).gaps, gap].slice(-20) }),
    message(message, name) {
      const view = viewOf(name)
      const record: Omit<FrameRecord, 'index'> = {
        direction: 'in',
        at: message.receivedAt,
        type: 'msg',
        channel: name,
        bytes: sizeOf(JSON.stringify(message.data) ?? ''),
      }
      if (options.showPayloads) record.payload = previewOf(message.data)
      inbound(record)
      update(name, {
        times: [...view.times.filter((time) => time >= now() - RATE_WINDOW_MS), message.receivedAt],
        position: { epoch: message.epoch, seq: message.seq },
        messages: view.messages + 1,
      })
    },
    dropped(name) {
      channelViews.delete(name)
      publishChannels()
    },
  })

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    setPaused(paused) {
      if (paused !== state.paused) publish({ paused })
    },
    clearFrames() {
      publish({ frames: [], droppedFrames: 0 })
    },
    exportTrace() {
      return {
        version: TRACE_VERSION,
        exportedAt: now(),
        url: scrub(client.url),
        protocol: client.protocol.name,
        backoff: { minDelayMs: 500, maxDelayMs: 30_000, ...options.backoff },
        timeline: [...state.timeline],
        // Metadata only: payload previews stay on screen.
        frames: state.frames.map(({ payload: _payload, ...meta }) => meta),
        steps: structuredClone(steps),
      }
    },
    dispose() {
      stopObserving?.()
      unsubscribers.forEach((unsubscribe) => unsubscribe())
      listeners.clear()
    },
  }
}
