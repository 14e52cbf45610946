#!/usr/bin/env node
// Checks `npm start` end to end (not part of `npm test`; needs Chromium, takes ~30 s):
//   starts it in its own process group, waits for Storybook, drives the useWebSocket playground in headless Chromium
//   (open → Kill server → not open → Restart server → open, send/echo, 4001 token refresh, 4002 countdown), runs axe
//   on the Playground and Static stories, drives the ConnectionBanner Live story on the embedded reference server (kill
//   and restart, go offline, 1008 then Retry now, block WebSocket → long-poll), saves .tmp/playground.png,
//   .tmp/static.png and .tmp/live.png, then sends SIGINT to the group (as Ctrl+C does) and checks that every process
//   is gone and no port still listens.
// Usage: node scripts/check-start.mjs
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import process from 'node:process'
import {
  createReport,
  launchChromium,
  poll,
  portListening,
  root,
  sleep,
  startApp,
  tmp,
} from './check-start-support.mjs'

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const started = performance.now()
const seconds = (from = started) => `${((performance.now() - from) / 1000).toFixed(1)} s`
const { failures, say, expect, fail } = createReport('check')

// ---- npm start ------------------------------------------------------------------------------------------------------

const app = startApp(['start'], {
  onLine: (line) => {
    if (line.startsWith('[start]')) say(`  ${line}`)
  },
})

async function stopApp() {
  const stopped = await app.interrupt(5000)
  if (stopped === null) return undefined
  const { exited, gone } = stopped
  const how = exited ? (exited.signal ?? `code ${exited.code}`) : 'timed out'
  expect(exited !== null, `npm start exited after SIGINT (${how})`)
  if (!gone) {
    spawnSync('ps', ['-o', 'pid,ppid,cmd', '-g', String(app.pgid)], { stdio: 'inherit' })
    process.kill(-app.pgid, 'SIGKILL')
  }
  return gone
}

let browser
let storybookPort = null
let echoPort = null
let lifelinePorts = []
try {
  const ready = await app.ready()
  const storybookUrl = /\[start\] Storybook:\s+(https?:\/\/\S+)/.exec(ready)?.[1]
  const echoUrl = /\[start\] Echo server: (ws:\/\/\S+)/.exec(ready)?.[1]
  const lifelineLine =
    /\[start\] Lifeline server: (ws:\/\/\S+) via the fault proxy \(control API (http:\/\/\S+)\)/.exec(ready)
  if (!storybookUrl || !echoUrl || !lifelineLine) {
    process.stdout.write(app.output)
    throw new Error('npm start did not report ready')
  }
  const startToReady = seconds()
  const origin = new URL(storybookUrl).origin
  storybookPort = Number(new URL(storybookUrl).port)
  echoPort = Number(new URL(echoUrl).port)
  lifelinePorts = [Number(new URL(lifelineLine[1]).port), Number(new URL(lifelineLine[2]).port)]
  say(`npm start ready in ${startToReady}: Storybook ${origin}, echo server ${echoUrl}`)

  // ---- the Playground in Chromium -------------------------------------------------------------------------------
  browser = await launchChromium(chromiumArgs)
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  const pageErrors = []
  const consoleErrors = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} [${message.location().url}]`)
  })

  const text = (testId) => page.getByTestId(testId).textContent({ timeout: 5000 })
  const waitFor = (testId, accept, timeoutMs = 15_000) => poll(() => text(testId), accept, timeoutMs)
  const click = (name) => page.getByRole('button', { name, exact: true }).click()

  const loadStarted = performance.now()
  await page.goto(`${origin}/iframe.html?id=hooks-usewebsocket--playground&viewMode=story`)
  let status = await waitFor('status', (value) => value === 'open', 60_000)
  expect(status === 'open', `Playground status becomes open (${status}, page load to open ${seconds(loadStarted)})`)

  await page.getByLabel('Message').fill('hello from check-start')
  await click('Send')
  const log = await waitFor('log', (value) => value?.includes('hello from check-start'))
  expect(log?.includes('hello from check-start'), 'a sent message comes back in the log (role=log)')
  // Raw mode confirms a written message only after a 250 ms settle window; a kill inside it would (rightly, at least
  // once) resend the message after the reconnect.
  const outbox = await waitFor('outbox', (value) => value?.startsWith('0 queued, 0 in flight'), 5000)
  expect(outbox?.startsWith('0 queued, 0 in flight'), `the outbox drains (${outbox})`)

  await click('Kill server')
  status = await waitFor('status', (value) => value !== 'open')
  expect(status !== 'open', `Kill server: status leaves open (${status})`)
  const server = await waitFor('server-state', (value) => value?.startsWith('killed'))
  expect(server?.startsWith('killed'), `fault panel shows the server state (${server})`)

  const restartClicked = performance.now()
  await click('Restart server')
  status = await waitFor('status', (value) => value === 'open')
  expect(status === 'open', `Restart server: open again (${status}, after ${seconds(restartClicked)})`)

  const tokensBefore = Number(await text('token-requests'))
  await click('Close 4001 token invalid')
  const tokens = await waitFor('token-requests', (value) => Number(value) > tokensBefore)
  status = await waitFor('status', (value) => value === 'open')
  expect(
    Number(tokens) > tokensBefore && status === 'open',
    `4001 calls getToken() again (${tokensBefore} → ${tokens}) and reopens`,
  )

  await click('Close 4002 rate limited (3 s)')
  const countdown = await waitFor('next-retry', (value) => /^in \d+\.\d s$/.test(value ?? ''), 5000)
  const lastClose = await text('last-close')
  expect(/^in \d+\.\d s$/.test(countdown ?? ''), `4002 shows a countdown to the next attempt (${countdown})`)
  expect(lastClose?.startsWith('4002 rate-limited'), `lastClose names the code (${lastClose})`)
  status = await waitFor('status', (value) => value === 'open', 10_000)
  expect(status === 'open', `reopens after the server's retryAfterMs (${status})`)

  await click('Reject upgrades 401')
  await click('Terminate (no close frame)')
  status = await waitFor('status', (value) => value !== 'open')
  await sleep(1500)
  const rejected = [await text('status'), await text('server-state')]
  expect(
    rejected[0] !== 'open' && rejected[1]?.startsWith('refusing upgrades with 401'),
    `Reject 401 + Terminate: stays down while upgrades are refused (${rejected.join('; ')})`,
  )
  await click('Accept again')
  status = await waitFor('status', (value) => value === 'open')
  expect(status === 'open', `Accept again: open again (${status})`)

  const latency = await waitFor('latency', (value) => /^\d+ ms$/.test(value ?? ''), 8000)
  expect(/^\d+ ms$/.test(latency ?? ''), `the heartbeat measures latency (${latency})`)

  // The a11y addon runs axe in the preview after each render; one axe instance runs one scan at a time, so wait for it.
  const axeViolations = async () => {
    await page.addScriptTag({ path: join(root, 'node_modules/axe-core/axe.min.js') })
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await page.evaluate(async () => {
          const result = await globalThis.axe.run('#storybook-root')
          return result.violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.help}`)
        })
      } catch (error) {
        if (attempt >= 20 || !String(error).includes('Axe is already running')) throw error
        await sleep(250)
      }
    }
  }
  let violations = await axeViolations()
  expect(
    violations.length === 0,
    `axe: Playground has no violations${violations.length ? `: ${violations.join('; ')}` : ''}`,
  )

  await page.screenshot({ path: join(tmp, 'playground.png'), fullPage: true })
  say('screenshot: .tmp/playground.png')

  // ---- the Static story -----------------------------------------------------------------------------------------
  await page.goto(`${origin}/iframe.html?id=hooks-usewebsocket--static&viewMode=story`)
  const staticStatus = await waitFor('status', (value) => value === 'reconnecting', 30_000)
  const staticRetry = await text('next-retry')
  expect(
    staticStatus === 'reconnecting' && staticRetry === 'in 2.4 s',
    `Static renders its script (${staticStatus}, ${staticRetry})`,
  )
  violations = await axeViolations()
  expect(
    violations.length === 0,
    `axe: Static has no violations${violations.length ? `: ${violations.join('; ')}` : ''}`,
  )
  await page.screenshot({ path: join(tmp, 'static.png'), fullPage: true })
  say('screenshot: .tmp/static.png')

  // ---- a Live story on the embedded reference server (through the fault proxy) ----------------------------------
  await page.goto(`${origin}/iframe.html?id=components-connectionbanner--live&viewMode=story`)
  const liveStatus = (accept, timeoutMs = 15_000) => waitFor('live-status', accept, timeoutMs)
  const banner = (accept, timeoutMs = 15_000) =>
    poll(() => page.locator('[data-lifeline="banner"]').getAttribute('data-state'), accept, timeoutMs)
  status = await liveStatus((value) => value === 'open', 60_000)
  expect(status === 'open', `Live: the ConnectionBanner story connects to the embedded lifeline server (${status})`)

  await click('Kill server')
  const killed = performance.now()
  let shown = await banner((value) => value === 'reconnecting')
  const after = performance.now() - killed
  expect(
    shown === 'reconnecting' && after >= 900,
    `Live: Kill server → the banner says reconnecting after showAfterMs (${shown}, ${Math.round(after)} ms)`,
  )
  await click('Restart server')
  status = await liveStatus((value) => value === 'open', 20_000)
  shown = await banner((value) => value === 'hidden', 5000)
  expect(status === 'open' && shown === 'hidden', `Live: Restart server → open, banner hidden (${status}, ${shown})`)

  await click('Go offline')
  shown = await banner((value) => value === 'offline')
  expect(shown === 'offline', `Live: Go offline (client environment) → the banner says offline (${shown})`)
  await click('Go online')
  status = await liveStatus((value) => value === 'open', 20_000)
  expect(status === 'open', `Live: Go online → open again (${status})`)

  await click('1008 policy violation')
  shown = await banner((value) => value === 'failed', 5000)
  expect(shown === 'failed', `Live: close 1008 → failed at once (${shown})`)
  await page.locator('[data-lifeline="banner-retry"]').click()
  status = await liveStatus((value) => value === 'open', 20_000)
  expect(status === 'open', `Live: Retry now after 1008 → open (${status})`)

  await click('Block WebSocket (long-poll)')
  await click('Drop connections')
  const transport = await waitFor('live-transport', (value) => value === 'longpoll', 30_000)
  shown = await banner((value) => value === 'degraded', 5000)
  expect(
    transport === 'longpoll' && shown === 'degraded',
    `Live: Block WebSocket → long-poll fallback, banner degraded (${transport}, ${shown}; needs longPollFallback)`,
  )
  await click('Unblock WebSocket')
  violations = await axeViolations()
  expect(
    violations.length === 0,
    `axe: the Live story has no violations${violations.length ? `: ${violations.join('; ')}` : ''}`,
  )
  await page.screenshot({ path: join(tmp, 'live.png'), fullPage: true })
  say('screenshot: .tmp/live.png')

  expect(pageErrors.length === 0, `no uncaught page errors${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`)
  // Chromium logs every failed WebSocket handshake as a console error (those are the faults we injected), and so
  // every failed HTTP request the client makes to a server we broke (the handshake probe after a failed upgrade,
  // long-poll while the server is down); the bare iframe.html has no favicon link, so Chromium asks Storybook for
  // /favicon.ico and gets a 404.
  const probed = [`[http://127.0.0.1:${String(lifelinePorts[0])}/lifeline`, `[http://127.0.0.1:${String(echoPort)}/]`]
  const unexpected = consoleErrors.filter(
    (line) =>
      !line.startsWith('WebSocket connection to') &&
      !line.endsWith('/favicon.ico]') &&
      !(line.startsWith('Failed to load resource') && probed.some((url) => line.includes(url))),
  )
  expect(
    unexpected.length === 0,
    `no console errors besides failed handshakes${unexpected.length ? `: ${unexpected.join('; ')}` : ''}`,
  )
} catch (error) {
  fail(error)
} finally {
  await browser?.close()
  const stopStarted = performance.now()
  const gone = await stopApp()
  expect(gone !== false, `every process of npm start is gone (${seconds(stopStarted)} after SIGINT)`)
  for (const [name, port] of [
    ['Storybook', storybookPort],
    ['echo server', echoPort],
    ['lifeline proxy', lifelinePorts[0] ?? null],
    ['lifeline control API', lifelinePorts[1] ?? null],
  ]) {
    if (port !== null) expect(!(await portListening(port)), `${name} port ${port} no longer listens`)
  }
}

say(`${failures.length === 0 ? 'passed' : `${failures.length} failed`} in ${seconds()}`)
process.exitCode = failures.length === 0 ? 0 : 1
