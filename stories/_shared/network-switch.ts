import type { Environment, SignalSource, WebSocketConstructor, WebSocketLike } from '../../src/core'

/**
 * A network a story takes offline by hand, through the client's injected environment: the `network` signal flips (the
 * client hears `offline`/`online` as from the browser), and the tab's link really goes: open sockets drop as a dead
 * network drops them (1006, not clean), new ones fail, and `fetch` (long-poll, the handshake probe) rejects. Chromium's
 * own offline mode does not touch an open WebSocket, so this is the only way to show it in a page.
 */
export interface NetworkSwitch {
  /** The client's `environment`: `network`, `WebSocket` and `fetch`. */
  readonly environment: Partial<Environment>
  /** The signal alone. */
  readonly source: SignalSource
  /** Whether the switch says online. */
  get(): boolean
  /** Flips it. */
  set(online: boolean): void
}

type Handlers = Pick<WebSocketLike, 'onopen' | 'onmessage' | 'onclose' | 'onerror'>

/** Creates a network switch over the browser's WebSocket and fetch, online by default. */
export function createNetworkSwitch(initial = true): NetworkSwitch {
  let online = initial
  const listeners = new Set<(value: boolean) => void>()
  const sockets = new Set<() => void>()
  const requests = new Set<AbortController>()

  /** A browser WebSocket that dies with the switch. */
  class SwitchedSocket implements WebSocketLike {
    onopen: Handlers['onopen'] = null
    onmessage: Handlers['onmessage'] = null
    onclose: Handlers['onclose'] = null
    onerror: Handlers['onerror'] = null
    readonly #socket: WebSocket | null
    #dead = false

    constructor(url: string, protocols?: string | string[]) {
      if (!online) {
        this.#socket = null
        setTimeout(() => this.#drop(), 0)
        return
      }
      const socket = new WebSocket(url, protocols)
      this.#socket = socket
      socket.onopen = (event) => this.onopen?.(event)
      socket.onmessage = (event: MessageEvent) => this.onmessage?.(event)
      socket.onerror = (event) => this.onerror?.(event)
      socket.onclose = (event) => {
        sockets.delete(this.#kill)
        if (!this.#dead) this.onclose?.(event)
      }
      sockets.add(this.#kill)
    }

    get readyState(): number {
      return this.#dead ? 3 : (this.#socket?.readyState ?? 3)
    }
    get bufferedAmount(): number {
      return this.#socket?.bufferedAmount ?? 0
    }
    get protocol(): string {
      return this.#socket?.protocol ?? ''
    }
    get binaryType(): string {
      return this.#socket?.binaryType ?? 'arraybuffer'
    }
    set binaryType(value: string) {
      if (this.#socket) this.#socket.binaryType = value as BinaryType
    }
    send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
      // A dead network swallows writes; the heartbeat or the close below tells the client.
      if (!this.#dead) this.#socket?.send(data as string)
    }
    close(code?: number, reason?: string): void {
      this.#socket?.close(code, reason)
    }

    readonly #kill = () => {
      sockets.delete(this.#kill)
      this.#socket?.close()
      this.#drop()
    }
    #drop(): void {
      if (this.#dead) return
      this.#dead = true
      this.onerror?.({ type: 'error' })
      this.onclose?.({ code: 1006, reason: '', wasClean: false })
    }
  }

  const switchedFetch: typeof fetch = (input, init) => {
    if (!online) return Promise.reject(new TypeError('Failed to fetch (the story took this tab offline)'))
    const controller = new AbortController()
    const signals = init?.signal ? [init.signal, controller.signal] : [controller.signal]
    requests.add(controller)
    const forget = () => void requests.delete(controller)
    init?.signal?.addEventListener('abort', forget, { once: true })
    return fetch(input, { ...init, signal: AbortSignal.any(signals) }).then(
      (response) => {
        // An event stream goes on after its headers: it must die with the link too (until its caller aborts it).
        if (!/^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) forget()
        return response
      },
      (error: unknown) => {
        forget()
        throw error
      },
    )
  }

  const source: SignalSource = {
    get: () => online,
    subscribe(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
  }

  return {
    environment: { network: source, WebSocket: SwitchedSocket as WebSocketConstructor, fetch: switchedFetch },
    source,
    get: () => online,
    set(next) {
      if (next === online) return
      online = next
      for (const listener of [...listeners]) listener(online)
      if (!online) {
        for (const kill of [...sockets]) kill()
        for (const request of [...requests]) request.abort(new TypeError('Failed to fetch (offline)'))
      }
    },
  }
}
