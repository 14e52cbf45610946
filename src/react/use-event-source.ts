'use client'
import { useEffect, useMemo, useRef } from 'react'
import { eventSource, type EventSourceOptions, type UrlSource } from '../core'
import { useWebSocket, type UseWebSocketOptions, type UseWebSocketResult } from './use-websocket'

/**
 * Options of {@link useEventSource}: the stream's own ({@link EventSourceOptions}) and the connection's (backoff,
 * `getToken`, `maxAttempts`, `shouldReconnect`, `share`, callbacks, …). WebSocket-only options are not accepted.
 */
export interface UseEventSourceOptions
  extends
    Omit<
      UseWebSocketOptions,
      'protocol' | 'protocols' | 'fallback' | 'heartbeat' | 'authMessage' | 'binaryType' | 'outbox' | 'transport'
    >,
    EventSourceOptions {
  /**
   * The server could not resume from the last event id (`session.resumed` became `false`: the reference server lost
   * the history, or the id is too old): events were missed. Called once per such reconnect; always the latest
   * function. Show it, or refetch what the stream feeds. @default undefined
   */
  onGap?: (() => void) | undefined
}

/** What {@link useEventSource} returns: the snapshot, the last event (with `type` and `lastEventId`) and actions. */
export type UseEventSourceResult<T = unknown> = Omit<UseWebSocketResult<T>, 'send' | 'sendJson'>

/**
 * A Server-Sent Events stream that heals itself like a socket: backoff with jitter, offline and visibility handling,
 * `maxAttempts`, the HTTP status of a refusal in `lastError`, a token in a header (`getToken`), a dead stream found by
 * `idleTimeoutMs`, and `Last-Event-ID` sent on every reconnect so a server that keeps history resumes where it was.
 * `lastMessage.type` is the event's type and `lastMessage.lastEventId` its id. `null` for no stream. The connection
 * components take `client={result.client}`.
 *
 * @example const { status, lastJsonMessage } = useEventSource('/live/events?ch=news')
 */
export function useEventSource<T = unknown>(
  url: string | UrlSource | null,
  options?: UseEventSourceOptions,
): UseEventSourceResult<T> {
  const { withCredentials, idleTimeoutMs, maxEventChars, events, lastEventId, onGap, ...connection } = options ?? {}
  const key = events === undefined || events === 'all' ? 'all' : events.join('\n')
  const transport = useMemo(
    () =>
      eventSource({
        withCredentials,
        idleTimeoutMs,
        maxEventChars,
        events: key === 'all' ? 'all' : key.split('\n'),
        lastEventId,
      }),
    [withCredentials, idleTimeoutMs, maxEventChars, key, lastEventId],
  )
  // Only `send` and `sendJson` are left out: an event stream is receive-only.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { send, sendJson, ...result } = useWebSocket<T>(url, { ...connection, transport })
  const gapped = useRef(onGap)
  gapped.current = onGap
  const { client } = result
  useEffect(() => {
    if (!client) return
    // The connection replaces `session` on every answer to a resume (`lifeline:subscribed`): one call per gap.
    let seen = client.getSnapshot().session
    return client.subscribe(() => {
      const { session } = client.getSnapshot()
      if (session === seen) return
      seen = session
      if (session.resumed === false) gapped.current?.()
    })
  }, [client])
  return result
}
