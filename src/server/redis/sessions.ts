import type { Cluster, Redis } from 'ioredis'
import type { BrokerCluster, DedupeClaim, PublishDedupe, SessionStore, StoredSession } from '../broker'
import { secretKey } from '../sessions'
import { withTimeout } from './link'
import { createRedisRelay } from './relay'

/** Options of {@link createRedisClusterState}. */
export interface RedisClusterStateOptions {
  /** The client every command goes through (the relay subscribes on a `duplicate()` of it). */
  readonly client: Redis | Cluster
  /** Prefix of every key and pub/sub channel. @default 'lifeline:' */
  readonly keyPrefix?: string
  /**
   * How long an attached session lives without being renewed by its node, ms: a node that dies takes its sessions
   * with it this long after its last renewal (plus the resume window). Renewed every third of it. @default 30000
   */
  readonly sessionLeaseMs?: number
  /** Longest wait for one Redis call before it counts as `BROKER_UNAVAILABLE`, ms. @default 2000 */
  readonly commandTimeoutMs?: number
}

// KEYS[1] session hash. ARGV: principal, node, ttl.
const CREATE = `redis.call('HSET', KEYS[1], 'principal', ARGV[1], 'node', ARGV[2], 'gen', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`

// KEYS: session, dedupe ids, dedupe order. ARGV: node, ttl. Returns { previous node ('' none), generation }, or false
// if unknown.
const ATTACH = `if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local previous = redis.call('HGET', KEYS[1], 'node') or ''
if previous == '' then previous = redis.call('HGET', KEYS[1], 'last') or '' end
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'last', ARGV[1])
local generation = redis.call('HINCRBY', KEYS[1], 'gen', 1)
for i = 1, 3 do if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end end
return { previous, generation }`

// KEYS: session, dedupe ids, dedupe order. ARGV: node, window (0: forget now).
const DETACH = `if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) return 1 end
redis.call('HSET', KEYS[1], 'node', '', 'last', ARGV[1])
for i = 1, 3 do if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end end
return 1`

// KEYS: session, dedupe ids, dedupe order. ARGV: node, lease.
const RENEW = `if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
for i = 1, 3 do if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end end
return 1`

// KEYS: session, dedupe ids, dedupe order. ARGV: id, lease, max ids. Server time, so that node clocks do not matter.
// The ids live as long as their session (at least the lease): resends only ever come within a session.
const CLAIM = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HGET', KEYS[2], ARGV[1])
if state == 'a' then return 'acked' end
if state and tonumber(state) > now then return 'pending' end
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
redis.call('ZADD', KEYS[3], now, ARGV[1])
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[3], 0, over - 1)) do
    redis.call('HDEL', KEYS[2], old)
    redis.call('ZREM', KEYS[3], old)
  end
end
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return 'claimed'`

// KEYS: dedupe ids, dedupe order. ARGV: id, outcome.
const SETTLE = `if ARGV[2] == 'acked' then
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], 'a') end
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1`

type Script = 'create' | 'attach' | 'detach' | 'renew' | 'claim' | 'settle'

/** A script run through EVALSHA (falling back to EVAL), so that it works on a single server and on a Cluster alike. */
type Runner = (script: Script, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>

const SCRIPTS: Record<Script, string> = {
  create: CREATE,
  attach: ATTACH,
  detach: DETACH,
  renew: RENEW,
  claim: CLAIM,
  settle: SETTLE,
}

/**
 * Sessions, publish dedupe and the long-poll relay in Redis, for `createRedisBroker()` to attach as its `cluster`.
 * Every key of one session shares the hash tag `{s:<sha256 of the id>}`, so its scripts run in one slot of a Cluster;
 * every key has a TTL.
 */
export function createRedisClusterState(options: RedisClusterStateOptions): BrokerCluster {
  const { client } = options
  const prefix = options.keyPrefix ?? 'lifeline:'
  const leaseMs = options.sessionLeaseMs ?? 30_000
  const timeoutMs = options.commandTimeoutMs ?? 2000
  const keysOf = (id: string): [string, string, string] => {
    const tag = `${prefix}{s:${secretKey(id)}}`
    return [`${tag}:session`, `${tag}:ids`, `${tag}:order`]
  }
  const run: Runner = (script, keys, args) =>
    withTimeout(client.eval(SCRIPTS[script], keys.length, ...keys, ...args), timeoutMs)

  const sessions: SessionStore = {
    async create(id, principalId, node) {
      await run('create', keysOf(id).slice(0, 1), [principalId, node, leaseMs])
    },
    async find(id) {
      const [key] = keysOf(id)
      const [principal, node] = await withTimeout(client.hmget(key, 'principal', 'node'), timeoutMs)
      if (principal === null || principal === undefined) return null
      const stored: StoredSession = { principalId: principal, node: node ? node : null }
      return stored
    },
    async attach(id, node) {
      const result = await run('attach', keysOf(id), [node, leaseMs])
      if (!Array.isArray(result)) return null
      const [previous, generation] = result as [unknown, unknown]
      return {
        previous: typeof previous === 'string' && previous !== '' ? previous : null,
        generation: typeof generation === 'number' ? generation : Number(generation),
      }
    },
    async detach(id, node, windowMs) {
      await run('detach', keysOf(id), [node, windowMs])
    },
    async renew(ids, node) {
      await Promise.all(ids.map((id) => run('renew', keysOf(id), [node, leaseMs])))
    },
    async expire(id) {
      await withTimeout(client.del(...keysOf(id)), timeoutMs)
    },
  }

  const dedupe: PublishDedupe = {
    async claim(session, id, limits) {
      const result = await run('claim', keysOf(session), [id, limits.leaseMs, limits.maxIds])
      return result === 'acked' || result === 'pending' ? (result satisfies DedupeClaim) : 'claimed'
    },
    async settle(session, id, outcome) {
      await run('settle', keysOf(session).slice(1), [id, outcome])
    },
  }

  return {
    sessions,
    dedupe,
    renewEveryMs: Math.max(1, Math.floor(leaseMs / 3)),
    relay: () => createRedisRelay({ client, keyPrefix: prefix, commandTimeoutMs: timeoutMs }),
  }
}
