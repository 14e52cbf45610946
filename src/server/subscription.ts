import type { ServerFrame, StreamPosition } from '../core'
import type { Broker, BrokerHistory, BrokerMessage } from './broker'

/** Live messages buffered while a subscription waits for history; past this the connection is closed (1013). */
export const MAX_PENDING_MESSAGES = 10_000

/** Where a {@link Subscription} sends its frames. Internal. */
export interface SubscriptionSink {
  readonly broker: Broker
  /** Sends one `msg` frame. */
  message(message: BrokerMessage): void
  /** Sends any other frame. */
  frame(frame: ServerFrame): void
  /** The broker failed: the subscription is over and must be forgotten (the sink reports it to the client). */
  failed(channel: string, error: unknown): void
  /** Too many live messages piled up while history was being read. */
  overflowed(channel: string): void
}

/**
 * One channel subscribed by one connection. It subscribes to the broker first and reads history second, buffering
 * live messages in between, then sends the replay, `subscribed`, and the buffered messages it had not sent, in seq
 * order: live and replayed messages never interleave wrongly, whatever the broker's timing (R17). Afterwards every
 * live message must continue the stream exactly; a gap or a new epoch is repaired from history, and when it cannot be
 * an unsolicited `subscribed { resumed: false }` announces the discontinuity before the stream goes on. Internal.
 */
export class Subscription {
  /** `pending` while history is read (at start or during a repair). */
  private state: 'pending' | 'live' | 'stopped' = 'pending'
  private buffered: BrokerMessage[] = []
  private position: StreamPosition = { epoch: '', seq: 0 }
  private unsubscribe: (() => void) | null = null

  constructor(
    readonly channel: string,
    private readonly sink: SubscriptionSink,
  ) {}

  get stopped(): boolean {
    return this.state === 'stopped'
  }

  /** Subscribes and replays everything after `since` when history still holds it. Never rejects. */
  async start(since: StreamPosition | undefined): Promise<void> {
    try {
      const unsubscribe = await this.sink.broker.subscribe(this.channel, (message) => this.receive(message))
      if (this.stopped) {
        unsubscribe()
        return
      }
      this.unsubscribe = unsubscribe
      const history = await this.sink.broker.history(this.channel, since)
      if (!this.stopped) this.settle(history, true)
    } catch (error) {
      this.fail(error)
    }
  }

  /** Stops delivery. Idempotent. */
  stop(): void {
    this.state = 'stopped'
    this.buffered = []
    const unsubscribe = this.unsubscribe
    this.unsubscribe = null
    unsubscribe?.()
  }

  private receive(message: BrokerMessage): void {
    if (this.state === 'pending') {
      this.buffered.push(message)
      if (this.buffered.length > MAX_PENDING_MESSAGES) {
        this.stop()
        this.sink.overflowed(this.channel)
      }
      return
    }
    if (this.state !== 'live') return
    const { epoch, seq } = this.position
    if (message.epoch === epoch && message.seq <= seq) return
    if (message.epoch === epoch && message.seq === seq + 1) {
      this.position = { epoch, seq: message.seq }
      this.sink.message(message)
      return
    }
    // A gap, or a new epoch (history was lost): find out from history what the client can still get.
    this.state = 'pending'
    this.buffered = [message]
    void this.repair(message.epoch)
  }

  /**
   * Reads history after the last position sent. When the stream moved to a new epoch, the client is told so at seq 0
   * of that epoch and gets the new epoch's messages from its start, if the history still holds them.
   */
  private async repair(epochSeen: string): Promise<void> {
    try {
      const { broker } = this.sink
      const history = await broker.history(this.channel, this.position)
      if (this.stopped) return
      if (!history.resumed && history.head.epoch === epochSeen && epochSeen !== this.position.epoch) {
        const fresh = await broker.history(this.channel, { epoch: epochSeen, seq: 0 })
        if (this.stopped) return
        if (fresh.resumed) {
          this.sink.frame({ type: 'subscribed', ch: this.channel, resumed: false, epoch: epochSeen, seq: 0 })
          this.settle(fresh, false)
          return
        }
      }
      this.settle(history, false)
    } catch (error) {
      this.fail(error)
    }
  }

  /**
   * Sends the replay and, when asked or when continuity was lost, `subscribed` with the head; then the buffered live
   * messages after the head. Buffered messages of another epoch predate the history read and are dropped: a later
   * message of a newer epoch would start a repair of its own.
   */
  private settle(history: BrokerHistory, announce: boolean): void {
    for (const message of history.messages) this.sink.message(message)
    this.position = history.head
    if (announce || !history.resumed) {
      this.sink.frame({
        type: 'subscribed',
        ch: this.channel,
        resumed: history.resumed,
        epoch: history.head.epoch,
        seq: history.head.seq,
      })
    }
    const buffered = this.buffered
    this.buffered = []
    this.state = 'live'
    for (const message of buffered) {
      if (this.state !== 'live') {
        this.buffered.push(message)
        continue
      }
      if (message.epoch === history.head.epoch && message.seq > history.head.seq) this.receive(message)
    }
  }

  private fail(error: unknown): void {
    if (this.stopped) return
    this.stop()
    this.sink.failed(this.channel, error)
  }
}
