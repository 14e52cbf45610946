// @vitest-environment jsdom
import { StrictMode, type ReactNode } from 'react'
import { act, cleanup, fireEvent, render, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { ConnectionBanner, OfflineQueue } from '../../src/components'
import {
  createLifeline,
  longPollFallback,
  lifelineProtocol,
  type ConnectionSnapshot,
  type LifelineClient,
  type LifelineProtocol,
  type OutboxItem,
  type WebSocketConstructor,
} from '../../src/core'
import { LifelineDevtoolsPanel } from '../../src/devtools/panel'
import type { DevtoolsTrace } from '../../src/devtools'
import { LifelineProvider, useChannel } from '../../src/react'
import { createTestServer, replayTrace, type TestServer } from '../../src/testing'
import { createScriptedClient } from '../components/fake-client'
import { $, $$, button, openTab, transitions } from './support'

const environment = { WebSocket: WebSocket as unknown as WebSocketConstructor, location: undefined }
let server: TestServer
let client: LifelineClient

beforeEach(async () => {
  server = await createTestServer()
  client = createLifeline({
    url: `${server.url}?token=s3cret`,
    protocol: lifelineProtocol(),
    environment,
    minDelayMs: 50,
    maxDelayMs: 400,
    connectTimeoutMs: 1000,
  })
})
afterEach(async () => {
  cleanup()
  client.dispose()
  await server.close()
})

function Feed(): ReactNode {
  const { messages, status } = useChannel<{ n: number }>('news')
  return (
    <p data-testid="feed">
      {status}:{messages.map((message) => message.data.n).join(',')}
    </p>
  )
}

const feed = () => document.querySelector('[data-testid="feed"]')?.textContent

describe('devtools on a real client through a real outage', () => {
  it('show the transitions, the close code, the attempts, and the resumed channel; export then replay reproduces the component states', async () => {
    let exported: DevtoolsTrace | null = null
    act(() => client.connect())
    await waitFor(() => expect(client.getSnapshot().status).toBe('open'))
    render(
      <StrictMode>
        <LifelineProvider client={client}>
          <Feed />
          <LifelineDevtoolsPanel
            initialIsOpen
            backoff={{ minDelayMs: 50, maxDelayMs: 400 }}
            onExport={(trace) => (exported = trace)}
          />
        </LifelineProvider>
      </StrictMode>,
    )
    // Every (snapshot, outbox) pair the client publishes from here, in order: what the exported steps must reproduce.
    const live: { snapshot: ConnectionSnapshot; items: readonly OutboxItem[] }[] = [
      { snapshot: client.getSnapshot(), items: client.outbox.items() },
    ]
    client.subscribe(() => {
      const last = live.at(-1)
      const next = { snapshot: client.getSnapshot(), items: client.outbox.items() }
      if (last?.snapshot !== next.snapshot || last.items !== next.items) live.push(next)
    })
    await waitFor(() => expect(feed()).toBe('subscribed:'))
    await server.publish('news', { n: 1 })
    await waitFor(() => expect(feed()).toBe('subscribed:1'))

    await server.kill()
    await waitFor(() => expect(client.getSnapshot().attempt).toBeGreaterThanOrEqual(2), { timeout: 5000 })
    act(() => void (client.protocol as LifelineProtocol).publish('outbox', { text: 'queued while down' }))
    await server.restart()
    await waitFor(() => expect(client.getSnapshot().status).toBe('open'), { timeout: 5000 })
    await server.publish('news', { n: 2 })
    await waitFor(() => expect(feed()).toBe('subscribed:1,2'))
    await waitFor(() => expect(client.outbox.items()).toEqual([]))

    const timeline = transitions()
    expect(timeline.find((row) => row.startsWith('open->reconnecting'))).toContain('close 1006 abnormal → reconnect')
    expect(timeline.at(-1)).toMatch(/->open/)
    const attempts = $$('[data-chart="attempts"] g')
    expect(attempts.length).toBeGreaterThanOrEqual(2)
    // Each delay lies in the range drawn for it: the first retry after the drop of an open connection is spread over
    // [50, min(400, 10·50)], later ones over full jitter's [50, min(400, 50·2^attempt)].
    const ranges = attempts.map((attempt) => attempt.getAttribute('data-range'))
    expect(ranges.slice(0, 2)).toEqual(['50-400', '50-200'])
    for (const attempt of attempts) {
      const [low, high] = (attempt.getAttribute('data-range') ?? '').split('-').map(Number)
      const delay = Number(attempt.getAttribute('data-delay'))
      expect(delay).toBeGreaterThanOrEqual((low ?? 0) - 1)
      expect(delay).toBeLessThanOrEqual((high ?? 0) + 1)
    }

    openTab('Channels')
    const row = $('tr[data-channel="news"]')
    expect(row.getAttribute('data-state')).toBe('subscribed')
    expect(row.querySelector('[data-resumed]')?.getAttribute('data-resumed')).toBe('true')
    expect(row.textContent).toContain('none')

    openTab('Frames')
    expect($$('tr[data-direction="in"]').map((frame) => frame.textContent)).toHaveLength(2)
    expect($$('tr[data-direction="out"]')).toHaveLength(1)

    openTab('Actions')
    act(() => void fireEvent.click(button('Export trace (JSON)')))
    const trace = exported as DevtoolsTrace | null
    if (!trace) throw new Error('no trace exported')
    const text = JSON.stringify(trace)
    expect(text).not.toContain('s3cret')
    expect(text).not.toContain('queued while down')
    expect(text).not.toContain(client.getSnapshot().session.id ?? 'no session')
    expect(trace.steps).toHaveLength(live.length)

    // The components driven by the replay render what they rendered on the live snapshots, step by step.
    cleanup()
    const statesOf = (steps: () => Iterable<void>): string[] => {
      const seen: string[] = []
      for (const _ of steps()) {
        const banner = document.querySelector('[data-lifeline="banner"]')
        const queue = document.querySelector('[data-lifeline="queue"]')
        seen.push(`${banner?.getAttribute('data-state')}|${banner?.textContent}|${queue?.textContent ?? ''}`)
      }
      return seen
    }
    const ui = (target: LifelineClient) => (
      <LifelineProvider client={target}>
        <ConnectionBanner showAfterMs={0} />
        <OfflineQueue />
      </LifelineProvider>
    )
    const scripted = createScriptedClient(live[0]?.snapshot)
    render(ui(scripted.client))
    const expected = statesOf(function* () {
      for (const step of live) {
        scripted.setItems(step.items)
        scripted.set(step.snapshot)
        yield
      }
    })
    cleanup()
    const replay = replayTrace(JSON.parse(text) as DevtoolsTrace, { rebase: false })
    render(ui(replay.client))
    const step = (target: { step(): boolean }) => {
      let stepped = false
      act(() => void (stepped = target.step()))
      return stepped
    }
    const replayed = statesOf(function* () {
      yield
      while (step(replay)) yield
    })
    expect(replayed).toEqual(expected)
    expect(new Set(expected).size).toBeGreaterThan(2)

    // The devtools on the replay rebuild the same timeline.
    cleanup()
    const again = replayTrace(trace, { rebase: false })
    render(<LifelineDevtoolsPanel client={again.client} initialIsOpen />)
    while (step(again));
    expect(transitions()).toEqual(timeline)

    // Rebased to now (the default), a close keeps its time across steps: the causes are the same as recorded.
    cleanup()
    const rebased = replayTrace(trace)
    render(<LifelineDevtoolsPanel client={rebased.client} initialIsOpen />)
    while (step(rebased));
    const causes = (rows: string[]) => rows.map((row) => row.replace(/^[^:]*:/, ''))
    expect(causes(transitions())).toEqual(causes(timeline))
  }, 20_000)

  it('Close with code closes the real connection with that code, Connect reconnects, Retry now skips the wait', async () => {
    const slow = createLifeline({
      url: server.url,
      protocol: lifelineProtocol(),
      environment,
      minDelayMs: 10_000,
      maxDelayMs: 10_000,
    })
    try {
      render(<LifelineDevtoolsPanel client={slow} initialIsOpen />)
      act(() => slow.connect())
      await waitFor(() => expect(slow.getSnapshot().status).toBe('open'))
      openTab('Actions')
      act(() => void fireEvent.change($('input[type="number"]'), { target: { value: '4000' } }))
      act(() => void fireEvent.click(button('Close with code')))
      await waitFor(() => expect(slow.getSnapshot().status).toBe('closed'))
      expect(slow.getSnapshot().lastClose?.code).toBe(4000)
      await waitFor(() => expect(slow.resources().sockets).toBe(0))
      act(() => void fireEvent.click(button('Connect')))
      await waitFor(() => expect(slow.getSnapshot().status).toBe('open'))

      await server.kill()
      await waitFor(() => expect(slow.getSnapshot().status).toBe('reconnecting'))
      await server.restart()
      const started = performance.now()
      act(() => void fireEvent.click(button('Retry now')))
      await waitFor(() => expect(slow.getSnapshot().status).toBe('open'), { timeout: 3000 })
      expect(performance.now() - started).toBeLessThan(3000)
    } finally {
      slow.dispose()
    }
  })

  it('Drop the link and Go offline / back online act on a real connection (simulateFault)', async () => {
    const client = createLifeline({
      url: server.url,
      protocol: lifelineProtocol(),
      environment,
      minDelayMs: 20,
      maxDelayMs: 50,
    })
    try {
      render(<LifelineDevtoolsPanel client={client} initialIsOpen />)
      await waitFor(() => expect(client.getSnapshot().status).toBe('open'))
      const before = server.totalConnections
      openTab('Actions')
      expect(button('Drop the link (no close frame)').disabled).toBe(false)
      act(() => void fireEvent.click(button('Drop the link (no close frame)')))
      expect(client.getSnapshot().lastClose).toMatchObject({ code: 1006, wasClean: false })
      await waitFor(() => expect(client.getSnapshot().status).toBe('open'))
      expect(server.totalConnections).toBe(before + 1)
      act(() => void fireEvent.click(button('Go offline')))
      expect(client.getSnapshot()).toMatchObject({ status: 'offline', online: false })
      act(() => void fireEvent.click(button('Go back online')))
      await waitFor(() => expect(client.getSnapshot().status).toBe('open'))
      expect(server.totalConnections).toBe(before + 2)
    } finally {
      client.dispose()
    }
  })

  it('Force long-poll moves a real client with a long-poll fallback to long-poll', async () => {
    const client = createLifeline({
      url: server.url,
      protocol: lifelineProtocol(),
      fallback: longPollFallback({ storage: null, upgradeProbeMs: 60_000 }),
      environment: { ...environment, fetch: globalThis.fetch },
      minDelayMs: 20,
      maxDelayMs: 50,
    })
    try {
      render(<LifelineDevtoolsPanel client={client} initialIsOpen />)
      await waitFor(() => expect(client.getSnapshot()).toMatchObject({ status: 'open', transport: 'websocket' }))
      openTab('Actions')
      act(() => void fireEvent.click(button('Force long-poll')))
      await waitFor(() => expect(client.getSnapshot()).toMatchObject({ status: 'open', transport: 'longpoll' }))
    } finally {
      client.dispose()
    }
  })
})
