import type { StreamPosition } from '../core'
import { WireErrorCodes } from '../core'
import type { ClientFrame, ServerFrame, WireErrorCode } from '../core'
import type { Broker, DedupeClaim, PublishDedupe } from './broker'
import { errorName } from './errors'
import { secretKey } from './sessions'

/** How long a claim says `pending` (a publish in progress); informative only, as the append itself is idempotent. */
const DEDUPE_LEASE_MS = 5000
/**
 * How long the broker's per-channel record of an applied id outlives the session's last publish on that channel, past
 * the resume window: a resend comes within the window plus the time the client takes to notice a dead link.
 */
const ONCE_MARGIN_MS = 5 * 60_000

/** The `nack` code for a publish the broker could not take: retryable when its store is unreachable. Internal. */
export const publishFailure = (error: unknown): WireErrorCode =>
  errorName(error) === 'BROKER_UNAVAILABLE' ? WireErrorCodes.unavailable : WireErrorCodes.serverError

/** One client `pub` to apply once across nodes. Internal. */
export interface PublishOnceRequest {
  readonly frame: Extract<ClientFrame, { type: 'pub' }>
  readonly session: { readonly id: string }
  readonly dedupe: PublishDedupe
  readonly broker: Broker
  /** Ids a session remembers (`maxDedupeIds`). */
  readonly maxIds: number
  /** The resume window (`resume.windowMs`). */
  readonly windowMs: number
  /** Sends the `ack` or `nack`. */
  reply(frame: ServerFrame): void
  log(message: string, details: Record<string, unknown>): void
  /** The message was applied at `position`. */
  published(position: StreamPosition): void
}

/**
 * A publish deduplicated across nodes: an id the session's record says was applied is acknowledged again; otherwise it
 * is appended with `once`, which the broker applies at most once per session and id whichever node asks; a broker that
 * cannot reach its store gets the retryable `nack{UNAVAILABLE}` (not applied). Internal.
 */
export async function publishOnce(request: PublishOnceRequest): Promise<void> {
  const { frame, session, dedupe, reply, log } = request
  const { id, ch } = frame
  const nack = (code: WireErrorCode, reason: string): void => reply({ type: 'nack', id, code, reason })
  let claim: DedupeClaim
  try {
    claim = await dedupe.claim(session.id, id, { leaseMs: DEDUPE_LEASE_MS, maxIds: request.maxIds })
  } catch (error) {
    log('publish dedupe failed', { channel: ch, error: errorName(error) })
    return nack(WireErrorCodes.unavailable, 'broker unavailable')
  }
  if (claim === 'acked') return reply({ type: 'ack', id })
  // `pending` (another node is on it, or one died on it) goes on too: the append below is idempotent, so the copy that
  // comes second gets the first one's position, and nobody waits out a lease.
  let position: StreamPosition & { readonly repeated?: boolean }
  try {
    // `data` comes from a frame at most maxJsonDepth (≤ 64) levels deep: JSON.stringify's recursion cannot overflow.
    // The claim (session's slot) and the append (channel's slot) cannot be one step on a Cluster: `once` makes the
    // append itself idempotent, so a copy that comes second (a resend after its node died between the append and
    // `settle`, a concurrent one) gets the first one's position and appends nothing.
    const once = { scope: secretKey(session.id), id, ttlMs: request.windowMs + ONCE_MARGIN_MS, maxIds: request.maxIds }
    position = await request.broker.publish(ch, JSON.stringify(frame.data), once)
  } catch (error) {
    log('publish failed', { channel: ch, error: errorName(error) })
    dedupe.settle(session.id, id, 'failed').catch((settleError: unknown) => {
      // Harmless: a pending claim does not stop a resend.
      log('publish dedupe release failed', { error: errorName(settleError) })
    })
    return nack(publishFailure(error), 'publish failed')
  }
  // Reported once: a repeat was reported by the node that appended it.
  if (position.repeated !== true) request.published({ epoch: position.epoch, seq: position.seq })
  try {
    await dedupe.settle(session.id, id, 'acked')
  } catch (error) {
    // Applied all the same; a resend is answered from the channel's record (`once`).
    log('publish dedupe record failed', { channel: ch, error: errorName(error) })
  }
  reply({ type: 'ack', id })
}
