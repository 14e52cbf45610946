#!/usr/bin/env node
// Checks `npm run start:cluster` end to end (not part of `npm test`; needs Chromium and redis-server, takes ~1 min):
//   starts it in its own process group, waits for Storybook, checks the control API reports `mode: 'cluster'` with
//   three nodes and Redis up, opens the ConnectionBanner Live story in headless Chromium and, from its fault panel,
//   kills and restarts each node in turn (the client is open again after each), stops and starts Redis (the client
//   stays open), kills and restarts every node, then sends SIGINT to the group and checks every process (Storybook,
//   the nodes, redis-server) is gone and no port still listens. Saves .tmp/live-cluster.png.
// Usage: node scripts/check-start-cluster.mjs
import { join } from 'node:path'
import process from 'node:process'
import { createReport, launchChromium, poll, portListening, sleep, startApp, tmp } from './check-start-support.mjs'

const { failures, say, expect, fail } = createReport('check-cluster')
const app = startApp(['run', 'start:cluster'])

let browser
let ports = []
try {
  const ready = await app.ready()
  const storybookUrl = /\[start\] Storybook:\s+(https?:\/\/\S+)/.exec(ready)?.[1]
  const lifeline =
    /\[start\] Lifeline server: (ws:\/\/\S+) via the balancer over 3 nodes and Redis \(control API (http:\/\/\S+)\/state\)/.exec(
      ready,
    )
  if (!storybookUrl || !lifeline) {
    process.stdout.write(app.output)
    throw new Error('npm run start:cluster did not report ready')
  }
  const origin = new URL(storybookUrl).origin
  const controlUrl = lifeline[2]
  const { state } = await (await fetch(`${controlUrl}/state`)).json()
  ports = [Number(new URL(origin).port), Number(new URL(lifeline[1]).port), Number(new URL(controlUrl).port)]
  ports.push(...state.nodes.map((node) => node.port))
  expect(
    state.mode === 'cluster' && state.nodes.length === 3 && state.redisUp === true,
    `control API: mode ${state.mode}, ${state.nodes.length} nodes, Redis ${state.redisUp ? 'up' : 'down'}`,
  )

  browser = await launchChromium(['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'])
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  // null while the story is still compiling or rendering.
  const text = (testId) =>
    page
      .getByTestId(testId)
      .textContent({ timeout: 5000 })
      .catch(() => null)
  const waitFor = (testId, accept, timeoutMs = 15_000) => poll(() => text(testId), accept, timeoutMs)
  const click = (name) => page.getByRole('button', { name, exact: true }).click()
  await page.goto(`${origin}/iframe.html?id=components-connectionbanner--live&viewMode=story`)
  let status = await waitFor('live-status', (value) => value === 'open', 60_000)
  expect(status === 'open', `Live story open through the balancer (${status})`)
  const buttons = await Promise.all(
    ['Kill node 1', 'Restart node 3', 'Stop Redis', 'Start Redis'].map((name) =>
      page.getByRole('button', { name, exact: true }).count(),
    ),
  )
  expect(
    buttons.every((count) => count === 1),
    'the fault panel has Kill node N / Restart node N / Stop Redis / Start Redis',
  )

  for (const node of [1, 2, 3]) {
    await click(`Kill node ${node}`)
    const killed = await waitFor('server-state', (value) => value?.includes(`node ${node} killed`), 5000)
    status = await waitFor('live-status', (value) => value === 'open', 20_000)
    expect(
      killed?.includes(`node ${node} killed`) && status === 'open',
      `Kill node ${node}: the client is open (${status})`,
    )
    await click(`Restart node ${node}`)
    const back = await waitFor('server-state', (value) => value?.includes(`node ${node} up`), 10_000)
    expect(back?.includes(`node ${node} up`), `Restart node ${node}: up again`)
  }

  await click('Stop Redis')
  const stopped = await waitFor('server-state', (value) => value?.includes('Redis stopped'), 5000)
  await sleep(3000)
  status = await text('live-status')
  expect(stopped?.includes('Redis stopped') && status === 'open', `Stop Redis: the connection stays up (${status})`)
  await click('Start Redis')
  const started = await waitFor('server-state', (value) => value?.includes('Redis up'), 10_000)
  expect(started?.includes('Redis up'), 'Start Redis: up again')

  await click('Kill server')
  status = await waitFor('live-status', (value) => value !== 'open')
  expect(status !== 'open', `Kill server (every node): status leaves open (${status})`)
  await click('Restart server')
  status = await waitFor('live-status', (value) => value === 'open', 30_000)
  expect(status === 'open', `Restart server (every node): open again (${status})`)
  await page.screenshot({ path: join(tmp, 'live-cluster.png') })
} catch (error) {
  await browser
    ?.contexts()[0]
    ?.pages()[0]
    ?.screenshot({ path: join(tmp, 'live-cluster-failed.png') })
    .catch(() => undefined)
  fail(error)
} finally {
  await browser?.close()
  const gone = (await app.interrupt(10_000))?.gone ?? true
  expect(gone, 'SIGINT: every process of the group is gone (Storybook, nodes, redis-server)')
  if (!gone) process.kill(-app.pgid, 'SIGKILL')
  const listening = (await Promise.all(ports.map((port) => portListening(port)))).filter(Boolean).length
  expect(listening === 0, `no port still listens (${listening} of ${ports.length})`)
}
say(failures.length === 0 ? 'all checks passed' : `${failures.length} failed`)
process.exit(failures.length === 0 ? 0 : 1)
