import { randomBytes } from 'node:crypto'
import type { NodeRelay } from './broker'
import { errorName } from './errors'
import type { LongPollSocket, PollResponder } from './longpoll-socket'
import type { ServerLog } from './options'

/** A long-poll request forwarded to the node owning its connection. */
interface ForwardedRequest {
  readonly t: 'lp'
  /** Request id, unique on the sending node. */
  readonly r: string
  /** Hash of the connection id (the id is a secret and never leaves its node in clear). */
  readonly k: string
  readonly m: 'GET' | 'POST' | 'DELETE'
  readonly o: string | null
  /** GET: the cursor. */
  readonly c?: number
  /** POST: the frames of the batch. */
  readonly f?: readonly string[]
}

/** The owner's answer: status 0 means cut the request without an answer; `b` is the JSON body text ('' for none). */
interface ForwardedAnswer {
  readonly t: 'lpa'
  readonly r: string
  readonly s: number
  readonly b: string
  readonly h: Record<string, string>
}

/** The client gave up on a forwarded request (a waiting poll aborted). */
interface ForwardedAbandon {
  readonly t: 'lpx'
  readonly r: string
}

/** What the relay carries between nodes: long-poll forwarding and session moves. Internal. */
export type RelayMessage = ForwardedRequest | ForwardedAnswer | ForwardedAbandon | SessionMoved

/** Session `k` (its key) was attached on another node at generation `g`. */
interface SessionMoved {
  readonly t: 'moved'
  readonly k: string
  readonly g: number
}

/** Parses a relay message; null for anything else (a newer node's message type). Internal. */
export function parseRelayMessage(text: string): RelayMessage | null {
  try {
    const value = JSON.parse(text) as { t?: unknown }
    return typeof value === 'object' && value !== null && typeof value.t === 'string' ? (value as RelayMessage) : null
  } catch (_error) {
    return null
  }
}

/** The answer function of the long-poll handler. Internal. */
export type Answer = (status: number, body: Record<string, unknown> | null, headers?: Record<string, string>) => void

/** What the owner side needs from the long-poll handler. Internal. */
export interface LongPollOwner {
  /** The connection whose id hashes to `key`, if this node holds it. */
  byKey(key: string): LongPollSocket | undefined
  /** Whether `socket` is still known (not forgotten meanwhile). */
  holds(socket: LongPollSocket): boolean
  /** Hands a batch to the protocol and answers (see the handler's `deliver`). */
  deliver(socket: LongPollSocket, frames: readonly string[], answer: Answer): Promise<void>
  /** A request was served for `socket` (keeps its directory record fresh). */
  touched(socket: LongPollSocket): void
}

/** Long-poll requests across nodes: the sending side (`forward`) and the owner side (`received`). Internal. */
export interface LongPollForwarder {
  /** Sends `request` to `node` and resolves with its answer, or null after `timeoutMs` or once `cancelled` fired. */
  forward(
    node: string,
    request: Omit<ForwardedRequest, 't' | 'r'>,
    timeoutMs: number,
    cancelled: (cancel: () => void) => void,
  ): Promise<{ status: number; body: string; headers: Record<string, string> } | null>
  /** A relay message for the long-poll side arrived from `from`. */
  received(from: string, message: RelayMessage, owner: LongPollOwner): void
  /** Drops every waiting forward. */
  close(): void
}

/** Creates the forwarder of one server over `relay`. Internal. */
export function createLongPollForwarder(relay: NodeRelay, log: ServerLog): LongPollForwarder {
  const waiting = new Map<string, (answer: ForwardedAnswer | null) => void>()
  /** Polls this node holds for other nodes, by `from|request id`, so that an abandon reaches them. */
  const polls = new Map<string, { socket: LongPollSocket; respond: PollResponder; finished: () => void }>()
  const send = (node: string, message: RelayMessage): void => {
    relay.send(node, JSON.stringify(message)).catch((error: unknown) => {
      log('warn', 'long-poll relay send failed', { error: errorName(error) })
    })
  }

  function serve(from: string, request: ForwardedRequest, owner: LongPollOwner): void {
    let answered = false
    const reply = (s: number, b: string, h: Record<string, string> = {}): void => {
      if (answered) return
      answered = true
      send(from, { t: 'lpa', r: request.r, s, b, h })
    }
    const answer: Answer = (status, body, headers = {}) =>
      reply(status, body === null ? '' : JSON.stringify(body), headers)
    const socket = owner.byKey(request.k)
    if (!socket) return answer(410, { error: 'unknown or expired connection' })
    if (request.o !== null && request.o !== socket.origin) {
      log('warn', 'long-poll refused: origin differs from the one that opened the connection', { origin: request.o })
      return answer(403, { error: 'origin not allowed' })
    }
    socket.active += 1
    owner.touched(socket)
    let done = false
    const finished = (): void => {
      if (done) return
      done = true
      socket.active -= 1
      socket.lastActivity = performance.now()
    }
    if (request.m === 'DELETE') {
      socket.closedByClient()
      answer(204, null)
      return finished()
    }
    if (request.m === 'POST') {
      if (!owner.holds(socket)) {
        answer(410, { error: 'unknown or expired connection' })
        return finished()
      }
      void owner.deliver(socket, request.f ?? [], answer).finally(finished)
      return
    }
    const pollKey = `${from}|${request.r}`
    const respond: PollResponder = (text) => {
      polls.delete(pollKey)
      if (text === null) reply(0, '')
      else reply(200, text)
      finished()
      return Promise.resolve()
    }
    const result = socket.poll(request.c ?? 0, respond)
    if (result === 'cursor-behind' || result === 'cursor-ahead') {
      answer(400, { error: `Lifeline-Cursor ${result === 'cursor-ahead' ? 'ahead of' : 'behind'} the stream` })
      return finished()
    }
    if (result === 'waiting') polls.set(pollKey, { socket, respond, finished })
  }

  return {
    forward(node, request, timeoutMs, cancelled) {
      const r = randomBytes(8).toString('base64url')
      return new Promise((resolve) => {
        const settle = (answer: ForwardedAnswer | null): void => {
          if (!waiting.delete(r)) return
          clearTimeout(timer)
          resolve(answer === null ? null : { status: answer.s, body: answer.b, headers: answer.h })
        }
        const timer = setTimeout(() => settle(null), timeoutMs)
        waiting.set(r, settle)
        cancelled(() => {
          if (!waiting.has(r)) return
          settle(null)
          send(node, { t: 'lpx', r })
        })
        send(node, { t: 'lp', r, ...request })
      })
    },
    received(from, message, owner) {
      if (message.t === 'lp') return serve(from, message, owner)
      if (message.t === 'lpa') return waiting.get(message.r)?.(message)
      if (message.t === 'lpx') {
        const poll = polls.get(`${from}|${message.r}`)
        if (!poll) return
        polls.delete(`${from}|${message.r}`)
        poll.socket.abandon(poll.respond)
        poll.finished()
      }
    },
    close() {
      for (const settle of [...waiting.values()]) settle(null)
      polls.clear()
    },
  }
}
