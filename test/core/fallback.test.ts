import { describe, expect, it, vi } from 'vitest'
import { longPollFallback, type FallbackHost, type LongPollFallbackOptions } from '../../src/core/fallback'
import type { Diagnosis } from '../../src/core/diagnose'
import { resolveEnvironment, type WebSocketLike } from '../../src/core/environment'
import { createLifeline, lifelineProtocol } from '../../src/core'
// Loaded up front: the client imports them on first use, which fake timers alone cannot wait for.
import '../../src/core/diagnose'
import '../../src/core/diagnosis-policy'
import '../../src/core/diagnosis-runner'

const stripped: Diagnosis = { kind: 'upgrade-stripped', status: 426, retryAfterMs: null, reason: null, hint: '' }
const down: Diagnosis = { kind: 'unreachable', status: null, retryAfterMs: null, reason: null, hint: '' }

/** A fake WebSocket the probe opens: the test drives it. */
class ProbeSocket implements WebSocketLike {
  static made: ProbeSocket[] = []
  readyState = 0
  bufferedAmount = 0
  binaryType = 'arraybuffer'
  sent: unknown[] = []
  closed = false
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  constructor(readonly url: string) {
    ProbeSocket.made.push(this)
  }
  send(data: unknown): void {
    this.sent.push(data)
  }
  close(): void {
    this.closed = true
    this.readyState = 3
  }
}

function setup(options: LongPollFallbackOptions = {}, random = 0.5) {
  ProbeSocket.made = []
  vi.useFakeTimers()
  let monotonic = 0
  const memory = new Map<string, string>()
  const storage = {
    getItem: (key: string) => memory.get(key) ?? null,
    setItem: (key: string, value: string) => void memory.set(key, value),
    removeItem: (key: string) => void memory.delete(key),
  }
  const switches: string[] = []
  const env = resolveEnvironment({
    clock: { now: () => Date.now(), monotonic: () => monotonic },
    random: () => random,
    WebSocket: ProbeSocket as never,
    fetch: (() => Promise.reject(new Error('not used'))) as never,
  })
  const host: FallbackHost = {
    url: 'wss://example.test/lifeline?ticket=abc',
    protocols: undefined,
    env,
    later: (callback, ms) => {
      const handle = setTimeout(callback, ms)
      return () => clearTimeout(handle)
    },
    ping: () => '{"type":"ping"}',
    switchNow: () => switches.push(fallback.next()),
  }
  const fallback = longPollFallback({ storage, ...options }).attach(host)
  return {
    fallback,
    memory,
    switches,
    advance: (ms: number) => {
      monotonic += ms
      vi.advanceTimersByTime(ms)
    },
  }
}

/** The confirmation upgrade the fallback tries before switching: refused (as while blocked) or answered. */
const confirmation = (answer: 'refused' | 'answered') => {
  const socket = ProbeSocket.made.at(-1)!
  if (answer === 'refused') socket.onclose?.({ code: 1006, reason: '', wasClean: false })
  else {
    socket.onopen?.({})
    socket.onmessage?.({ data: '{"type":"pong"}' })
  }
}

/** Two stripped upgrades, the refused confirmation: on long-poll. */
const fallBack = (fallback: ReturnType<typeof setup>['fallback']) => {
  fallback.diagnosed(stripped)
  fallback.diagnosed(stripped)
  confirmation('refused')
}

describe('longPollFallback', () => {
  it('starts on WebSocket, and does not fall back for failures while HTTP does not work (a server that is down)', () => {
    const { fallback, switches } = setup()
    expect(fallback.next()).toBe('websocket')
    for (let index = 0; index < 5; index++) {
      fallback.failed('websocket', null)
      fallback.diagnosed(down)
    }
    expect(fallback.next()).toBe('websocket')
    expect(switches).toEqual([])
    vi.useRealTimers()
  })

  it('falls back after fallbackAfter failures whose diagnosis says the upgrade is lost, remembering the choice without the query', () => {
    const { fallback, switches, memory } = setup({ fallbackAfter: 3 })
    fallback.diagnosed(stripped)
    fallback.diagnosed(stripped)
    expect(switches).toEqual([])
    fallback.diagnosed(stripped)
    // Confirmed with one more upgrade first.
    expect(switches).toEqual([])
    expect(ProbeSocket.made).toHaveLength(1)
    confirmation('refused')
    expect(switches).toEqual(['longpoll'])
    expect([...memory]).toEqual([['lifeline:transport:wss://example.test/lifeline', 'longpoll']])
    vi.useRealTimers()
  })

  it('falls back after fallbackAfterMs of failures even before fallbackAfter is reached', () => {
    const { fallback, switches, advance } = setup({ fallbackAfter: 10, fallbackAfterMs: 2500 })
    fallback.diagnosed(stripped)
    advance(2600)
    fallback.diagnosed(stripped)
    confirmation('refused')
    expect(switches).toEqual(['longpoll'])
    vi.useRealTimers()
  })

  it('counts sockets that die within a second of opening; a longer-lived socket is an ordinary drop', () => {
    const { fallback, switches } = setup()
    fallback.failed('websocket', 5000)
    fallback.failed('websocket', 5000)
    expect(switches).toEqual([])
    fallback.failed('websocket', 20)
    fallback.failed('websocket', 20)
    confirmation('refused')
    expect(switches).toEqual(['longpoll'])
    vi.useRealTimers()
  })

  it('a WebSocket open resets the streak', () => {
    const { fallback, switches } = setup()
    fallback.diagnosed(stripped)
    fallback.opened('websocket')
    fallback.diagnosed(stripped)
    expect(switches).toEqual([])
    vi.useRealTimers()
  })

  it('while on long-poll, probes after upgradeProbeMs ±25 % and moves back only once the probe answers its ping', () => {
    const { fallback, switches, memory, advance } = setup({ upgradeProbeMs: 60_000 }, 0) // random 0: 0.75 × 60 s
    fallBack(fallback)
    fallback.opened('longpoll')
    advance(44_999)
    expect(ProbeSocket.made).toHaveLength(1)
    advance(1)
    const probe = ProbeSocket.made[1]!
    expect(probe.url).toBe('wss://example.test/lifeline?ticket=abc')
    probe.onopen?.({})
    expect(probe.sent).toEqual(['{"type":"ping"}'])
    expect(switches).toEqual(['longpoll'])
    probe.onmessage?.({ data: '{"type":"pong"}' })
    expect(probe.closed).toBe(true)
    expect(switches).toEqual(['longpoll', 'websocket'])
    expect(memory.size).toBe(0)
    vi.useRealTimers()
  })

  it('a probe that opens but never answers times out and tries again later; a refused one too', () => {
    const { fallback, switches, advance } = setup({ upgradeProbeMs: 10_000, probeTimeoutMs: 2000 }, 0.5)
    fallBack(fallback)
    fallback.opened('longpoll')
    advance(10_000)
    const first = ProbeSocket.made[1]!
    first.onopen?.({})
    advance(2000)
    expect(first.closed).toBe(true)
    advance(10_000)
    const second = ProbeSocket.made[2]!
    second.onclose?.({ code: 1006, reason: '', wasClean: false })
    advance(10_000)
    expect(ProbeSocket.made).toHaveLength(4)
    expect(switches).toEqual(['longpoll'])
    fallback.dispose()
    advance(60_000)
    expect(ProbeSocket.made).toHaveLength(4)
    vi.useRealTimers()
  })

  it('a remembered choice starts on long-poll; long-poll failing fallbackAfter times in a row gives WebSocket its turn', () => {
    const { fallback, memory } = setup()
    fallBack(fallback)
    const again = longPollFallback({
      storage: { getItem: (key) => memory.get(key) ?? null, setItem: () => undefined, removeItem: () => undefined },
    })
    const host = { url: 'wss://example.test/lifeline', env: resolveEnvironment({ fetch: fetch }) } as FallbackHost
    const second = again.attach(host)
    expect(second.next()).toBe('longpoll')
    second.failed('longpoll', null)
    expect(second.next()).toBe('longpoll')
    second.failed('longpoll', null)
    expect(second.next()).toBe('websocket')
    vi.useRealTimers()
  })

  it('storage that throws (blocked) is the same as none', () => {
    const throwing = {
      getItem: () => {
        throw new Error('SecurityError')
      },
      setItem: () => {
        throw new Error('QuotaExceededError')
      },
      removeItem: () => undefined,
    }
    const fallback = longPollFallback({ storage: throwing, fallbackAfter: 1 }).attach({
      url: 'wss://example.test/x',
      protocols: undefined,
      env: resolveEnvironment({ fetch: fetch }),
      later: () => () => undefined,
      ping: () => 'ping',
      switchNow: () => undefined,
    })
    expect(fallback.next()).toBe('websocket')
    fallback.diagnosed(stripped)
    // No WebSocket here to confirm with: the confirmation fails, so it falls back.
    expect(fallback.next()).toBe('longpoll')
  })

  it('a confirmation upgrade that works keeps WebSocket (evidence from a server restart) and reconnects at once', () => {
    const { fallback, switches } = setup()
    fallback.diagnosed(stripped)
    fallback.diagnosed(stripped)
    confirmation('answered')
    expect(fallback.next()).toBe('websocket')
    expect(switches).toEqual(['websocket'])
    // The streak starts over: one more stripped upgrade is not enough.
    fallback.diagnosed(stripped)
    expect(ProbeSocket.made).toHaveLength(1)
    vi.useRealTimers()
  })

  it('a diagnosis that HTTP does not work either (down, refused) ends the streak', () => {
    const { fallback } = setup()
    fallback.diagnosed(stripped)
    fallback.diagnosed(down)
    fallback.diagnosed(stripped)
    expect(ProbeSocket.made).toHaveLength(0)
    vi.useRealTimers()
  })

  it('the client opening on WebSocket while a confirmation runs cancels the switch', () => {
    const { fallback, switches } = setup()
    fallback.diagnosed(stripped)
    fallback.diagnosed(stripped)
    fallback.opened('websocket')
    confirmation('refused')
    expect(fallback.next()).toBe('websocket')
    expect(switches).toEqual([])
    vi.useRealTimers()
  })
})

describe('longPollFallback wired into the client', () => {
  it('keeps probing failed handshakes through a long outage, so a server back behind a blocked upgrade still moves the client to long-poll', async () => {
    vi.useFakeTimers()
    let phase: 'down' | 'blocked' = 'down'
    const requests: string[] = []
    const fakeFetch = (_input: unknown, init?: { method?: string; mode?: string }): Promise<Response> => {
      requests.push(`${init?.method ?? 'GET'}${init?.mode === 'no-cors' ? ' no-cors' : ''} while ${phase}`)
      if (phase === 'down') return Promise.reject(new TypeError('fetch failed'))
      return Promise.resolve(new Response('{"error":"upgrade required"}', { status: 426 }))
    }
    /** Every upgrade fails before open: refused while the server is down, then by the proxy. */
    class RefusedSocket extends ProbeSocket {
      constructor(url: string) {
        super(url)
        setTimeout(() => {
          this.readyState = 3
          this.onclose?.({ code: 1006, reason: '', wasClean: false })
        }, 5)
      }
    }
    ProbeSocket.made = []
    const warnings: string[] = []
    const client = createLifeline({
      url: 'wss://example.test/lifeline',
      protocol: lifelineProtocol(),
      fallback: longPollFallback({ storage: null }),
      diagnose: true,
      minDelayMs: 100,
      maxDelayMs: 200,
      logger: { debug: () => undefined, warn: (message) => void warnings.push(message) },
      environment: {
        WebSocket: RefusedSocket as never,
        fetch: fakeFetch as never,
        network: { get: () => true, subscribe: () => () => undefined },
        visibility: { get: () => true, subscribe: () => () => undefined },
        location: undefined,
      },
    })
    // An outage of many attempts: each diagnosed unreachable, nothing counts toward long-poll.
    await vi.advanceTimersByTimeAsync(5000)
    expect(ProbeSocket.made.length).toBeGreaterThan(10)
    expect(requests.filter((request) => request.startsWith('POST'))).toEqual([])

    // The server is back, the upgrade still blocked: the next probes say so, and the client moves to long-poll.
    phase = 'blocked'
    await vi.advanceTimersByTimeAsync(2000)
    expect(requests.filter((request) => request.startsWith('GET while blocked')).length).toBeGreaterThanOrEqual(2)
    expect(requests).toContain('POST while blocked')
    // Each finding logged once, not once per probe.
    expect(warnings.map((warning) => /handshake failed: ([\w-]+)/.exec(warning)?.[1])).toEqual([
      'unreachable',
      'upgrade-stripped',
    ])
    client.dispose()
    vi.useRealTimers()
  })
})
