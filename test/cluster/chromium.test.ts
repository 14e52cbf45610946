import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundlePage, launchChromium, servePage, waitFor, type PageServer } from '../e2e/support/node-chromium'
import type { ClusterPageView } from './chromium.page'
import { startCluster, type Cluster } from './support/cluster'

// Real Chromium against the cluster (issue 11): a useChannel page connected through the balancer keeps its messages
// flowing, in order, with no gap and no duplicate, while the test kills (SIGKILL) the node it is on.

const NODES = 3
/** The backend publishes on `feed` this often, from a node the page is not on. */
const PUBLISH_EVERY_MS = 20
const BEFORE_KILL_MS = 2000
const AFTER_KILL_MS = 5000

const view = (page: Page): Promise<ClusterPageView> =>
  page.evaluate(() => (globalThis as unknown as { lifeline: { view(): ClusterPageView } }).lifeline.view())

let browser: Browser
let pageServer: PageServer
let cluster: Cluster

beforeAll(async () => {
  const script = await bundlePage(fileURLToPath(new URL('./chromium.page.tsx', import.meta.url)))
  pageServer = await servePage(script)
  cluster = await startCluster({ nodes: NODES, node: { allowedOrigins: [pageServer.origin] } })
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await cluster?.stop()
  await pageServer?.close()
}, 30_000)

describe('useChannel in Chromium through the balancer (issue 11)', () => {
  it('keeps messages flowing in order, no gap, no duplicate, while the node the page is on is killed', async () => {
    const page = await browser.newPage()
    await page.goto(`${pageServer.origin}/?ws=${encodeURIComponent(cluster.url)}`)
    await waitFor('page open', async () => (await view(page)).status === 'open', 15_000)
    // The page's only connection tells which node it is on.
    await waitFor('one connection', () => cluster.balancer.upstreams.some((upstream) => upstream.connections === 1))
    const on = cluster.balancer.upstreams.findIndex((upstream) => upstream.connections === 1)
    const publisher = cluster.nodes[(on + 1) % NODES]!
    // The subscription must be live before the first message, or the first ones are (rightly) not replayed.
    await page.waitForFunction(() => document.body.textContent?.includes('feed subscribed'), undefined, {
      timeout: 5000,
    })

    let n = 0
    const errors: unknown[] = []
    let chain = Promise.resolve()
    const timer = setInterval(() => {
      const next = ++n
      // One at a time, so the node applies them in publishing order.
      chain = chain.then(() =>
        publisher.publish('feed', { n: next }).then(
          () => undefined,
          (error: unknown) => void errors.push(error),
        ),
      )
    }, PUBLISH_EVERY_MS)
    try {
      await new Promise((resolve) => setTimeout(resolve, BEFORE_KILL_MS))
      const before = (await view(page)).received
      await cluster.killNode(on)
      await waitFor(
        'page open again',
        async () => (await view(page)).status === 'open' && (await view(page)).drops > 0,
        15_000,
      )
      await new Promise((resolve) => setTimeout(resolve, AFTER_KILL_MS))
      expect(before).toBeGreaterThan(0)
    } finally {
      clearInterval(timer)
    }
    await chain
    await waitFor('every message on the page', async () => (await view(page)).received === n, 10_000)
    const result = await view(page)
    console.log(`[chromium] killed node ${String(on)}: ${JSON.stringify({ published: n, ...result })}`)
    await cluster.startNode(on)
    expect(errors).toEqual([])
    expect(result).toMatchObject({ last: n, received: n, duplicated: 0, outOfOrder: 0, gaps: 0, errors: [] })
    expect(result.drops).toBe(1)
  }, 60_000)
})
