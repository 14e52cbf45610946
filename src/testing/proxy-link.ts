import type { Socket } from 'node:net'

/** Fault settings a link reads live on every chunk, so changes reach open connections. Internal. */
export interface LinkSettings {
  /** Latency added to every chunk, in milliseconds. */
  readonly delayMs: number
  /** Largest piece written at once; 0 writes chunks whole. */
  readonly sliceBytes: number
}

/** Mutable counters shared by every link of one proxy. Internal. */
export interface LinkCounters {
  chunksForwarded: number
  bytesForwarded: number
  chunksDropped: number
  bytesDropped: number
  socketErrors: number
}

/** What a link does with bytes. `blackholed` and `finished` are terminal: the byte stream is broken. */
type LinkState = 'forwarding' | 'blackholed' | 'finished' | 'destroyed'

type QueueEntry =
  | { readonly kind: 'data'; readonly data: Buffer; offset: number; readonly receivedAt: number }
  | { readonly kind: 'end'; readonly receivedAt: number }

/** Past this many queued bytes the source is paused, so a delayed or sliced direction never buffers without bound. */
const HIGH_WATER_BYTES = 1024 * 1024
const LOW_WATER_BYTES = 256 * 1024

interface PumpOptions {
  readonly source: Socket
  readonly destination: () => Socket | null
  readonly settings: () => LinkSettings
  readonly counters: LinkCounters
  readonly onWrite: () => void
}

/** One direction of a link: an ordered queue that applies delay and slicing, with backpressure both ways. */
class Pump {
  readonly #options: PumpOptions
  readonly #queue: QueueEntry[] = []
  #queuedBytes = 0
  #timer: NodeJS.Timeout | null = null
  #immediate: NodeJS.Immediate | null = null
  #awaitingDrain = false
  #stopped = false

  constructor(options: PumpOptions) {
    this.#options = options
  }

  push(data: Buffer): void {
    if (this.#stopped) {
      this.#countDropped(data.length)
      return
    }
    this.#queue.push({ kind: 'data', data, offset: 0, receivedAt: performance.now() })
    this.#queuedBytes += data.length
    if (this.#queuedBytes > HIGH_WATER_BYTES) this.#options.source.pause()
    this.#step()
  }

  pushEnd(): void {
    if (this.#stopped) return
    this.#queue.push({ kind: 'end', receivedAt: performance.now() })
    this.#step()
  }

  /** Settings changed: re-evaluate a pending delay now. */
  kick(): void {
    if (this.#timer === null) return
    clearTimeout(this.#timer)
    this.#timer = null
    this.#step()
  }

  /** Discards everything queued and every pending timer; the source keeps being read so bytes are dropped, not held. */
  stop(): void {
    this.#stopped = true
    for (const entry of this.#queue) {
      if (entry.kind === 'data') this.#countDropped(entry.data.length - entry.offset)
    }
    this.#queue.length = 0
    this.#queuedBytes = 0
    if (this.#timer !== null) clearTimeout(this.#timer)
    if (this.#immediate !== null) clearImmediate(this.#immediate)
    this.#timer = null
    this.#immediate = null
    if (!this.#options.source.destroyed) this.#options.source.resume()
  }

  #countDropped(bytes: number): void {
    this.#options.counters.chunksDropped += 1
    this.#options.counters.bytesDropped += bytes
  }

  #step(): void {
    if (this.#stopped || this.#timer !== null || this.#immediate !== null || this.#awaitingDrain) return
    const { settings, counters, source, onWrite } = this.#options
    for (;;) {
      const head = this.#queue[0]
      if (head === undefined) break
      const wait = head.receivedAt + settings().delayMs - performance.now()
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = null
          this.#step()
        }, Math.ceil(wait))
        return
      }
      const destination = this.#options.destination()
      if (destination === null || destination.destroyed || destination.writableEnded) {
        this.stop()
        return
      }
      if (head.kind === 'end') {
        this.#queue.shift()
        destination.end()
        continue
      }
      const remaining = head.data.length - head.offset
      const slice = settings().sliceBytes
      const size = slice > 0 ? Math.min(slice, remaining) : remaining
      const piece = head.data.subarray(head.offset, head.offset + size)
      head.offset += size
      if (head.offset >= head.data.length) this.#queue.shift()
      this.#queuedBytes -= size
      const flushed = destination.write(piece)
      counters.chunksForwarded += 1
      counters.bytesForwarded += size
      onWrite()
      if (!flushed) {
        this.#awaitingDrain = true
        destination.once('drain', () => {
          this.#awaitingDrain = false
          this.#step()
        })
        return
      }
      if (slice > 0 && this.#queue.length > 0) {
        // Yield to the event loop so each piece leaves as its own TCP segment (the sockets have Nagle off).
        this.#immediate = setImmediate(() => {
          this.#immediate = null
          this.#step()
        })
        return
      }
    }
    if (this.#queuedBytes < LOW_WATER_BYTES && source.isPaused() && !source.destroyed) source.resume()
  }
}

/** Options for one proxied connection. Internal. */
export interface ProxyLinkOptions {
  /** The accepted client socket. */
  readonly client: Socket
  /** The socket to the target; null for a connection born blackholed (nothing would ever reach the target). */
  readonly upstream: Socket | null
  /** Live delay/slice settings. */
  readonly settings: () => LinkSettings
  /** Shared counters. */
  readonly counters: LinkCounters
  /** Destroy the link this long after the first bytes reach the client; null never. */
  readonly killAfterOpenMs: number | null
  /** Called once when both sockets are gone. */
  readonly onClosed: () => void
}

/** A client socket piped to an upstream socket through two pumps. Internal to the fault proxy. */
export class ProxyLink {
  readonly client: Socket
  readonly upstream: Socket | null
  #state: LinkState
  readonly #toUpstream: Pump
  readonly #toClient: Pump
  readonly #counters: LinkCounters
  readonly #killAfterOpenMs: number | null
  readonly #onClosed: () => void
  #killTimer: NodeJS.Timeout | null = null
  #wroteToClient = false
  #closedReported = false

  constructor(options: ProxyLinkOptions) {
    const { client, upstream, settings, counters } = options
    this.client = client
    this.upstream = upstream
    this.#counters = counters
    this.#killAfterOpenMs = options.killAfterOpenMs
    this.#onClosed = options.onClosed
    this.#state = upstream === null ? 'blackholed' : 'forwarding'
    this.#toUpstream = new Pump({
      source: client,
      destination: () => this.upstream,
      settings,
      counters,
      onWrite: () => undefined,
    })
    this.#toClient = new Pump({
      source: upstream ?? client,
      destination: () => this.client,
      settings,
      counters,
      onWrite: () => this.#onClientWrite(),
    })
    this.#wire(client, this.#toUpstream)
    if (upstream !== null) this.#wire(upstream, this.#toClient)
  }

  /** Drops every byte from now on, in both directions, for good; both sockets stay open (no FIN, no RST). */
  blackhole(): void {
    if (this.#state !== 'forwarding') return
    this.#state = 'blackholed'
    this.#stopPumps()
  }

  /** Sends a TCP RST to the client and closes the upstream. */
  reset(): void {
    this.#state = 'destroyed'
    this.#stopPumps()
    if (!this.client.destroyed) this.client.resetAndDestroy()
    this.upstream?.destroy()
  }

  /** Ends both sockets with a FIN, dropping anything still queued; nothing more is forwarded. */
  fin(): void {
    if (this.#state === 'destroyed') return
    this.#state = 'finished'
    this.#stopPumps()
    if (!this.client.destroyed) this.client.end()
    if (this.upstream !== null && !this.upstream.destroyed) this.upstream.end()
  }

  /** Closes both sockets at once (FIN where the kernel can, without waiting for the peer). */
  destroy(): void {
    this.#state = 'destroyed'
    this.#stopPumps()
    this.client.destroy()
    this.upstream?.destroy()
  }

  /** Delay or slice settings changed. */
  kick(): void {
    this.#toUpstream.kick()
    this.#toClient.kick()
  }

  #wire(socket: Socket, pump: Pump): void {
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      if (this.#state === 'forwarding') pump.push(chunk)
      else {
        this.#counters.chunksDropped += 1
        this.#counters.bytesDropped += chunk.length
      }
    })
    socket.on('end', () => {
      if (this.#state === 'forwarding') pump.pushEnd()
      else if (this.#state === 'blackholed') this.#reapBlackholed()
    })
    socket.on('error', () => {
      // Resets and refused upstreams are the point of this proxy; 'close' (with hadError) handles the peer.
      this.#counters.socketErrors += 1
    })
    socket.on('close', (hadError: boolean) => this.#onSocketClose(socket, hadError))
  }

  #onSocketClose(socket: Socket, hadError: boolean): void {
    const peer = socket === this.client ? this.upstream : this.client
    // A blackholed link is half-open on purpose: the peer must not learn that this side went away.
    if (this.#state === 'forwarding' && peer !== null && !peer.destroyed) {
      if (hadError) {
        this.#state = 'destroyed'
        this.#stopPumps()
        if (peer === this.client) peer.resetAndDestroy()
        else peer.destroy()
      } else if (!socket.readableEnded) {
        this.destroy()
      }
      // Otherwise the FIN is queued behind any delayed data and the pump ends the peer in order.
    }
    if (this.#state === 'blackholed') this.#reapBlackholed()
    const upstreamGone = this.upstream === null || this.upstream.destroyed
    if (this.client.destroyed && upstreamGone && !this.#closedReported) {
      this.#closedReported = true
      this.#stopPumps()
      this.#onClosed()
    }
  }

  /**
   * A blackholed link is released once both of its peers have sent FIN (or are gone): nobody is left to notice,
   * and a client retrying through a blackhole would otherwise pile up sockets until `close()`.
   */
  #reapBlackholed(): void {
    const finished = (socket: Socket | null): boolean => socket === null || socket.destroyed || socket.readableEnded
    if (finished(this.client) && finished(this.upstream)) {
      this.client.destroy()
      this.upstream?.destroy()
    }
  }

  #onClientWrite(): void {
    if (this.#wroteToClient) return
    this.#wroteToClient = true
    if (this.#killAfterOpenMs === null) return
    this.#killTimer = setTimeout(() => {
      this.#killTimer = null
      this.destroy()
    }, this.#killAfterOpenMs)
  }

  #stopPumps(): void {
    this.#toUpstream.stop()
    this.#toClient.stop()
    if (this.#killTimer !== null) clearTimeout(this.#killTimer)
    this.#killTimer = null
  }
}
