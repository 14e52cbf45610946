import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { StreamPosition } from '../../core'
import type { BrokerHistory, BrokerMessage, PublishOnce } from '../broker'

// Every key of a channel shares the hash tag `{ch:<channel>}`, so its scripts run in one slot of a Cluster. A channel
// name with `}` in it ends the tag early, identically for all its keys: they still share a slot.
//
// <prefix>{ch:<channel>}:meta  hash: e = epoch, s = last seq, m = ms of the last entry id, b = bytes retained
// <prefix>{ch:<channel>}:log   stream: entry id `<ms>-<seq>` (the seq is the position), field d = payload
// <prefix>live:<channel>       pub/sub channel: `<epoch>:<seq>:<payload>`, published by the script in seq order

/** Server time in ms (shared by every node, so node clocks never matter); meta read or created with a new epoch. */
const PRELUDE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local meta = redis.call('HMGET', KEYS[1], 'e', 's', 'm', 'b')
local epoch = meta[1]
local head, last, bytes = tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4])
if not epoch then
  -- The history is gone (never written, expired, evicted, flushed, lost in a restart): a new epoch starts at seq 0.
  epoch, head, last, bytes = ARGV[1], 0, 0, 0
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0, 'm', 0, 'b', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
`

/**
 * KEYS: meta, log[, once ids, once order]. ARGV: new epoch, idle ttl, payload, max messages, max bytes, window ms,
 * pub/sub channel[, once id, once ttl, once max ids].
 * Appends seq head+1, trims by count, bytes and age (exactly, oldest first), publishes, returns {epoch, seq}. With the
 * `once` keys (cross-node publish dedupe, in the channel's slot so that the check and the append are one step): an id
 * already recorded returns {epoch, seq, 1} with its first position and appends nothing.
 */
const PUBLISH = `${PRELUDE}
if KEYS[3] then
  local prior = redis.call('HGET', KEYS[3], ARGV[8])
  if prior then
    local priorEpoch, priorSeq = string.match(prior, '^(.*):(%d+)$')
    return {priorEpoch, tonumber(priorSeq), 1}
  end
end
local payload = ARGV[3]
local maxMessages, maxBytes, window = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local seq = head + 1
if now < last then now = last end
redis.call('XADD', KEYS[2], now .. '-' .. seq, 'd', payload)
bytes = bytes + #payload
local count = redis.call('XLEN', KEYS[2])
local cutoff = now - window
local keep, from, dropped = nil, '-', false
while keep == nil do
  local batch = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 64)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    local ms = tonumber(string.match(entry[1], '^(%d+)-'))
    if count > maxMessages or bytes > maxBytes or ms < cutoff then
      count = count - 1
      bytes = bytes - #entry[2][2]
      dropped = true
    else
      keep = entry[1]
      break
    end
    from = '(' .. entry[1]
  end
end
if dropped then
  if keep then redis.call('XTRIM', KEYS[2], 'MINID', '=', keep) else redis.call('XTRIM', KEYS[2], 'MAXLEN', '=', 0) end
end
redis.call('HSET', KEYS[1], 's', seq, 'm', now, 'b', bytes)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[7], epoch .. ':' .. seq .. ':' .. payload)
if KEYS[3] then
  redis.call('HSET', KEYS[3], ARGV[8], epoch .. ':' .. seq)
  redis.call('ZADD', KEYS[4], now, ARGV[8])
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[10])
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[4], 0, over - 1)) do redis.call('HDEL', KEYS[3], old) end
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1)
  end
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
  redis.call('PEXPIRE', KEYS[4], ARGV[9])
end
return {epoch, seq}`

/**
 * KEYS: meta, log. ARGV: new epoch, idle ttl, since epoch ('' for none), since seq, window ms.
 * Returns {epoch, head, 1, entries newest first} when every seq after `since` is retained and inside the window, else
 * {epoch, head, 0}: never a partial replay.
 */
const HISTORY = `${PRELUDE}
local since = tonumber(ARGV[4])
if ARGV[3] ~= epoch or since == nil or since < 0 or since > head then return {epoch, head, 0} end
local need = head - since
if need == 0 then return {epoch, head, 1, {}} end
local entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', need)
if #entries < need then return {epoch, head, 0} end
local ms, first = string.match(entries[#entries][1], '^(%d+)-(%d+)$')
if tonumber(first) ~= since + 1 or tonumber(ms) < now - tonumber(ARGV[5]) then return {epoch, head, 0} end
return {epoch, head, 1, entries}`

const SCRIPTS = { publish: PUBLISH, history: HISTORY } as const
const SHAS = {
  publish: createHash('sha1').update(PUBLISH).digest('hex'),
  history: createHash('sha1').update(HISTORY).digest('hex'),
} as const

/** Key names of one channel. Internal. */
export interface ChannelKeys {
  readonly meta: string
  readonly log: string
  readonly live: string
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const tag = `${prefix}{ch:${channel}}`
  return { meta: `${tag}:meta`, log: `${tag}:log`, live: `${prefix}live:${channel}` }
}

/** The channel a `live` pub/sub name belongs to, or null. */
export function channelOfLive(prefix: string, live: string): string | null {
  const start = `${prefix}live:`
  return live.startsWith(start) ? live.slice(start.length) : null
}

/** Parses a pub/sub message `<epoch>:<seq>:<payload>`; null when malformed. */
export function parseLive(channel: string, text: string): BrokerMessage | null {
  const first = text.indexOf(':')
  const second = first < 0 ? -1 : text.indexOf(':', first + 1)
  if (second < 0) return null
  const seq = Number(text.slice(first + 1, second))
  if (!Number.isSafeInteger(seq) || seq < 1) return null
  return { channel, epoch: text.slice(0, first), seq, payload: text.slice(second + 1) }
}

/** Runs a script by SHA, loading it with EVAL when the server does not know it yet (first call, restart, failover). */
async function run(
  client: Redis | Cluster,
  script: keyof typeof SCRIPTS,
  keys: ChannelKeys,
  args: readonly (string | number)[],
  extraKeys: readonly string[] = [],
): Promise<unknown> {
  const all = [keys.meta, keys.log, ...extraKeys]
  try {
    return await client.evalsha(SHAS[script], all.length, ...all, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.eval(SCRIPTS[script], all.length, ...all, ...args)
  }
}

/** Settings every script call needs. Internal. */
export interface StreamSettings {
  readonly keyPrefix: string
  readonly windowMs: number
  readonly maxMessages: number
  readonly maxBytes: number
  readonly idleTtlMs: number
  readonly newEpoch: () => string
}

export async function appendMessage(
  client: Redis | Cluster,
  settings: StreamSettings,
  channel: string,
  payload: string,
  once?: PublishOnce,
): Promise<StreamPosition & { readonly repeated?: boolean }> {
  const keys = channelKeys(settings.keyPrefix, channel)
  const { newEpoch, idleTtlMs, maxMessages, maxBytes, windowMs } = settings
  const args: (string | number)[] = [newEpoch(), idleTtlMs, payload, maxMessages, maxBytes, windowMs, keys.live]
  // The scope is a hash of a session id (base64url): safe in a key name, and under the channel's hash tag.
  const onceKeys = once ? [`${keys.meta}:once:${once.scope}`, `${keys.meta}:once-order:${once.scope}`] : []
  if (once) args.push(once.id, once.ttlMs, once.maxIds)
  const reply = (await run(client, 'publish', keys, args, onceKeys)) as [string, number, number?]
  const position = { epoch: String(reply[0]), seq: Number(reply[1]) }
  return reply[2] === 1 ? { ...position, repeated: true } : position
}

type Entry = [id: string, fields: string[]]

export async function readHistory(
  client: Redis | Cluster,
  settings: StreamSettings,
  channel: string,
  since: StreamPosition | undefined,
): Promise<BrokerHistory> {
  const keys = channelKeys(settings.keyPrefix, channel)
  const sinceSeq = since && Number.isSafeInteger(since.seq) ? since.seq : -1
  const args = [settings.newEpoch(), settings.idleTtlMs, since?.epoch ?? '', sinceSeq, settings.windowMs]
  const reply = (await run(client, 'history', keys, args)) as [string, number, number, Entry[]?]
  const epoch = String(reply[0])
  const head: StreamPosition = { epoch, seq: Number(reply[1]) }
  if (reply[2] !== 1 || !since) return { resumed: false, messages: [], head }
  const entries = reply[3] ?? []
  const messages: BrokerMessage[] = []
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const [id, fields] = entries[index] as Entry
    const seq = Number(id.slice(id.indexOf('-') + 1))
    messages.push({ channel, epoch, seq, payload: String(fields[1]) })
  }
  return { resumed: true, messages, head }
}
