import { Agent, createServer, get } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createEchoServer, createFaultProxy, FaultProxyError } from '../../src/testing'
import type { EchoServer, FaultProxy } from '../../src/testing'

// The fault proxy with several upstreams: a round-robin load balancer for tests, in front of real servers.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(label: string, predicate: () => boolean, timeout = 5_000): Promise<void> {
  const deadline = performance.now() + timeout
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${String(timeout)} ms waiting for ${label}`)
    await sleep(5)
  }
}

const open = {
  echoes: [] as EchoServer[],
  proxies: [] as FaultProxy[],
  sockets: [] as WebSocket[],
  http: [] as Server[],
}

afterEach(async () => {
  for (const socket of open.sockets.splice(0)) socket.terminate()
  await Promise.all(open.proxies.splice(0).map((proxy) => proxy.close()))
  await Promise.all(open.echoes.splice(0).map((echo) => echo.close()))
  for (const server of open.http.splice(0)) server.closeAllConnections()
  await Promise.all(open.http.map((server) => new Promise((resolve) => server.close(resolve))))
  open.http.length = 0
})

async function balancer(count: number): Promise<{ proxy: FaultProxy; echoes: EchoServer[] }> {
  const echoes = await Promise.all(Array.from({ length: count }, () => createEchoServer()))
  open.echoes.push(...echoes)
  const proxy = await createFaultProxy({ target: echoes.map((echo) => echo.url) })
  open.proxies.push(proxy)
  return { proxy, echoes }
}

/** Opens a WebSocket through `proxy`; resolves once open, with a record of its close. */
async function connect(proxy: FaultProxy): Promise<{ socket: WebSocket; closed: () => boolean }> {
  const socket = new WebSocket(proxy.url)
  open.sockets.push(socket)
  let closed = false
  socket.on('close', () => {
    closed = true
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return { socket, closed: () => closed }
}

/** Plain HTTP servers that answer with their own index. */
async function httpServers(count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const server = createServer((_request, response) => response.end(String(index)))
      open.http.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return `127.0.0.1:${String((server.address() as AddressInfo).port)}`
    }),
  )
}

function fetchText(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

describe('createFaultProxy with several targets (balancer)', () => {
  it('does send each new WebSocket connection to the next upstream, round-robin, and counts them per upstream', async () => {
    const { proxy, echoes } = await balancer(3)
    for (let index = 0; index < 6; index++) await connect(proxy)
    expect(echoes.map((echo) => echo.connections)).toEqual([2, 2, 2])
    expect(
      proxy.upstreams.map(({ index, connections, forwarded, inRotation }) => [
        index,
        connections,
        forwarded,
        inRotation,
      ]),
    ).toEqual([
      [0, 2, 2, true],
      [1, 2, 2, true],
      [2, 2, 2, true],
    ])
    expect(proxy.upstreams[1]?.port).toBe(echoes[1]?.port)
  })

  it('does balance every plain HTTP request on its own, even over a kept-alive agent, unless perRequest is false', async () => {
    const targets = await httpServers(3)
    const perRequest = await createFaultProxy({ target: targets })
    const perConnection = await createFaultProxy({ target: targets, perRequest: false })
    open.proxies.push(perRequest, perConnection)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const answers = async (proxy: FaultProxy): Promise<string[]> => {
      const seen: string[] = []
      for (let index = 0; index < 6; index++)
        seen.push(await fetchText(`http://127.0.0.1:${String(proxy.port)}/`, agent))
      return seen
    }
    expect(await answers(perRequest)).toEqual(['0', '1', '2', '0', '1', '2'])
    const sticky = await answers(perConnection)
    agent.destroy()
    expect(new Set(sticky).size).toBe(1)
  })

  it('does skip an upstream taken out of rotation for new connections, keep its open ones, and use it again once put back', async () => {
    const { proxy, echoes } = await balancer(3)
    const first = await connect(proxy)
    proxy.take(0)
    for (let index = 0; index < 4; index++) await connect(proxy)
    expect(echoes.map((echo) => echo.connections)).toEqual([1, 2, 2])
    expect(first.closed()).toBe(false)
    expect(proxy.upstreams[0]?.inRotation).toBe(false)
    proxy.putBack(0)
    for (let index = 0; index < 3; index++) await connect(proxy)
    expect(echoes.map((echo) => echo.connections)).toEqual([2, 3, 3])
  })

  it('does reset new connections when every upstream is out of rotation', async () => {
    const { proxy } = await balancer(2)
    proxy.take(0)
    proxy.take(1)
    await expect(connect(proxy)).rejects.toThrow(/ECONNRESET|socket hang up/)
    expect(proxy.stats.noUpstream).toBe(1)
  })

  it('does cut every connection to a killed upstream at once, leave the others open, and keep it in rotation', async () => {
    const { proxy, echoes } = await balancer(3)
    const clients: Array<{ socket: WebSocket; closed: () => boolean }> = []
    for (let index = 0; index < 6; index++) clients.push(await connect(proxy))
    expect(proxy.kill(1)).toBe(2)
    await waitFor('killed clients closed', () => clients[1]!.closed() && clients[4]!.closed())
    await waitFor('server side gone', () => echoes[1]!.connections === 0)
    await sleep(50)
    expect(clients.map((client) => client.closed())).toEqual([false, true, false, false, true, false])
    expect(proxy.upstreams[1]).toMatchObject({ connections: 0, killed: 2, inRotation: true })
    await connect(proxy)
    await connect(proxy)
    expect(echoes[1]!.connections).toBe(1)
  })

  it('does try the next upstream when one refuses, so a dead node costs clients nothing', async () => {
    const { proxy, echoes } = await balancer(3)
    await echoes[1]!.kill()
    for (let index = 0; index < 6; index++) await connect(proxy)
    expect(echoes.map((echo) => echo.connections)).toEqual([3, 0, 3])
    expect(proxy.upstreams[1]!.failed).toBeGreaterThanOrEqual(2)
    expect(proxy.stats.noUpstream).toBe(0)
    await echoes[1]!.restart()
    for (let index = 0; index < 3; index++) await connect(proxy)
    expect(echoes[1]!.connections).toBe(1)
  })

  it('does reset the client when every upstream refuses', async () => {
    const { proxy, echoes } = await balancer(2)
    await Promise.all(echoes.map((echo) => echo.kill()))
    await expect(connect(proxy)).rejects.toThrow(/ECONNRESET|socket hang up/)
    expect(proxy.stats.noUpstream).toBe(1)
    expect(proxy.upstreams.map((upstream) => upstream.failed)).toEqual([1, 1])
  })

  it('does apply fault modes to every upstream: blockWebSocket strips upgrades on all of them', async () => {
    const { proxy, echoes } = await balancer(2)
    proxy.blockWebSocket({ status: 403 })
    await expect(connect(proxy)).rejects.toThrow(/403/)
    proxy.unblockWebSocket()
    await connect(proxy)
    await connect(proxy)
    expect(echoes.map((echo) => echo.connections)).toEqual([1, 1])
  })

  it('does reject a bad upstream index and an empty target list with typed errors', async () => {
    const { proxy } = await balancer(2)
    for (const call of [() => proxy.take(2), () => proxy.putBack(-1), () => proxy.kill(0.5)]) {
      expect(call).toThrow(FaultProxyError)
      expect(call).toThrow(expect.objectContaining({ code: 'FAULT_PROXY_INVALID_ARGUMENT' }) as Error)
    }
    await expect(createFaultProxy({ target: [] })).rejects.toMatchObject({ code: 'FAULT_PROXY_INVALID_TARGET' })
  })

  it('does report a single target as upstream 0, with the single-target behaviour unchanged', async () => {
    const echo = await createEchoServer()
    open.echoes.push(echo)
    const proxy = await createFaultProxy({ target: echo.url })
    open.proxies.push(proxy)
    await connect(proxy)
    expect(proxy.upstreams).toEqual([
      {
        index: 0,
        host: '127.0.0.1',
        port: echo.port,
        inRotation: true,
        connections: 1,
        forwarded: 1,
        failed: 0,
        killed: 0,
      },
    ])
  })
})
