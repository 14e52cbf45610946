// Page-side instrumentation shared by the plain and the useChannel page: per-listener counters, rAF ticks, heap
// samples and the completion promise the runner awaits over CDP (window.__bench).

/** What the runner passes to a page (JSON in the `c` query parameter). */
export interface PageConfig {
  /** Lifeline server URL (ws://127.0.0.1:port/lifeline). */
  url: string
  /** Fresh channel of this run, so its seq starts at 1. */
  channel: string
  /** Messages the server publishes; ids run 1…n. */
  messages: number
  /** Listeners (plain) or components with useChannel (lib) on the channel. */
  listeners: number
  /** Plain page: also write each listener's count and last id into the DOM once per animation frame. */
  render?: boolean
  /** Lib page: `longpoll` forces the HTTP long-poll transport from the first connection (default: WebSocket). */
  transport?: 'websocket' | 'longpoll'
  /**
   * Latency workload: every message carries its publish time `t` (Node's performance.timeOrigin + now()); the page
   * records, per message of the first listener, its receive time (this page's clock) minus `t`, when it is handled.
   */
  latency?: boolean
}

/** One listener's (or hook's) counters. */
export interface ListenerStats {
  received: number
  /** Highest id handled so far. */
  maxId: number
  /** Messages whose id was not above the highest before it (backwards or repeated). */
  outOfOrder: number
  /** Commits of this hook during the run (lib only). */
  commits: number
  /** Tick of this hook's last commit, to catch two commits in one animation frame. */
  lastCommitTick: number
  /** Commits that shared an animation frame with this hook's previous commit. */
  sameFrameCommits: number
  /** Whether the last message was counted (plain) or rendered (lib). */
  done: boolean
}

/** What a run reports; times are wall-clock ms (performance.timeOrigin + performance.now()). */
export interface PageResult {
  received: number
  lost: number
  outOfOrder: number
  /** Discontinuities the library reported (onGap; lib only). */
  gaps: number
  firstReceivedAt: number
  doneAt: number
  /** Animation frames from the first message to the end (inclusive). */
  ticks: number
  /** React commits during the run (lib), counted once per commit however many hooks it updated. */
  commits: number
  /** Commits of the busiest hook. */
  hookCommitsMax: number
  /** Over all hooks: commits that landed in the same animation frame as that hook's previous commit. */
  sameFrameCommits: number
  heapBefore: number
  heapPeak: number
  timedOut: boolean
  /** The transport the page's connection used (`client.getSnapshot().transport` on the lib page). */
  transport: string
  /**
   * Latency workload: receive time (page clock) minus publish time (Node clock) of each message of the first listener,
   * ms, in arrival order; the runner subtracts the clock offset. Empty otherwise.
   */
  latencies: number[]
}

/** The page's handle for the runner. */
export interface BenchHandle {
  /** Resolves once the page is subscribed and idle. */
  ready: Promise<void>
  /** Resets the counters and starts counting frames; the runner publishes right after. */
  arm(): void
  /** Resolves when every listener handled the last message, or after a stall. */
  done: Promise<PageResult>
}

declare global {
  interface Window {
    __bench?: BenchHandle
  }
}

/** Gives up when nothing arrived for this long (a lost last message would otherwise hang the run). */
const STALL_MS = 5000
/** Gives up when the first message has not arrived this long after arming. */
const FIRST_MESSAGE_MS = 20_000

const wallNow = (): number => performance.timeOrigin + performance.now()
const heapNow = (): number =>
  (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0

/** Reads the page's config from the query string. */
export function readConfig(): PageConfig {
  const raw = new URLSearchParams(location.search).get('c')
  if (!raw) throw new Error('bench page opened without ?c=<config>')
  return JSON.parse(raw) as PageConfig
}

/** Creates the counters and installs `window.__bench`. */
export function createProbe(config: PageConfig, transport: () => string = () => 'websocket') {
  const listeners: ListenerStats[] = Array.from({ length: config.listeners }, () => ({
    received: 0,
    maxId: 0,
    outOfOrder: 0,
    commits: 0,
    lastCommitTick: -1,
    sameFrameCommits: 0,
    done: false,
  }))
  const firstListener = listeners[0]
  let armed = false
  let finished = false
  let tick = 0
  let firstTick = 0
  let firstReceivedAt = 0
  let lastProgressAt = 0
  let armedAt = 0
  let doneCount = 0
  let doneAt = 0
  let commits = 0
  let gaps = 0
  let commitCounted = false
  let handled = 0
  let heapBefore = 0
  let heapPeak = 0
  let latencies: number[] = []
  let markReady: () => void = () => undefined
  let finish: (result: PageResult) => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  const done = new Promise<PageResult>((resolve) => {
    finish = resolve
  })

  const sampleHeap = (): void => {
    const used = heapNow()
    if (used > heapPeak) heapPeak = used
  }

  const complete = (timedOut: boolean): void => {
    if (finished) return
    finished = true
    sampleHeap()
    let received = 0
    let lost = 0
    let outOfOrder = 0
    let hookCommitsMax = 0
    let sameFrameCommits = 0
    for (const listener of listeners) {
      received += listener.received
      lost += Math.max(0, config.messages - (listener.received - listener.outOfOrder))
      outOfOrder += listener.outOfOrder
      hookCommitsMax = Math.max(hookCommitsMax, listener.commits)
      sameFrameCommits += listener.sameFrameCommits
    }
    finish({
      received,
      lost,
      outOfOrder,
      gaps,
      firstReceivedAt,
      doneAt: timedOut ? lastProgressAt : doneAt,
      ticks: firstReceivedAt ? tick - firstTick + 1 : 0,
      commits,
      hookCommitsMax,
      sameFrameCommits,
      heapBefore,
      heapPeak,
      timedOut,
      transport: transport(),
      latencies,
    })
  }

  const frame = (): void => {
    if (finished) return
    tick += 1
    sampleHeap()
    const now = wallNow()
    const idleSince = firstReceivedAt ? lastProgressAt : armedAt
    if (now - idleSince > (firstReceivedAt ? STALL_MS : FIRST_MESSAGE_MS)) complete(true)
    else requestAnimationFrame(frame)
  }

  const listenerDone = (listener: ListenerStats): void => {
    if (listener.done) return
    listener.done = true
    doneCount += 1
    if (doneCount === listeners.length) {
      doneAt = wallNow()
      complete(false)
    }
  }

  const handle: BenchHandle = {
    ready,
    done,
    arm() {
      for (const listener of listeners) {
        Object.assign(listener, { received: 0, maxId: 0, outOfOrder: 0, commits: 0, lastCommitTick: -1 })
        Object.assign(listener, { sameFrameCommits: 0, done: false })
      }
      commits = 0
      gaps = 0
      handled = 0
      latencies = []
      heapBefore = heapNow()
      heapPeak = heapBefore
      armedAt = wallNow()
      armed = true
      requestAnimationFrame(frame)
    },
  }
  window.__bench = handle

  return {
    listeners,
    /** The page is subscribed: the runner may arm it. */
    ready: () => markReady(),
    /**
     * One message handled by one listener; `sentAt` is its publish time (latency workload). Returns true when it was
     * the last message.
     */
    receive(listener: ListenerStats, id: number, sentAt?: number): boolean {
      if (!armed) return false
      if (config.latency && listener === firstListener && sentAt !== undefined) {
        // At most a few hundred messages a second: a clock read per message is fine, and keeps the stall watchdog fed.
        lastProgressAt = wallNow()
        latencies.push(lastProgressAt - sentAt)
      }
      if (handled === 0) {
        firstReceivedAt = wallNow()
        lastProgressAt = firstReceivedAt
        firstTick = tick
      }
      handled += 1
      listener.received += 1
      // Per message, not per delivery: performance.memory costs ~0.1 ms a read.
      if (listener === firstListener && (listener.received & 2047) === 0) {
        sampleHeap()
        lastProgressAt = wallNow()
      }
      if (id <= listener.maxId) listener.outOfOrder += 1
      else listener.maxId = id
      return id === config.messages
    },
    /** The last message was counted by this listener (plain page). */
    counted: listenerDone,
    /** A hook's component committed (lib page, from useLayoutEffect) or a listener's DOM text was written, showing `lastId`. */
    committed(listener: ListenerStats, lastId: number): void {
      if (!armed || finished) return
      // All layout effects of one commit run in one task: count the commit once.
      if (!commitCounted) {
        commitCounted = true
        commits += 1
        queueMicrotask(() => {
          commitCounted = false
        })
      }
      listener.commits += 1
      if (listener.lastCommitTick === tick) listener.sameFrameCommits += 1
      listener.lastCommitTick = tick
      lastProgressAt = wallNow()
      if (lastId === config.messages) listenerDone(listener)
    },
    /** The library reported a discontinuity (lib page). */
    gap(): void {
      if (armed) gaps += 1
    },
    /** Marks progress without a message (keeps the stall watchdog quiet during long commits). */
    progress(): void {
      lastProgressAt = wallNow()
    },
  }
}
