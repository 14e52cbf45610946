// Type tests for the public hooks' generics and the options' unions. Never run: `tsc -p tsconfig.types.json`
// checks them (test/layers.test.ts runs it), and every `@ts-expect-error` must still meet an error, or tsc fails.
import { expectTypeOf } from 'vitest'
import {
  ConnectionBanner,
  createLifeline,
  eventSource,
  indexedDbOutbox,
  lifelineProtocol,
  localStorageOutbox,
  longPollFallback,
  outboxStorage,
  useChannel,
  useEventSource,
  useWebSocket,
  type BackoffContext,
  type ChannelMessage,
  type LifelineOptions,
  type UseChannelResult,
  type UseWebSocketResult,
} from '../../src'

interface Ticker {
  symbol: string
  price: number
}

export function hookGenerics(): void {
  const socket = useWebSocket<Ticker>('wss://example.test/socket')
  expectTypeOf(socket).toEqualTypeOf<UseWebSocketResult<Ticker>>()
  expectTypeOf(socket.lastJsonMessage).toEqualTypeOf<Ticker | null>()
  // @ts-expect-error lastJsonMessage may be null until a JSON message arrives
  expectTypeOf(socket.lastJsonMessage).toEqualTypeOf<Ticker>()

  // Without a type argument nothing is claimed about the payload.
  expectTypeOf(useWebSocket().lastJsonMessage).toEqualTypeOf<unknown>()
  expectTypeOf(useWebSocket(null).client).toEqualTypeOf<ReturnType<typeof createLifeline> | null>()

  const channel = useChannel<Ticker>('prices', {
    onMessage: (message) => expectTypeOf(message.data).toEqualTypeOf<Ticker>(),
    history: 10,
  })
  expectTypeOf(channel).toEqualTypeOf<UseChannelResult<Ticker>>()
  expectTypeOf(channel.messages).toEqualTypeOf<readonly ChannelMessage<Ticker>[]>()
  expectTypeOf(channel.last).toEqualTypeOf<ChannelMessage<Ticker> | null>()
  // @ts-expect-error the buffer is read-only for rendering
  channel.messages.push(channel.messages[0]!)
  // @ts-expect-error onMessage sees the channel's own payload type
  useChannel<Ticker>('prices', { onMessage: (message: ChannelMessage<string>) => message })
  expectTypeOf(useChannel('any').messages).toEqualTypeOf<readonly ChannelMessage<unknown>[]>()

  const stream = useEventSource<Ticker>('/live/events?ch=prices', {
    events: ['price'],
    idleTimeoutMs: null,
    onGap: () => undefined,
  })
  expectTypeOf(stream.lastJsonMessage).toEqualTypeOf<Ticker | null>()
  expectTypeOf(stream.lastMessage?.lastEventId).toEqualTypeOf<string | undefined>()
  // @ts-expect-error an event stream is receive-only: no send
  stream.send('x')
  // @ts-expect-error WebSocket-only options are not taken
  useEventSource('/live/events', { heartbeat: true })
  // A hook's `client` (null before it has one) goes straight to a component.
  ConnectionBanner({ client: stream.client })
}

const url = 'wss://example.test/socket'

export function optionUnions(): LifelineOptions[] {
  return [
    // backoff: a named strategy or a function of the attempt context.
    { url, backoff: 'full-jitter' },
    { url, backoff: 'decorrelated' },
    { url, backoff: (context: BackoffContext) => context.minDelayMs * context.attempt },
    // @ts-expect-error not a strategy name
    { url, backoff: 'exponential' },
    // @ts-expect-error a backoff function returns the delay in ms
    { url, backoff: () => 'soon' },

    // heartbeat: true (defaults), false (off), or settings.
    { url, heartbeat: true },
    { url, heartbeat: false },
    { url, heartbeat: { intervalMs: 20_000, timeoutMs: 5000, message: 'ping', isPong: (data) => data === 'pong' } },
    // @ts-expect-error the interval is a number of ms
    { url, heartbeat: { intervalMs: '20s' } },
    // @ts-expect-error no such heartbeat setting
    { url, heartbeat: { everyMs: 1000 } },
    // @ts-expect-error neither a boolean nor settings
    { url, heartbeat: 'on' },

    // outbox: limits, an overflow policy and a storage made by one of the adapters.
    { url, outbox: { overflow: 'reject', storage: localStorageOutbox('outbox') } },
    { url, outbox: { overflow: 'drop-oldest', storage: indexedDbOutbox('outbox') } },
    { url, outbox: { ttlMs: null, storage: outboxStorage({ load: () => null, save: () => undefined }) } },
    // @ts-expect-error not an overflow policy
    { url, outbox: { overflow: 'drop-newest' } },
    // @ts-expect-error storage comes from localStorageOutbox(), indexedDbOutbox() or outboxStorage(), not a Storage
    { url, outbox: { storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined } } },
    // @ts-expect-error exactOptionalPropertyTypes: leave the field out rather than passing undefined
    { url, outbox: { storage: undefined } },

    // fallback: made by longPollFallback(), with the lifeline protocol.
    { url, protocol: lifelineProtocol(), fallback: longPollFallback({ fallbackAfter: 2 }) },
    // @ts-expect-error a fallback is made by longPollFallback(), not named
    { url, fallback: 'longpoll' },

    // transport: made by eventSource().
    { url: 'https://example.test/events', transport: eventSource({ withCredentials: true, events: 'all' }) },
    // @ts-expect-error a transport is made by eventSource(), not named
    { url, transport: 'sse' },

    // @ts-expect-error the URL is required
    { backoff: 'full-jitter' },
  ]
}
