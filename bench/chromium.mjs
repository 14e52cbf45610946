// Launches Chromium headless with a DevTools port and drives one tab over plain CDP (the `ws` package).
// No Playwright: its WebSocket frame listeners (Network domain) slow WebSocket-heavy pages several-fold. Only the
// Runtime, Page.navigate, HeapProfiler.collectGarbage and Performance (metrics) commands are sent; Performance is the
// only domain enabled, Network never.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'

/** Raised when Chromium or a CDP command fails; `code` is stable. */
export class BenchBrowserError extends Error {
  code = 'BENCH_BROWSER_FAILED'
  constructor(message, options) {
    super(message, options)
    this.name = 'BenchBrowserError'
  }
}

const chromiumArgs = [
  '--headless=new',
  '--remote-debugging-port=0',
  '--remote-debugging-address=127.0.0.1',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-extensions',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--mute-audio',
  // A benchmark tab must never be throttled as a background tab (rAF, timers).
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  // performance.memory is bucketed and delayed without it.
  '--enable-precise-memory-info',
  '--window-size=1024,768',
]

/**
 * Starts Chromium with its profile, caches and temp files under `tmpRoot`; resolves once DevTools listens.
 * @param {{ executablePath: string, tmpRoot: string, timeoutMs?: number }} options
 */
export async function launchChromium({ executablePath, tmpRoot, timeoutMs = 20_000 }) {
  const dirs = {
    TMPDIR: join(tmpRoot, 'tmp'),
    XDG_CONFIG_HOME: join(tmpRoot, 'config'),
    XDG_CACHE_HOME: join(tmpRoot, 'cache'),
    HOME: join(tmpRoot, 'home'),
  }
  const profile = join(tmpRoot, 'profile')
  for (const dir of [...Object.values(dirs), profile]) mkdirSync(dir, { recursive: true })
  // Its own process group, so that closing kills the zygote, renderer and utility processes it forked, and only those.
  const child = spawn(executablePath, [...chromiumArgs, `--user-data-dir=${profile}`, 'about:blank'], {
    env: { ...process.env, ...dirs },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  })
  let exited = false
  const exitedPromise = new Promise((resolve) => child.once('exit', () => resolve()))
  child.once('exit', () => {
    exited = true
  })
  const close = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch (error) {
        if (error.code !== 'ESRCH') throw error
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch (error) {
          if (error.code !== 'ESRCH') throw error
        }
      }, 3000)
      await exitedPromise
      clearTimeout(timer)
    }
    rmSync(tmpRoot, { recursive: true, force: true })
  }
  /** Synchronous last resort for process 'exit' handlers. */
  const killNow = () => {
    if (exited) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch (error) {
      if (error.code !== 'ESRCH') throw error
    }
  }

  let stderr = ''
  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new BenchBrowserError(`Chromium did not start in ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    )
    const fail = (error) => {
      clearTimeout(timer)
      child.stderr.off('data', onData)
      reject(error)
    }
    const onData = (chunk) => {
      stderr += chunk.toString()
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr)
      if (!match) return
      clearTimeout(timer)
      child.stderr.off('data', onData)
      // Keep draining stderr so that Chromium never blocks on a full pipe.
      child.stderr.resume()
      resolve(match[1])
    }
    child.stderr.on('data', onData)
    child.once('error', (error) =>
      fail(new BenchBrowserError(`Chromium failed to start: ${error.message}`, { cause: error })),
    )
    child.once('exit', (code, signal) => fail(new BenchBrowserError(`Chromium exited (${code ?? signal})\n${stderr}`)))
  }).catch(async (error) => {
    await close()
    throw error
  })
  return { endpoint, close, killNow, pid: child.pid }
}

/**
 * A CDP connection to the browser endpoint with one attached tab (flattened session).
 * @param {string} endpoint the `ws://…/devtools/browser/…` URL
 */
export async function openTab(endpoint) {
  const socket = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 })
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  let nextId = 0
  const pending = new Map()
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString())
    if (message.id === undefined) return
    const waiter = pending.get(message.id)
    if (!waiter) return
    pending.delete(message.id)
    if (message.error) waiter.reject(new BenchBrowserError(`${waiter.method}: ${message.error.message}`))
    else waiter.resolve(message.result)
  })
  socket.on('close', () => {
    for (const waiter of pending.values())
      waiter.reject(new BenchBrowserError(`${waiter.method}: CDP connection closed`))
    pending.clear()
  })
  const send = (method, params = {}, sessionId = undefined) => {
    const id = ++nextId
    const payload = { id, method, params }
    if (sessionId) payload.sessionId = sessionId
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, method })
      socket.send(JSON.stringify(payload))
    })
  }
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' })
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true })
  const call = (method, params) => send(method, params, sessionId)

  /** Evaluates `expression` in the page (awaiting a promise), returning its JSON value. */
  const evaluate = async (expression, timeoutMs = 60_000) => {
    let timer
    const timeout = new Promise((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new BenchBrowserError(`evaluate timed out after ${timeoutMs} ms: ${expression}`)),
        timeoutMs,
      )
    })
    try {
      const result = await Promise.race([
        call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }),
        timeout,
      ])
      if (result.exceptionDetails) {
        const details = result.exceptionDetails
        throw new BenchBrowserError(`page threw: ${details.exception?.description ?? details.text}`)
      }
      return result.result.value
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    /** Any CDP command on the tab's session. */
    call,
    evaluate,
    /** Navigates and waits until `readyExpression` evaluates truthy in the new document. */
    async navigate(url, readyExpression, timeoutMs = 20_000) {
      await call('Page.navigate', { url })
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const ready = await evaluate(
          `(() => { try { return location.href === ${JSON.stringify(url)} && Boolean(${readyExpression}) } catch (_error) { return false } })()`,
        ).catch(() => false)
        if (ready) return
        if (Date.now() > deadline) throw new BenchBrowserError(`page not ready after ${timeoutMs} ms: ${url}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    },
    collectGarbage: () => call('HeapProfiler.collectGarbage'),
    /** Enables the Performance domain (metrics only: no per-frame or per-request events). */
    enableMetrics: () => call('Performance.enable', { timeDomain: 'threadTicks' }),
    /** The renderer's Performance.getMetrics as { name: value }. */
    async metrics() {
      const { metrics } = await call('Performance.getMetrics')
      return Object.fromEntries(metrics.map((metric) => [metric.name, metric.value]))
    },
    close() {
      socket.close()
    },
  }
}
