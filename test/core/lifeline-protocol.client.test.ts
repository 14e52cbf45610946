import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createLifeline,
  lifelineProtocol,
  OUTBOX_STORAGE_VERSION,
  outboxStorage,
  type LifelineClient,
  type LifelineOptions,
  type PersistedOutbox,
  type Protocol,
} from '../../src/core'
import { getConnectionStore } from '../../src/store'
import { WELCOME } from '../support/fake-link'
import { createFakeWebSocket } from '../../src/testing/fakes'

/** The sockets the client opens, driven by hand. */
const fake = createFakeWebSocket()
const sockets = fake.sockets

/** The client side of hostile server input: what the client keeps, emits and renders (docs/protocol.md §2). */

const clients: LifelineClient[] = []
function client(options: Partial<LifelineOptions> = {}): LifelineClient {
  const created = createLifeline({
    url: 'wss://example.com/live',
    protocol: lifelineProtocol(),
    environment: { WebSocket: fake.WebSocket, location: undefined },
    ...options,
  })
  clients.push(created)
  return created
}
const socket = () => sockets.at(-1)!
const hellos = () =>
  sockets.flatMap((each) => each.frames<{ type: string; session?: string }>().filter((frame) => frame.type === 'hello'))
const twoMiB = 'a'.repeat(2 * 1024 * 1024)

beforeEach(() => {
  vi.useFakeTimers()
  fake.reset()
})
afterEach(() => {
  for (const each of clients.splice(0)) each.dispose()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('client: a second welcome', () => {
  it("emits 'open' once and keeps the first session", () => {
    const lifeline = client()
    let opens = 0
    lifeline.on('open', () => opens++)
    socket().serverWelcome({ session: 's-1' })
    socket().serverMessage({ ...WELCOME, session: 's-2', resumed: true })
    expect(opens).toBe(1)
    expect(lifeline.getSnapshot().session).toEqual({ id: 's-1', resumed: false })
  })

  it("a protocol that calls ready() twice still opens once (the client's own guard)", () => {
    const twice: Protocol = {
      name: 'twice',
      confirmBy: 'drain',
      opened(link) {
        link.ready({ id: 'a', resumed: false })
        link.ready({ id: 'b', resumed: true })
      },
      received: () => undefined,
      encode: (item) => item.data,
      ping: () => 'ping',
    }
    const lifeline = client({ protocol: twice })
    let opens = 0
    lifeline.on('open', () => opens++)
    socket().serverOpen()
    expect(opens).toBe(1)
    expect(lifeline.getSnapshot().session).toEqual({ id: 'a', resumed: false })
  })
})

describe('client: the session the server names', () => {
  it('a 2 MiB session: PROTOCOL_ERROR, not kept, not persisted, not sent back in the next hello', async () => {
    const adapter = {
      saves: [] as PersistedOutbox[],
      load: () => null,
      save: (value: PersistedOutbox) => void adapter.saves.push(value),
    }
    const lifeline = client({ outbox: { storage: outboxStorage(adapter) } })
    await vi.advanceTimersByTimeAsync(0)
    socket().serverOpen()
    socket().serverMessage({ ...WELCOME, session: twoMiB })
    expect(lifeline.getSnapshot()).toMatchObject({ status: 'failed', session: { id: null } })
    expect(lifeline.getSnapshot().lastError?.code).toBe('PROTOCOL_ERROR')
    lifeline.sendJson({ after: 'failure' })
    await vi.advanceTimersByTimeAsync(0)
    lifeline.retry()
    await vi.advanceTimersByTimeAsync(0)
    socket().serverWelcome({ session: 's-good' })
    await vi.advanceTimersByTimeAsync(0)
    expect(hellos()).toHaveLength(2)
    expect(hellos().every((hello) => hello.session === undefined)).toBe(true)
    expect(adapter.saves.length).toBeGreaterThan(0)
    expect(adapter.saves.map((value) => value.session)).not.toContain(twoMiB)
    expect(lifeline.getSnapshot().session.id).toBe('s-good')
  })

  it('a bad session after a good one keeps the good one: it is what the next hello asks to resume', async () => {
    const lifeline = client()
    socket().serverWelcome({ session: 's-good' })
    socket().serverClose(1001)
    for (let step = 0; step < 600 && sockets.length < 2; step++) await vi.advanceTimersByTimeAsync(100)
    socket().serverOpen()
    socket().serverMessage({ ...WELCOME, session: 'has space' })
    expect(lifeline.getSnapshot().status).toBe('failed')
    expect(lifeline.getSnapshot().session.id).toBe('s-good')
    lifeline.retry()
    socket().serverOpen()
    expect(hellos().map((hello) => hello.session)).toEqual([undefined, 's-good', 's-good'])
  })

  it('a stored session that is not a session id (2 MiB, tampered storage) is not resumed', async () => {
    const load = (): PersistedOutbox => ({ v: OUTBOX_STORAGE_VERSION, session: twoMiB, items: [] })
    const lifeline = client({ outbox: { storage: outboxStorage({ load, save: () => undefined }) } })
    await vi.advanceTimersByTimeAsync(0)
    socket().serverOpen()
    expect(hellos()).toEqual([{ type: 'hello', v: 1 }])
    expect(lifeline.getSnapshot().session.id).toBeNull()
  })

  it('a stored session id that is valid is resumed', async () => {
    const load = (): PersistedOutbox => ({ v: OUTBOX_STORAGE_VERSION, session: 'stored-1', items: [] })
    client({ outbox: { storage: outboxStorage({ load, save: () => undefined }) } })
    await vi.advanceTimersByTimeAsync(0)
    socket().serverOpen()
    expect(hellos()).toEqual([{ type: 'hello', v: 1, session: 'stored-1' }])
  })
})

describe('client: a flood of malformed frames', () => {
  it('notifies the store once, not once per frame; the count shows up once the window has passed', () => {
    const lifeline = client()
    socket().serverWelcome()
    const store = getConnectionStore(lifeline)
    let notifications = 0
    store.subscribe(() => notifications++)
    let errors = 0
    lifeline.on('error', () => errors++)
    for (let index = 0; index < 1000; index++) socket().serverMessage(index % 2 ? 'garbage' : '{"type":"ack","id":7}')
    expect(notifications).toBe(1)
    expect(errors).toBe(1)
    expect(store.getState().lastError?.code).toBe('PROTOCOL_ERROR')
    vi.advanceTimersByTime(1000)
    expect(notifications).toBe(2)
    expect(store.getState().lastError?.message).toMatch(/999 more/)
    vi.advanceTimersByTime(10_000)
    expect(notifications).toBe(2)
    expect(lifeline.getSnapshot().status).toBe('open')
    expect(lifeline.resources().timers).toBeLessThanOrEqual(3)
  })

  it('a malformed frame after a quiet second is recorded at once', () => {
    const lifeline = client()
    socket().serverWelcome()
    socket().serverMessage('garbage')
    vi.advanceTimersByTime(1500)
    socket().serverMessage('{"type":"ack"}')
    expect(lifeline.getSnapshot().lastError?.message).toBe('malformed ack')
  })
})

describe('client: a protocol handler that throws', () => {
  it('becomes a PROTOCOL_ERROR report; the socket handler never throws', () => {
    const broken: Protocol = {
      name: 'broken',
      confirmBy: 'drain',
      opened: (link) => link.ready(),
      received() {
        throw new TypeError('adapter bug')
      },
      encode: (item) => item.data,
      ping: () => 'ping',
    }
    const lifeline = client({ protocol: broken })
    socket().serverOpen()
    expect(() => socket().serverMessage('anything')).not.toThrow()
    expect(lifeline.getSnapshot().lastError?.code).toBe('PROTOCOL_ERROR')
    expect((lifeline.getSnapshot().lastError?.cause as Error).message).toBe('adapter bug')
    expect(lifeline.getSnapshot().status).toBe('open')
  })
})
