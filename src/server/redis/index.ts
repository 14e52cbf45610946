import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { InvalidOptionsError } from '../../core'
import type { OptionIssue } from '../../core'
import type { Broker, BrokerCluster, BrokerHealth } from '../broker'
import { LifelineServerError } from '../errors'
import { LiveFeed } from './feed'
import { SubscriberLink, whenReady, withTimeout } from './link'
import { createRedisClusterState } from './sessions'
import { appendMessage, channelKeys, channelOfLive, parseLive, readHistory, type StreamSettings } from './streams'

/** Options of {@link createRedisBroker}. */
export interface RedisBrokerOptions {
  /**
   * Redis to connect to when no `client` is given (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS).
   * The broker then owns the connection and closes it in `close()`.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string | undefined
  /**
   * A connected ioredis client (`new Redis(…)` or `new Cluster(…)`) to use instead of `url`. The broker never closes
   * it; it opens its own pub/sub connection next to it (and closes that one).
   * @default undefined
   */
  client?: Redis | Cluster
  /** Prefix of every key and pub/sub channel; must not contain `{` or `}` (they would break the hash tags). @default 'lifeline:' */
  keyPrefix?: string
  /**
   * How long a message stays replayable, ms (the resume window; the server's `resume.windowMs` should match).
   * @default 120000
   */
  windowMs?: number
  /** Messages kept per channel. @default 1000 */
  maxMessages?: number
  /** Bytes of payload kept per channel. @default 1048576 */
  maxBytes?: number
  /**
   * How long a channel's keys (its epoch, head and stream) live after its last publish, ms; at least `windowMs`. A
   * channel quiet for longer starts a new epoch at its next message (its subscribers are told of a gap).
   * @default 86400000
   */
  idleTtlMs?: number
  /**
   * Longest wait for one Redis call, ms: past it the call rejects with `BROKER_UNAVAILABLE`. While Redis is known to be
   * unreachable calls reject at once.
   * @default 2000
   */
  commandTimeoutMs?: number
  /**
   * How long a node's sessions outlive its last renewal, ms (see the server's cross-node sessions).
   * @default 30000
   */
  sessionLeaseMs?: number
  /**
   * Called when a listener throws; the other listeners still get the message.
   * @default rethrows asynchronously (an uncaught exception)
   */
  onListenerError?: (error: unknown, channel: string) => void
}

/** State of the broker's Redis links: `down` once closed or given up. */
export type RedisBrokerStatus = 'ready' | 'reconnecting' | 'down'

/** A {@link Broker} over Redis (or a Redis Cluster), shared by any number of server nodes. */
export interface RedisBroker extends Broker {
  /** `ok` while both Redis links (commands and pub/sub) are ready. */
  health(): BrokerHealth
  onHealth(listener: (health: BrokerHealth) => void): () => void
  /** Finer than {@link health}: `reconnecting` while a link is being re-established, `down` after `close()`. */
  status(): RedisBrokerStatus
  /** The last error a Redis link reported, or null. */
  readonly lastError: Error | null
  /** Resolves once both links are ready (rejects with `BROKER_UNAVAILABLE` after `timeoutMs`). */
  ready(timeoutMs?: number): Promise<void>
  /** The command connection (the one passed in, or the one created from `url`). */
  readonly client: Redis | Cluster
  readonly cluster: BrokerCluster
}

const newEpoch = (): string => randomBytes(9).toString('base64url')

type Settings = {
  [K in keyof Omit<RedisBrokerOptions, 'client' | 'onListenerError'>]-?: Exclude<RedisBrokerOptions[K], undefined>
}

function validate(options: RedisBrokerOptions): Settings {
  const issues: OptionIssue[] = []
  const count = (field: keyof RedisBrokerOptions, fallback: number, min: number): number => {
    const value = options[field] ?? fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      issues.push({ field, problem: `must be an integer >= ${String(min)}` })
    }
    return value as number
  }
  const windowMs = count('windowMs', 120_000, 0)
  const maxMessages = count('maxMessages', 1000, 0)
  const maxBytes = count('maxBytes', 1024 * 1024, 0)
  const idleTtlMs = count('idleTtlMs', 86_400_000, 1)
  const commandTimeoutMs = count('commandTimeoutMs', 2000, 1)
  const sessionLeaseMs = count('sessionLeaseMs', 30_000, 1)
  if (Number.isInteger(idleTtlMs) && Number.isInteger(windowMs) && idleTtlMs < windowMs) {
    issues.push({ field: 'idleTtlMs', problem: 'must be >= windowMs' })
  }
  const keyPrefix = options.keyPrefix ?? 'lifeline:'
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
    issues.push({ field: 'keyPrefix', problem: 'must be a string without { or }' })
  }
  const url = options.url ?? 'redis://127.0.0.1:6379'
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    issues.push({ field: 'url', problem: 'must be a redis:// or rediss:// URL' })
  }
  if (options.client !== undefined && !(options.client instanceof Redis || options.client instanceof Cluster)) {
    issues.push({ field: 'client', problem: 'must be an ioredis Redis or Cluster' })
  }
  if (options.client !== undefined && options.url !== undefined) {
    issues.push({ field: 'url', problem: 'give either url or client, not both' })
  }
  if (options.onListenerError !== undefined && typeof options.onListenerError !== 'function') {
    issues.push({ field: 'onListenerError', problem: 'must be a function' })
  }
  if (issues.length > 0) throw new InvalidOptionsError(issues)
  return { url, keyPrefix, windowMs, maxMessages, maxBytes, idleTtlMs, commandTimeoutMs, sessionLeaseMs }
}

/**
 * A {@link Broker} in Redis: one Stream per channel holds its history (trimmed by count, bytes and age), a Lua script
 * assigns seqs and publishes over pub/sub in one step, and each node backfills from the stream whatever its pub/sub
 * link missed. Works on a single server and on a Redis Cluster (every key of a channel is in one slot).
 *
 * @example createLifelineServer({ broker: createRedisBroker({ url: process.env.REDIS_URL }) })
 */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  const settings = validate(options)
  const { keyPrefix, commandTimeoutMs } = settings
  const ownsClient = options.client === undefined
  const client: Redis | Cluster =
    options.client ??
    new Redis(settings.url, {
      enableOfflineQueue: false,
      commandTimeout: commandTimeoutMs,
      connectTimeout: commandTimeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000),
    })
  const streams: StreamSettings = { ...settings, newEpoch }
  const onListenerError =
    options.onListenerError ??
    ((error: unknown) =>
      queueMicrotask(() => {
        throw error
      }))

  let closed = false
  let clientEverReady = client.status === 'ready'
  let lastError: Error | null = null
  let current: RedisBrokerStatus = 'reconnecting'
  let health: BrokerHealth = { status: 'down', since: Date.now() }
  const healthListeners = new Set<(health: BrokerHealth) => void>()

  const fail = (error: unknown): void => {
    if (error instanceof Error) lastError = error
  }

  /** Runs one Redis call: rejects at once after close or while Redis is known down, else within commandTimeoutMs. */
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    if (closed) throw new LifelineServerError('BROKER_CLOSED', 'The Redis broker was closed')
    try {
      await whenReady(client, clientEverReady, commandTimeoutMs)
      return await withTimeout(run(), commandTimeoutMs)
    } catch (error) {
      if (closed) throw new LifelineServerError('BROKER_CLOSED', 'The Redis broker was closed', { cause: error })
      fail((error as { cause?: unknown }).cause ?? error)
      throw error
    }
  }

  const feed = new LiveFeed({
    history: (channel, since) => call(() => readHistory(client, streams, channel, since)),
    subscribe: (channel) => link.subscribe(channelKeys(keyPrefix, channel).live),
    unsubscribe: (channel) => link.unsubscribe(channelKeys(keyPrefix, channel).live),
    onListenerError,
    onSyncError: fail,
  })

  const update = (): void => {
    const next: RedisBrokerStatus = closed
      ? 'down'
      : client.status === 'end' && ownsClient
        ? 'down'
        : client.status === 'ready' && link.ready
          ? 'ready'
          : 'reconnecting'
    if (next === current) return
    current = next
    const status = next === 'ready' ? 'ok' : 'down'
    if (status === health.status) return
    health = { status, since: Date.now() }
    for (const listener of [...healthListeners]) listener(health)
  }

  const link: SubscriberLink = new SubscriberLink(
    client,
    {
      message(name, text) {
        const channel = channelOfLive(keyPrefix, name)
        const message = channel === null ? null : parseLive(channel, text)
        if (message) feed.receive(message)
      },
      up() {
        update()
        feed.linkUp()
      },
      down(error) {
        if (error) fail(error)
        feed.linkDown()
        update()
      },
    },
    commandTimeoutMs,
  )

  const onReady = (): void => {
    clientEverReady = true
    update()
  }
  const onError = (error: Error): void => fail(error)
  client.on('ready', onReady)
  client.on('close', update)
  client.on('end', update)
  client.on('error', onError)

  const cluster = createRedisClusterState({
    client,
    keyPrefix,
    sessionLeaseMs: settings.sessionLeaseMs,
    commandTimeoutMs,
  })

  const onHealth = (listener: (health: BrokerHealth) => void): (() => void) => {
    healthListeners.add(listener)
    return () => {
      healthListeners.delete(listener)
    }
  }

  const rejectIfClosed = (): Promise<never> | null =>
    closed ? Promise.reject(new LifelineServerError('BROKER_CLOSED', 'The Redis broker was closed')) : null

  return {
    publish(channel, payload, once) {
      return call(() => appendMessage(client, streams, channel, payload, once))
    },
    subscribe(channel, listener) {
      return rejectIfClosed() ?? feed.add(channel, listener)
    },
    history(channel, since) {
      return call(() => readHistory(client, streams, channel, since))
    },
    async reset(channel) {
      if (channel !== undefined) {
        const keys = channelKeys(keyPrefix, channel)
        await call(() => client.del(keys.meta, keys.log))
        return
      }
      const masters = client instanceof Cluster ? client.nodes('master') : [client]
      for (const node of masters) {
        let cursor = '0'
        do {
          const [next, found] = await call(() => node.scan(cursor, 'MATCH', `${keyPrefix}{ch:*`, 'COUNT', 500))
          cursor = next
          // One DEL per key: on a Cluster, keys of different channels live in different slots.
          await call(() => Promise.all(found.map((key) => node.del(key))))
        } while (cursor !== '0')
      }
    },
    close() {
      if (closed) return Promise.resolve()
      closed = true
      feed.close()
      link.close()
      client.off('ready', onReady)
      client.off('close', update)
      client.off('end', update)
      client.off('error', onError)
      if (ownsClient) client.disconnect()
      update()
      return Promise.resolve()
    },
    health: () => health,
    onHealth,
    status: () => current,
    get lastError() {
      return lastError
    },
    ready(timeoutMs = 10_000) {
      if (current === 'ready') return Promise.resolve()
      return withTimeout(
        new Promise<void>((resolve) => {
          const off = onHealth((next) => {
            if (next.status !== 'ok') return
            off()
            resolve()
          })
        }),
        timeoutMs,
      )
    },
    client,
    cluster,
  }
}
