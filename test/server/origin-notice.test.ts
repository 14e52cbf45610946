import { createLifelineServer } from '../../src/server'
import type { LifelineServer } from '../../src/server'
import { capturingLogger, cleanup, connectReady, logLines, openClient, waitFor } from './helpers'

const servers: LifelineServer[] = []

afterEach(async () => {
  vi.restoreAllMocks()
  await cleanup()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function start(options: Parameters<typeof createLifelineServer>[0] = {}): Promise<LifelineServer> {
  const server = await createLifelineServer({ port: 0, ...options })
  servers.push(server)
  return server
}

async function refused(url: string, origin?: string): Promise<void> {
  const client = openClient(url, origin === undefined ? {} : { origin })
  await waitFor('the refusal', () => client.response !== null)
  expect(client.response?.status).toBe(403)
}

describe('lifeline server: a refused origin without a logger', () => {
  it('says once, with console.warn, which origin was refused and which option lets it in (allowedOrigins defaults to [])', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const server = await start()
    await refused(server.url, 'http://localhost:3000')
    await refused(server.url, 'https://other.test')
    // The handshake probe a browser client sends next is refused the same way, without a second notice.
    expect(
      (await fetch(server.url.replace('ws:', 'http:'), { headers: { origin: 'https://third.test' } })).status,
    ).toBe(403)

    expect(warn).toHaveBeenCalledTimes(1)
    const [message] = warn.mock.calls[0] as [string]
    expect(message).toContain('"http://localhost:3000"')
    expect(message).toContain('allowedOrigins')
    expect(message).toContain('[]')
  })

  it('names the null origin and a missing Origin for what they are', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const nullOrigin = await start({ allowedOrigins: ['https://app.test'] })
    await refused(nullOrigin.url, 'null')
    const noOrigin = await start({ allowNoOrigin: false })
    await refused(noOrigin.url)

    expect(warn).toHaveBeenCalledTimes(2)
    expect(warn.mock.calls[0]![0]).toMatch(/"null" origin .*always refused/)
    expect(warn.mock.calls[1]![0]).toMatch(/without an Origin header.*allowNoOrigin/)
  })

  it('keeps a long origin short in the notice', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const server = await start()
    await refused(server.url, `https://${'a'.repeat(3000)}.test`)
    expect(warn).toHaveBeenCalledTimes(1)
    expect((warn.mock.calls[0]![0] as string).length).toBeLessThan(600)
  })

  it('stays quiet with a logger (which gets every refusal) and when the origin is allowed', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const logged = await start({ logger: capturingLogger })
    const before = logLines.length
    await refused(logged.url, 'http://localhost:3000')
    await refused(logged.url, 'http://localhost:3000')
    expect(logLines.slice(before).filter((line) => line.includes('upgrade refused: origin'))).toHaveLength(2)

    const open = await start({ allowedOrigins: ['https://app.test'] })
    await connectReady(open.url, { origin: 'https://app.test' })
    expect(warn).not.toHaveBeenCalled()
  })
})
