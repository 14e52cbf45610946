import { vi } from 'vitest'
import {
  lifelineProtocol,
  type ChannelGap,
  type ChannelMessage,
  type ChannelStatus,
  type LifelineError,
  type LifelineProtocol,
  type OutboundData,
  type ProtocolHost,
  type ProtocolLink,
} from '../../src/core'

/** A {@link ProtocolLink} that records every call a protocol makes, in order. */
export interface RecordingLink extends ProtocolLink {
  token: string | null
  session: string | null
  /** Frames written, parsed. */
  readonly frames: Record<string, unknown>[]
  /** Spies as well as counters, so a test may assert either way. */
  readonly ready: ReturnType<typeof vi.fn<ProtocolLink['ready']>>
  readonly pong: ReturnType<typeof vi.fn<ProtocolLink['pong']>>
  readonly deliver: ReturnType<typeof vi.fn<ProtocolLink['deliver']>>
  readonly readies: ({ id: string | null; resumed: boolean | null } | undefined)[]
  readonly reports: LifelineError[]
  readonly failures: LifelineError[]
  readonly rejected: { id: string; error: LifelineError }[]
  readonly confirmed: string[]
  readonly limits: number[]
  pongs: number
  delivered: number
}

/** A fresh {@link RecordingLink}. */
export function recordingLink(init: { token?: string | null; session?: string | null } = {}): RecordingLink {
  const link: RecordingLink = {
    token: init.token ?? null,
    session: init.session ?? null,
    frames: [],
    readies: [],
    reports: [],
    failures: [],
    rejected: [],
    confirmed: [],
    limits: [],
    pongs: 0,
    delivered: 0,
    write(data) {
      link.frames.push(JSON.parse(data as string) as Record<string, unknown>)
    },
    ready: vi.fn((session) => {
      link.readies.push(session)
    }),
    deliver: vi.fn(() => {
      link.delivered += 1
    }),
    pong: vi.fn(() => {
      link.pongs += 1
    }),
    confirm(id) {
      link.confirmed.push(id)
    },
    reject(id, error) {
      link.rejected.push({ id, error })
    },
    fail(error) {
      link.failures.push(error)
    },
    limit(bytes) {
      link.limits.push(bytes)
    },
    report(error) {
      link.reports.push(error)
    },
  }
  return link
}

/** A {@link ProtocolHost} on the global timers (fake or real) that counts what was enqueued. */
export function recordingHost(): ProtocolHost & { enqueued: OutboundData[] } {
  const host = {
    enqueued: [] as OutboundData[],
    enqueue(data: OutboundData) {
      host.enqueued.push(data)
      return `id-${String(host.enqueued.length)}`
    },
    later(callback: () => void, ms: number) {
      const handle = setTimeout(callback, ms)
      return () => clearTimeout(handle)
    },
    now: () => Date.now(),
    onSessionExpired: () => () => undefined,
  }
  return host
}

/** What the listeners of one channel saw. */
export interface ChannelEvents {
  readonly messages: ChannelMessage[]
  readonly gaps: ChannelGap[]
  readonly statuses: ChannelStatus[]
}

/** An attached `lifelineProtocol()` and a listener on each of `channels`. */
export function attachedProtocol(channels: readonly string[] = ['room']): {
  protocol: LifelineProtocol
  events: Map<string, ChannelEvents>
} {
  const protocol = lifelineProtocol()
  protocol.attach!(recordingHost())
  const events = new Map<string, ChannelEvents>()
  for (const name of channels) {
    const seen: ChannelEvents = { messages: [], gaps: [], statuses: [] }
    protocol.channel(name, {
      message: (message) => seen.messages.push(message),
      gap: (gap) => seen.gaps.push(gap),
      status: (status) => seen.statuses.push(status),
    })
    events.set(name, seen)
  }
  return { protocol, events }
}

/** A valid `welcome`, as the reference server sends it. */
export const WELCOME = {
  type: 'welcome',
  session: 'Zm9vYmFyLWJhei1xdXV4',
  resumed: false,
  heartbeatMs: 25_000,
  maxMessageBytes: 65_536,
  resumeWindowMs: 120_000,
} as const
