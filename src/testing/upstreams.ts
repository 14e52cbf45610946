import { connect } from 'node:net'
import type { Socket } from 'node:net'

/** One upstream of a fault proxy, as {@link FaultProxy.upstreams} reports it; a snapshot. */
export interface FaultProxyUpstream {
  /** Its index in the proxy's `target` list (0 for a single target). */
  readonly index: number
  /** Host the proxy connects to. */
  readonly host: string
  /** Port the proxy connects to. */
  readonly port: number
  /** False after {@link FaultProxy.take} until {@link FaultProxy.putBack}: new connections skip it. */
  readonly inRotation: boolean
  /** Client connections currently forwarded to it. */
  readonly connections: number
  /** Client connections forwarded to it since start (its TCP connection accepted). */
  readonly forwarded: number
  /** Connections it refused (or that failed before they were established) since start. */
  readonly failed: number
  /** Connections cut by {@link FaultProxy.kill} since start. */
  readonly killed: number
}

interface Upstream {
  readonly host: string
  readonly port: number
  inRotation: boolean
  forwarded: number
  failed: number
  killed: number
}

/**
 * The upstreams of a fault proxy: round-robin over those in rotation, one step per new client connection, with the
 * next one tried when an upstream refuses (as nginx's `proxy_next_upstream error` does). Internal.
 */
export class UpstreamPool {
  readonly #upstreams: Upstream[]
  readonly #open = new Map<number, Set<{ destroy(): void }>>()
  #cursor = 0

  constructor(targets: ReadonlyArray<{ host: string; port: number }>) {
    this.#upstreams = targets.map(({ host, port }) => ({
      host,
      port,
      inRotation: true,
      forwarded: 0,
      failed: 0,
      killed: 0,
    }))
    for (let index = 0; index < targets.length; index++) this.#open.set(index, new Set())
  }

  get size(): number {
    return this.#upstreams.length
  }

  has(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.#upstreams.length
  }

  setInRotation(index: number, inRotation: boolean): void {
    const upstream = this.#upstreams[index]
    if (upstream) upstream.inRotation = inRotation
  }

  snapshot(): FaultProxyUpstream[] {
    return this.#upstreams.map((upstream, index) => ({
      index,
      host: upstream.host,
      port: upstream.port,
      inRotation: upstream.inRotation,
      connections: this.#open.get(index)?.size ?? 0,
      forwarded: upstream.forwarded,
      failed: upstream.failed,
      killed: upstream.killed,
    }))
  }

  /** Indexes in rotation, starting at the cursor; the cursor moves past the first of them. */
  #order(): number[] {
    const count = this.#upstreams.length
    const order: number[] = []
    for (let step = 0; step < count; step++) {
      const index = (this.#cursor + step) % count
      if (this.#upstreams[index]?.inRotation === true) order.push(index)
    }
    if (order[0] !== undefined) this.#cursor = (order[0] + 1) % count
    return order
  }

  /**
   * Connects to the next upstream in rotation while `client` waits paused, trying the others in turn when one
   * refuses. `onConnected` gets the established socket and its index; `onExhausted` runs when none answered (or none
   * is in rotation). Nothing is called once the client has closed.
   */
  connect(client: Socket, onConnected: (upstream: Socket, index: number) => void, onExhausted: () => void): void {
    const order = this.#order()
    client.pause()
    const attempt = (position: number): void => {
      const index = order[position]
      const target = index === undefined ? undefined : this.#upstreams[index]
      if (index === undefined || target === undefined) {
        if (!client.destroyed) onExhausted()
        return
      }
      const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true })
      const onClientClose = (): void => {
        socket.destroy()
      }
      client.once('close', onClientClose)
      socket.once('error', () => {
        client.off('close', onClientClose)
        target.failed += 1
        socket.destroy()
        if (!client.destroyed) attempt(position + 1)
      })
      socket.once('connect', () => {
        client.off('close', onClientClose)
        socket.removeAllListeners('error')
        if (client.destroyed) {
          socket.destroy()
          return
        }
        target.forwarded += 1
        // Skipped a refusing upstream: carry on after the one that answered, so the others share its load evenly.
        if (position > 0) this.#cursor = (index + 1) % this.#upstreams.length
        onConnected(socket, index)
      })
    }
    attempt(0)
  }

  /** Counts a connection opened to `index` without {@link UpstreamPool.connect} (the single-target path). */
  countForwarded(index: number): void {
    const upstream = this.#upstreams[index]
    if (upstream) upstream.forwarded += 1
  }

  /** Counts a failed connection to `index` made without {@link UpstreamPool.connect}. */
  countFailed(index: number): void {
    const upstream = this.#upstreams[index]
    if (upstream) upstream.failed += 1
  }

  /** Tracks an open link to `index` until `untrack` is called. */
  track(index: number, link: { destroy(): void }): () => void {
    const set = this.#open.get(index)
    set?.add(link)
    return () => set?.delete(link)
  }

  /** Destroys every open link to `index`; returns how many. */
  kill(index: number): number {
    const set = this.#open.get(index)
    const upstream = this.#upstreams[index]
    if (!set || !upstream) return 0
    const links = [...set]
    for (const link of links) link.destroy()
    upstream.killed += links.length
    return links.length
  }
}
