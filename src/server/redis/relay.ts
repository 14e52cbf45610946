import { randomBytes } from 'node:crypto'
import { Cluster } from 'ioredis'
import type { Redis } from 'ioredis'
import type { NodeRelay, RelayListener } from '../broker'
import { LifelineServerError } from '../errors'
import { withTimeout } from './link'

/** Options of {@link createRedisRelay}. Internal. */
export interface RedisRelayOptions {
  readonly client: Redis | Cluster
  readonly keyPrefix: string
  readonly commandTimeoutMs: number
}

// KEYS[1] owner key. ARGV[1] node. Deletes only its own record: another node may own the id by now.
const DISOWN = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

/**
 * Node-to-node messages over Redis pub/sub (one channel per node, read on a duplicate connection) and the long-poll
 * directory (`{lp:<hash of the connection id>}` → owner node, with a TTL). Internal: see `createRedisClusterState`.
 */
export function createRedisRelay(options: RedisRelayOptions): NodeRelay {
  const { client, keyPrefix, commandTimeoutMs } = options
  const node = randomBytes(12).toString('hex')
  const channelOf = (target: string): string => `${keyPrefix}relay:${target}`
  const ownerKey = (key: string): string => `${keyPrefix}{lp:${key}}:owner`
  const timed = <T>(call: Promise<T>): Promise<T> => withTimeout(call, commandTimeoutMs)

  let subscriberOf: Redis | Cluster | null = null
  let closed = false

  return {
    node,
    close() {
      closed = true
      subscriberOf?.disconnect()
      subscriberOf = null
    },
    async send(target, message) {
      await timed(client.publish(channelOf(target), `${node}|${message}`))
    },
    listen(listener: RelayListener) {
      // Narrowed for the call: the two `duplicate` signatures do not unify.
      const subscriber: Redis | Cluster = client instanceof Cluster ? client.duplicate() : client.duplicate()
      const channel = channelOf(node)
      subscriber.on('message', (from: string, text: string) => {
        if (from !== channel) return
        const bar = text.indexOf('|')
        if (bar > 0) listener(text.slice(0, bar), text.slice(bar + 1))
      })
      subscriberOf = subscriber
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new LifelineServerError('BROKER_UNAVAILABLE', 'relay not listening')),
          commandTimeoutMs,
        )
        // Subscribed again on every (re)connection: with the offline queue off, a command before `ready` would fail.
        const subscribe = (): void => {
          subscriber.subscribe(channel).then(
            () => {
              clearTimeout(timer)
              resolve()
            },
            (error: unknown) => {
              if (!closed) subscriber.emit('error', error)
            },
          )
        }
        subscriber.on('ready', subscribe)
        // Connection errors are the main client's to report (health); this link reconnects by itself.
        subscriber.on('error', () => undefined)
        if (subscriber.status === 'ready') subscribe()
      })
    },
    async own(key, ttlMs) {
      await timed(client.set(ownerKey(key), node, 'PX', ttlMs))
    },
    async owner(key) {
      return timed(client.get(ownerKey(key)))
    },
    async disown(key) {
      await timed(client.eval(DISOWN, 1, ownerKey(key), node))
    },
  }
}
