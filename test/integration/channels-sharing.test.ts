import { describe, expect, it } from 'vitest'
import type { ChannelStatus, ClientFrame } from '../../src/core'
import { sleep, waitFor, waitForStatus } from './helpers'
import { caughtUp, channelNames, useChannelsHarness } from './channels-harness'
import { createSequenceChecker } from './sequence-checker'

const h = useChannelsHarness()

const CHANNELS = channelNames('shared', 10)
const LINGER_MS = 200

const framesOf = <T extends ClientFrame['type']>(frames: readonly ClientFrame[], type: T) =>
  frames.filter((frame): frame is Extract<ClientFrame, { type: T }> => frame.type === type)

describe('channels shared by many components, and churn (integration)', () => {
  it('R26 50 components × 10 channels → 1 socket, 10 subs; each component gets every message once; the last leave unsubscribes after the linger, the last release closes', async () => {
    const server = await h.server()
    const checker = createSequenceChecker()
    const entry = h.client({ url: server.url, autoConnect: false, channels: { lingerMs: LINGER_MS } })
    const { client, protocol, tracker, sent } = entry
    const statuses = new Map<string, ChannelStatus>()
    // A component holds the client (retain) and listens to every channel, as useChannel does.
    const components = Array.from({ length: 50 }, (_, index) => {
      const name = `component-${String(index)}`
      const release = client.retain(LINGER_MS)
      const leaves = CHANNELS.map((channel) =>
        protocol.channel(channel, {
          ...checker.listen(name, channel),
          status: (status) => statuses.set(`${name} ${channel}`, status),
        }),
      )
      return { release, leaves }
    })
    await waitForStatus(client, 'open', 2000)
    await waitFor(() => server.server.connections()[0]?.channels.length === 10, 2000, '10 server subscriptions')
    // Components that joined after the first got the shared subscription's status too.
    await waitFor(
      () => [...statuses.values()].filter((status) => status.state === 'subscribed').length === 500,
      1000,
      'all 500 subscribed',
    )
    for (let round = 0; round < 5; round++)
      for (const channel of CHANNELS) await server.publish(channel, checker.next(channel))
    await caughtUp(checker)

    expect(checker.report()).toMatchObject({ delivered: 50 * 10 * 5, lost: 0, duplicated: 0, gaps: {}, violations: [] })
    expect(tracker.sockets).toHaveLength(1)
    expect(server.connections).toBe(1)
    expect(framesOf(sent, 'sub').map((frame) => frame.ch)).toEqual(CHANNELS)
    expect(protocol.channels!.size()).toBe(500)

    // A remount: every component leaves one channel and one comes back within the linger: nothing is unsubscribed.
    for (const { leaves } of components) leaves[0]!()
    await sleep(LINGER_MS / 2)
    const back = protocol.channel(CHANNELS[0]!, {})
    await sleep(LINGER_MS)
    expect(framesOf(sent, 'unsub')).toEqual([])
    back()
    // 49 of 50 leave another channel: the one left keeps it subscribed past the linger, and keeps receiving.
    for (const { leaves } of components.slice(1)) leaves[1]!()
    await sleep(LINGER_MS * 1.5)
    expect(framesOf(sent, 'unsub').map((frame) => frame.ch)).toEqual([CHANNELS[0]])
    const last = checker.next(CHANNELS[1]!)
    await server.publish(CHANNELS[1]!, last)
    await waitFor(
      () => checker.delivered('component-0', CHANNELS[1]!).at(-1) === last.n,
      1000,
      'the last listener served',
    )

    // Everyone leaves: still subscribed during the linger, unsubscribed after it.
    const leftAt = performance.now()
    for (const { leaves } of components) leaves.forEach((leave) => leave())
    await sleep(LINGER_MS / 2)
    expect(framesOf(sent, 'unsub')).toHaveLength(1)
    expect(server.server.connections()[0]?.channels).toHaveLength(9)
    await waitFor(() => server.server.stats().subscriptions === 0, 1000, 'server subscriptions back to 0')
    expect(performance.now() - leftAt).toBeGreaterThanOrEqual(LINGER_MS)
    expect(
      framesOf(sent, 'unsub')
        .map((frame) => frame.ch)
        .sort(),
    ).toEqual([...CHANNELS].sort())
    expect(framesOf(sent, 'sub')).toHaveLength(10)
    expect(protocol.channels!.size()).toBe(0)
    expect(protocol.channels!.names()).toEqual([])

    // The last release closes the socket after its linger.
    for (const { release } of components) release()
    expect(client.getSnapshot().status).toBe('open')
    await waitForStatus(client, 'closed', LINGER_MS + 500)
    await waitFor(() => server.connections === 0, 1000, 'server connection closed')
    expect(tracker.sockets).toHaveLength(1)
    expect(client.resources()).toMatchObject({ timers: 0, sockets: 0 })
  })

  it('R29 churn: 150 connect/subscribe/publish/leave/close cycles: server connections, subscriptions, sessions and principals back to 0; client timers, sockets and channels back to 0', async () => {
    const server = await h.server({ resume: { windowMs: 300 }, tokens: { 't-1': 'alice' } })
    const checker = createSequenceChecker()
    const entry = h.client({ url: server.url, autoConnect: false, getToken: () => 't-1', channels: { lingerMs: 0 } })
    const { client, protocol } = entry
    const baseline = client.resources()
    let leaves: Array<() => void> = []
    for (let cycle = 0; cycle < 150; cycle++) {
      client.connect()
      const subscribed = new Set<string>()
      leaves = CHANNELS.slice(0, 3).map((channel) =>
        protocol.channel(channel, {
          status: (status) => status.state === 'subscribed' && subscribed.add(channel),
        }),
      )
      await waitFor(() => subscribed.size === 3, 1000, `cycle ${cycle}: subscribed`)
      protocol.publish(CHANNELS[0]!, checker.next(CHANNELS[0]!))
      await waitFor(
        () => client.getSnapshot().outbox.inFlight + client.getSnapshot().outbox.queued === 0,
        1000,
        `cycle ${cycle}: acked`,
      )
      for (const leave of leaves) leave()
      client.close()
      await waitForStatus(client, 'closed', 1000)
    }
    await waitFor(() => server.connections === 0, 1000, 'server connections back to 0')
    await waitFor(() => client.resources().timers === 0, 1000, 'client timers back to 0')

    expect(server.totalConnections).toBe(150)
    // Listeners: the harness's status recorder and the protocol's session-expiry hook, as before the first cycle.
    expect(client.resources()).toEqual(baseline)
    expect(baseline).toEqual({ timers: 0, listeners: 2, sockets: 0 })
    expect(protocol.channels!.size()).toBe(0)
    expect(protocol.channels!.names()).toEqual([])
    expect(server.applied(CHANNELS[0]!)).toHaveLength(150)
    const stats = server.server.stats()
    expect(stats).toMatchObject({ connections: 0, subscriptions: 0, handshakes: 0, principals: 0 })
    // Sessions wait out the 300 ms resume window, then go too.
    await waitFor(() => server.server.stats().sessions === 0, 1000, `server sessions back to 0 (${stats.sessions})`)
  })

  it('R29 40 clients with 3 channels each, disposed mid-handshake or once subscribed: no socket, timer, subscription or connection left', async () => {
    const server = await h.server()
    const entries = Array.from({ length: 40 }, () => h.client({ url: server.url }))
    const subscribed = entries.map(() => new Set<string>())
    entries.forEach(({ protocol }, index) => {
      for (const channel of CHANNELS.slice(0, 3)) {
        protocol.channel(channel, {
          status: (status) => status.state === 'subscribed' && subscribed[index]!.add(channel),
        })
      }
    })
    await sleep(5)
    entries.forEach(({ client }, index) => index % 2 === 0 && client.dispose())
    await waitFor(
      () => subscribed.every((set, index) => index % 2 === 0 || set.size === 3),
      2000,
      'the others subscribed',
    )
    expect(server.server.stats().subscriptions).toBe(20 * 3)
    for (const { client } of entries) client.dispose()
    for (const { client } of entries) expect(client.resources()).toEqual({ timers: 0, listeners: 0, sockets: 0 })
    await waitFor(() => server.connections === 0, 2000, 'server connections back to 0')
    expect(server.server.stats()).toMatchObject({ connections: 0, subscriptions: 0, handshakes: 0 })
  })
})
