import { Cluster, Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { LifelineServerError } from '../errors'

/** Rejects with `BROKER_UNAVAILABLE` when `call` fails or takes longer than `timeoutMs`. Internal. */
export function withTimeout<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new LifelineServerError('BROKER_UNAVAILABLE', 'Redis did not answer in time')),
      timeoutMs,
    )
    call.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(
          error instanceof LifelineServerError
            ? error
            : new LifelineServerError('BROKER_UNAVAILABLE', 'Redis call failed', { cause: error }),
        )
      },
    )
  })
}

/** Anything with ioredis' connection status and events. */
type Connection = Redis | Cluster

/**
 * Resolves when `connection` is ready. A connection that was ready before and is not now is known to be down: that
 * rejects at once (so a publish during an outage fails fast); one still making its first connection gets `timeoutMs`.
 */
export function whenReady(connection: Connection, everReady: boolean, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve()
  if (everReady || connection.status === 'end') {
    return Promise.reject(new LifelineServerError('BROKER_UNAVAILABLE', `Redis link is ${connection.status}`))
  }
  return withTimeout(
    new Promise<void>((resolve) => {
      connection.once('ready', () => resolve())
    }),
    timeoutMs,
  )
}

/** The options the subscriber connection sets (all of RedisOptions does not type-check as `new Redis()` input). */
type SubscriberOptions = Pick<
  RedisOptions,
  | 'autoResubscribe'
  | 'enableOfflineQueue'
  | 'connectTimeout'
  | 'maxRetriesPerRequest'
  | 'retryStrategy'
  | 'host'
  | 'port'
  | 'username'
  | 'password'
  | 'tls'
>

/** Reconnect delay of the subscriber connection: quick first retries, at most 1 s. */
const retryDelay = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 5), 1000)

/** What {@link SubscriberLink} reports. Internal. */
export interface SubscriberEvents {
  /** A pub/sub message. */
  message(name: string, text: string): void
  /** The link is (again) subscribed to every wanted name: whatever was published meanwhile must be backfilled. */
  up(): void
  /** The link dropped: pub/sub messages may be lost until the next `up`. */
  down(error: Error | null): void
}

/**
 * The node's one pub/sub connection. Not ioredis' own resubscription nor the Cluster's hidden subscriber: the broker
 * must know when the link dropped and when it is subscribed again, to backfill from the streams in between. On a
 * Cluster it connects to one master (classic pub/sub reaches every node) and moves to another when that one is gone.
 */
export class SubscriberLink {
  private connection: Redis | null = null
  private readonly wanted = new Set<string>()
  private closed = false
  private everReady = false
  private nodeIndex = 0

  constructor(
    private readonly client: Redis | Cluster,
    private readonly events: SubscriberEvents,
    private readonly timeoutMs: number,
  ) {
    this.connect()
  }

  get ready(): boolean {
    return this.connection?.status === 'ready' && !this.closed
  }

  /** Subscribes to `name`; rejects with `BROKER_UNAVAILABLE` while the link is down. */
  async subscribe(name: string): Promise<void> {
    this.wanted.add(name)
    const connection = this.connection
    if (!connection) throw new LifelineServerError('BROKER_UNAVAILABLE', 'Redis subscriber is not connected')
    await whenReady(connection, this.everReady, this.timeoutMs)
    await withTimeout(connection.subscribe(name), this.timeoutMs)
  }

  unsubscribe(name: string): void {
    this.wanted.delete(name)
    const connection = this.connection
    if (connection?.status === 'ready') connection.unsubscribe(name).catch((error: unknown) => this.dropped(error))
  }

  close(): void {
    this.closed = true
    this.wanted.clear()
    this.connection?.disconnect()
    this.connection = null
  }

  private options(): SubscriberOptions {
    const common: SubscriberOptions = {
      autoResubscribe: false,
      enableOfflineQueue: false,
      connectTimeout: this.timeoutMs,
      maxRetriesPerRequest: 0,
    }
    if (this.client instanceof Cluster) {
      const masters = this.client.nodes('master')
      const node = masters[this.nodeIndex % Math.max(masters.length, 1)]
      this.nodeIndex += 1
      const { host, port, username, password, tls } = node?.options ?? {}
      // Give up on a dead master after a few tries: `end` then picks another one.
      const address: SubscriberOptions = { host: host ?? '127.0.0.1', port: port ?? 6379 }
      if (username !== undefined) address.username = username
      if (password !== undefined) address.password = password
      if (tls !== undefined) address.tls = tls
      return { ...common, ...address, retryStrategy: (attempt) => (attempt > 3 ? null : retryDelay(attempt)) }
    }
    return { ...common, retryStrategy: retryDelay }
  }

  private connect(): void {
    if (this.closed) return
    if (this.client instanceof Cluster && this.client.status !== 'ready') {
      // The masters are known once the Cluster is ready.
      this.client.once('ready', () => this.connect())
      return
    }
    const options = this.options()
    const connection = this.client instanceof Cluster ? new Redis(options) : this.client.duplicate(options)
    this.connection = connection
    connection.on('message', (name: string, text: string) => {
      if (this.connection === connection) this.events.message(name, text)
    })
    connection.on('error', (error: Error) => this.dropped(error))
    connection.on('close', () => this.dropped(null))
    connection.on('ready', () => {
      if (this.connection !== connection) return
      this.everReady = true
      const names = [...this.wanted]
      const subscribed = names.length > 0 ? connection.subscribe(...names) : Promise.resolve(0)
      subscribed.then(
        () => this.events.up(),
        (error: unknown) => {
          this.dropped(error)
          // Reconnect, so that the next `ready` subscribes again: a link without its subscriptions is no link.
          connection.disconnect(true)
        },
      )
    })
    connection.on('end', () => {
      if (this.connection !== connection || this.closed) return
      this.connection = null
      this.connect()
    })
  }

  private dropped(error: unknown): void {
    if (this.closed) return
    this.events.down(error instanceof Error ? error : null)
  }
}
