import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createLifeline,
  LifelineError,
  lifelineProtocol,
  localStorageOutbox,
  OUTBOX_STORAGE_VERSION,
  outboxStorage,
  type LifelineClient,
  type LifelineError as LifelineErrorType,
  type LifelineOptions,
  type OutboxItem,
  type OutboxStorageAdapter,
  type PersistedItem,
  type PersistedOutbox,
} from '../../src/core'
import { createFakeWebSocket, type FakeSocket } from '../../src/testing/fakes'

/** The sockets the client opens, driven by hand. */
const fake = createFakeWebSocket()
const sockets = fake.sockets

const lastSocket = () => sockets.at(-1)!

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}

/** An in-memory adapter recording every saved value (deep copies, binary data included). */
function memoryAdapter(
  load: OutboxStorageAdapter['load'] = () => null,
  save?: (value: PersistedOutbox) => void | Promise<void>,
): OutboxStorageAdapter & { saves: PersistedOutbox[] } {
  const saves: PersistedOutbox[] = []
  return {
    saves,
    load,
    save(value) {
      saves.push(structuredClone(value))
      return save?.(value)
    },
  }
}

function stored(items: Partial<PersistedItem>[], session: string | null = null): PersistedOutbox {
  return {
    v: OUTBOX_STORAGE_VERSION,
    session,
    items: items.map((item, index) => ({
      id: `old-${index + 1}`,
      data: `stored ${index + 1}`,
      bytes: `stored ${index + 1}`.length,
      state: 'queued',
      attempts: 0,
      createdAt: 1,
      expiresAt: null,
      ...item,
    })),
  }
}

interface Setup {
  client: LifelineClient
  errors: LifelineErrorType[]
  failed: { item: OutboxItem; error: LifelineErrorType }[]
}

/** A client that has started (the outbox storage attaches on the first connect or send), its socket not yet open. */
function started(options: Partial<LifelineOptions> = {}): Setup {
  const setupResult = setup(options)
  setupResult.client.connect()
  return setupResult
}

function setup(options: Partial<LifelineOptions> = {}): Setup {
  const client = createLifeline({
    url: 'wss://example.com/live',
    ...options,
    environment: { WebSocket: fake.WebSocket, location: undefined },
  })
  const errors: LifelineErrorType[] = []
  const failed: Setup['failed'] = []
  client.on('error', (error) => errors.push(error))
  client.on('messageFailed', (event) => failed.push(event))
  return { client, errors, failed }
}

/** Opens the current socket; with the lifeline protocol also answers hello with welcome. */
function open(session = 's-1'): FakeSocket {
  const socket = lastSocket()
  socket.serverOpen()
  const hello = socket.frames()[0] as { type?: string } | undefined
  if (hello?.type === 'hello') {
    socket.serverMessage({
      type: 'welcome',
      session,
      resumed: false,
      heartbeatMs: 25_000,
      maxMessageBytes: 65_536,
      resumeWindowMs: 120_000,
    })
  }
  return socket
}

/** Lets promise callbacks and microtasks run without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0)

const ids = (client: LifelineClient) => client.outbox.items().map((item) => item.id)

beforeEach(() => {
  vi.useFakeTimers()
  fake.reset()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('outbox storage: restore', () => {
  it('puts stored items ahead of new ones and sends them first, waiting for an async load', async () => {
    const load = deferred<PersistedOutbox>()
    const adapter = memoryAdapter(() => load.promise)
    const { client } = setup({ outbox: { storage: outboxStorage(adapter) } })
    const socket = open()
    expect(client.getSnapshot().status).toBe('open')
    const id = client.send('new')
    await settle()
    // Nothing is written before the stored items are back in front.
    expect(socket.sent).toEqual([])
    load.resolve(stored([{}, {}]))
    await settle()
    expect(socket.sent).toEqual(['stored 1', 'stored 2', 'new'])
    expect(ids(client)).toEqual(['old-1', 'old-2', id])
    client.dispose()
  })

  it('restores a synchronous load when the client first connects (not when it is created)', () => {
    const adapter = memoryAdapter(() => stored([{ channel: 'room', attempts: 2, createdAt: 5, expiresAt: null }]))
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    expect(client.outbox.items()).toEqual([
      {
        id: 'old-1',
        data: 'stored 1',
        channel: 'room',
        bytes: 8,
        state: 'queued',
        attempts: 2,
        createdAt: 5,
        expiresAt: null,
        error: null,
      },
    ])
    client.dispose()
  })

  it('restores failed items as failed, with their error code, and does not send them until retried', async () => {
    const adapter = memoryAdapter(() =>
      stored([
        { state: 'failed', error: { code: 'MESSAGE_REFUSED', message: 'FORBIDDEN' } },
        { data: 'ok', bytes: 2 },
      ]),
    )
    const { client } = setup({ outbox: { storage: outboxStorage(adapter) } })
    const [failed] = client.outbox.items()
    expect(failed).toMatchObject({ id: 'old-1', state: 'failed' })
    expect(failed!.error).toBeInstanceOf(LifelineError)
    expect(failed!.error).toMatchObject({ code: 'MESSAGE_REFUSED', message: 'FORBIDDEN' })
    const socket = open()
    expect(socket.sent).toEqual(['ok'])
    client.outbox.retry('old-1')
    expect(socket.sent).toEqual(['ok', 'stored 1'])
    client.dispose()
  })

  it('stores a failed item with its error and brings it back failed after a reload', async () => {
    const adapter = memoryAdapter()
    const { client } = setup({ protocol: lifelineProtocol(), outbox: { storage: outboxStorage(adapter) } })
    const socket = open()
    const id = lifelineProtocolOf(client).publish('room', { text: 'hi' })
    socket.serverMessage({ type: 'nack', id, code: 'FORBIDDEN', reason: 'no' })
    await settle()
    expect(adapter.saves.at(-1)!.items).toEqual([
      expect.objectContaining({ id, state: 'failed', error: { code: 'MESSAGE_REFUSED', message: 'FORBIDDEN' } }),
    ])
    client.dispose()
    const reloaded = setup({
      protocol: lifelineProtocol(),
      outbox: { storage: outboxStorage(memoryAdapter(() => adapter.saves.at(-1))) },
    })
    expect(reloaded.client.outbox.items()).toEqual([expect.objectContaining({ id, state: 'failed', channel: 'room' })])
    expect(reloaded.client.outbox.items()[0]!.error?.code).toBe('MESSAGE_REFUSED')
    reloaded.client.dispose()
  })

  it.each([
    ['another version', { v: 2, session: 's-old', items: stored([{}]).items }],
    ['no version', { session: 's-old', items: stored([{}]).items }],
    ['items that are not a list', { v: 1, session: 's-old', items: { 0: stored([{}]).items[0] } }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'outbox'],
    ['a number', 42],
  ])('ignores a stored value with %s, then overwrites it with the current version', async (_, value) => {
    const adapter = memoryAdapter(() => value as PersistedOutbox)
    const { client, errors } = setup({ protocol: lifelineProtocol(), outbox: { storage: outboxStorage(adapter) } })
    expect(client.outbox.items()).toEqual([])
    const socket = open()
    expect(socket.frames()[0]).toEqual({ type: 'hello', v: 1 })
    await settle()
    expect(adapter.saves.at(-1)).toEqual({ v: 1, session: 's-1', items: [] })
    expect(errors).toEqual([])
    client.dispose()
  })

  it('skips corrupted items and keeps the rest in order', () => {
    const good = stored([{ id: 'good-1' }, { id: 'good-2' }]).items
    const broken: Record<string, unknown>[] = [
      { data: { text: 'x' } },
      { data: null },
      { data: 'lone \ud800 surrogate' },
      { bytes: 'x' },
      { attempts: Number.NaN },
      { createdAt: Infinity },
      { expiresAt: '1' },
      { channel: 5 },
    ]
    const corrupted: unknown[] = [
      null,
      'item',
      42,
      { ...good[0], id: 7 },
      { ...good[0], id: undefined },
      ...broken.map((fields, index) => ({ ...good[0], id: `bad-${index}`, ...fields })),
    ]
    const adapter = memoryAdapter(() => ({
      v: 1,
      session: null,
      items: [good[0], ...corrupted, good[1]] as PersistedItem[],
    }))
    const { client, errors } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    expect(ids(client)).toEqual(['good-1', 'good-2'])
    expect(errors).toEqual([])
    client.dispose()
  })

  it('does not trust a stored size: bytes are measured again', () => {
    const adapter = memoryAdapter(() =>
      stored([
        { data: 'x'.repeat(100), bytes: -1_000_000 },
        { data: 'é', bytes: 0 },
      ]),
    )
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter), maxBytes: 150 } })
    expect(client.outbox.items().map((item) => item.bytes)).toEqual([100, 2])
    expect(client.getSnapshot().outbox.bytes).toBe(102)
    expect(() => client.send('y'.repeat(60))).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }))
    client.dispose()
  })

  it('skips a duplicated stored id', () => {
    const adapter = memoryAdapter(() => stored([{ id: 'same' }, { id: 'same', data: 'other' }]))
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    expect(client.outbox.items().map((item) => item.data)).toEqual(['stored 1'])
    client.dispose()
  })

  it('reports stored items beyond the limits as failed with QUEUE_FULL (async load)', async () => {
    const load = deferred<PersistedOutbox>()
    const { client, failed } = setup({
      autoConnect: false,
      outbox: { storage: outboxStorage(memoryAdapter(() => load.promise)), maxMessages: 2 },
    })
    const id = client.send('new')
    load.resolve(stored([{}, {}, {}]))
    await settle()
    expect(ids(client)).toEqual(['old-1', id])
    expect(failed.map(({ item, error }) => [item.id, error.code])).toEqual([
      ['old-2', 'QUEUE_FULL'],
      ['old-3', 'QUEUE_FULL'],
    ])
    client.dispose()
  })

  it('reports stored items beyond the limits to listeners added before the first connect (sync load)', async () => {
    const { client, failed } = started({
      autoConnect: false,
      outbox: { storage: outboxStorage(memoryAdapter(() => stored([{}, {}, {}]))), maxBytes: 16 },
    })
    await settle()
    expect(ids(client)).toEqual(['old-1', 'old-2'])
    expect(failed.map(({ item, error }) => [item.id, error.code])).toEqual([['old-3', 'QUEUE_FULL']])
    client.dispose()
  })
})

describe('outbox storage: saving', () => {
  it('stores binary data as an ArrayBuffer and leaves Blobs out', async () => {
    const adapter = memoryAdapter()
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    client.send(new Uint8Array([1, 2, 3]))
    client.send(new Blob(['blob']))
    client.send('text')
    await settle()
    const items = adapter.saves.at(-1)!.items
    expect(items.map((item) => item.data)).toEqual([new Uint8Array([1, 2, 3]).buffer, 'text'])
    expect(client.outbox.items()).toHaveLength(3)
    client.dispose()
  })

  it('stores sending items as queued, keeping their attempts', async () => {
    const adapter = memoryAdapter()
    const { client } = setup({ outbox: { storage: outboxStorage(adapter) } })
    open()
    const id = client.send('hello')
    expect(client.outbox.items()[0]).toMatchObject({ id, state: 'sending', attempts: 1 })
    await settle()
    expect(adapter.saves.at(-1)).toEqual({
      v: 1,
      session: null,
      items: [{ id, data: 'hello', bytes: 5, state: 'queued', attempts: 1, createdAt: Date.now(), expiresAt: null }],
    })
    client.dispose()
  })

  it('coalesces a burst of changes into one save of the final state', async () => {
    const adapter = memoryAdapter()
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    await settle()
    const before = adapter.saves.length
    for (let index = 0; index < 200; index++) client.send(`m${index}`)
    client.outbox.discard(ids(client)[0])
    await settle()
    expect(adapter.saves.length - before).toBe(1)
    expect(adapter.saves.at(-1)!.items).toHaveLength(199)
    client.dispose()
  })

  it('keeps one save in flight and then saves the newest state once', async () => {
    const pending: Deferred<void>[] = []
    let inFlight = 0
    let mostInFlight = 0
    const adapter = memoryAdapter(undefined, () => {
      const save = deferred<void>()
      pending.push(save)
      mostInFlight = Math.max(mostInFlight, ++inFlight)
      return save.promise.finally(() => inFlight--)
    })
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    client.send('a')
    await settle()
    expect(adapter.saves.map((save) => save.items.map((item) => item.data))).toEqual([['a']])
    client.send('b')
    await settle()
    client.send('c')
    await settle()
    expect(adapter.saves).toHaveLength(1)
    pending[0]!.resolve()
    await settle()
    expect(adapter.saves.map((save) => save.items.map((item) => item.data))).toEqual([['a'], ['a', 'b', 'c']])
    pending[1]!.resolve()
    await settle()
    expect(adapter.saves).toHaveLength(2)
    expect(mostInFlight).toBe(1)
    client.dispose()
  })

  it('goes on saving after a save failed, and records STORAGE_ERROR', async () => {
    let fail = true
    const adapter = memoryAdapter(undefined, () => {
      if (fail) throw new Error('quota')
    })
    const { client, errors } = setup({ outbox: { storage: outboxStorage(adapter) } })
    open()
    client.send('a')
    await settle()
    expect(errors.map((error) => error.code)).toEqual(['STORAGE_ERROR'])
    expect(client.getSnapshot().lastError?.code).toBe('STORAGE_ERROR')
    fail = false
    client.send('b')
    await settle()
    expect(adapter.saves.at(-1)!.items.map((item) => item.data)).toEqual(['a', 'b'])
    client.dispose()
  })

  it('does not save before the load finished (the stored items would be overwritten)', async () => {
    const load = deferred<PersistedOutbox>()
    const adapter = memoryAdapter(() => load.promise)
    const { client } = started({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    client.send('new')
    await settle()
    expect(adapter.saves).toEqual([])
    load.resolve(stored([{}]))
    await settle()
    expect(adapter.saves.at(-1)!.items.map((item) => item.data)).toEqual(['stored 1', 'new'])
    client.dispose()
  })

  it('refuses one storage for two live clients, and hands it to the next once the first is disposed', () => {
    const storage = outboxStorage(memoryAdapter(() => stored([{}])))
    const first = started({ autoConnect: false, outbox: { storage } }).client
    const second = setup({ autoConnect: false, outbox: { storage } }).client
    // Created is not started: only connecting (or sending) claims the storage.
    expect(() => second.connect()).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR' }))
    first.dispose()
    second.dispose()
    const third = started({ autoConnect: false, outbox: { storage } }).client
    expect(ids(third)).toEqual(['old-1'])
    third.dispose()
  })

  it('a client created and never started does not load the storage', () => {
    let loads = 0
    const adapter = memoryAdapter(() => {
      loads++
      return stored([{}])
    })
    const { client } = setup({ autoConnect: false, outbox: { storage: outboxStorage(adapter) } })
    expect(loads).toBe(0)
    client.send('new')
    expect(ids(client)[0]).toBe('old-1')
    client.dispose()
  })
})

describe('outbox storage: session and token', () => {
  it('stores the session id and resumes it in hello after a reload; drops it when the session expires', async () => {
    const adapter = memoryAdapter()
    const first = setup({ protocol: lifelineProtocol(), outbox: { storage: outboxStorage(adapter) } })
    open('s-abc')
    await settle()
    expect(adapter.saves.at(-1)!.session).toBe('s-abc')
    first.client.dispose()

    const reloaded = setup({
      protocol: lifelineProtocol(),
      outbox: { storage: outboxStorage(memoryAdapter(() => adapter.saves.at(-1))) },
    })
    const socket = lastSocket()
    socket.serverOpen()
    expect(socket.frames()[0]).toEqual({ type: 'hello', v: 1, session: 's-abc' })
    reloaded.client.dispose()

    const expiring = memoryAdapter(() => stored([], 's-abc'))
    const third = setup({ protocol: lifelineProtocol(), outbox: { storage: outboxStorage(expiring) } })
    open('s-abc')
    lastSocket().serverClose(4003, 'expired')
    await settle()
    expect(expiring.saves.at(-1)!.session).toBeNull()
    third.client.dispose()
  })

  it('never stores the token', async () => {
    const token = 'SECRET-token-1234'
    const adapter = memoryAdapter()
    const { client } = setup({
      protocol: lifelineProtocol(),
      getToken: () => token,
      outbox: { storage: outboxStorage(adapter) },
    })
    await settle()
    const socket = open('s-1')
    // The token was in hand: it went out in hello.
    expect(socket.frames()[0]).toMatchObject({ type: 'hello', token })
    const protocol = lifelineProtocolOf(client)
    const refused = protocol.publish('room', { text: 'one' })
    protocol.publish('room', { text: 'two' })
    socket.serverMessage({ type: 'nack', id: refused, code: 'FORBIDDEN', reason: 'no' })
    await settle()
    socket.serverClose(4001, 'token refused')
    await settle()
    open('s-2')
    await settle()
    expect(adapter.saves.length).toBeGreaterThan(1)
    for (const saved of adapter.saves) {
      expect(JSON.stringify(saved)).not.toContain(token)
    }
    client.dispose()
  })
})

describe('outbox storage: load failures', () => {
  it.each([
    [
      'throws',
      () => {
        throw new Error('disk on fire')
      },
    ],
    ['rejects', () => Promise.reject(new Error('disk on fire'))],
  ])('records STORAGE_ERROR when load %s, and the outbox works in memory', async (_, load) => {
    const adapter = memoryAdapter(load)
    const { client, errors } = setup({ outbox: { storage: outboxStorage(adapter) } })
    await settle()
    expect(errors.map((error) => error.code)).toEqual(['STORAGE_ERROR'])
    expect(client.getSnapshot().lastError?.code).toBe('STORAGE_ERROR')
    const socket = open()
    client.send('still works')
    expect(socket.sent).toEqual(['still works'])
    await settle()
    expect(adapter.saves.at(-1)!.items.map((item) => item.data)).toEqual(['still works'])
    client.dispose()
  })
})

/** A `Storage` over a Map, recording calls. */
class MemoryStorage implements Storage {
  readonly map = new Map<string, string>()
  readonly calls: string[] = []
  get length(): number {
    return this.map.size
  }
  clear(): void {
    this.map.clear()
  }
  getItem(key: string): string | null {
    this.calls.push(`get ${key}`)
    return this.map.get(key) ?? null
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null
  }
  removeItem(key: string): void {
    this.calls.push(`remove ${key}`)
    this.map.delete(key)
  }
  setItem(key: string, value: string): void {
    this.calls.push(`set ${key}`)
    this.map.set(key, String(value))
  }
}

describe('localStorageOutbox', () => {
  it('round-trips text and binary items through a Storage, and removes the key when empty', async () => {
    const storage = new MemoryStorage()
    const first = started({ autoConnect: false, outbox: { storage: localStorageOutbox('chat', { storage }) } })
    const textId = first.client.send('héllo')
    const binaryId = first.client.send(new Uint8Array([0, 1, 2, 254, 255]))
    await settle()
    const raw = JSON.parse(storage.map.get('chat')!) as { v: number; items: { data: unknown }[] }
    expect(raw.v).toBe(1)
    expect(raw.items.map((item) => item.data)).toEqual(['héllo', { b64: 'AAEC/v8=' }])
    first.client.dispose()

    const second = started({ autoConnect: false, outbox: { storage: localStorageOutbox('chat', { storage }) } })
    const [text, binary] = second.client.outbox.items()
    expect(text).toMatchObject({ id: textId, data: 'héllo', bytes: 6 })
    expect(binary).toMatchObject({ id: binaryId, bytes: 5 })
    expect(binary!.data).toBeInstanceOf(ArrayBuffer)
    expect([...new Uint8Array(binary!.data as ArrayBuffer)]).toEqual([0, 1, 2, 254, 255])
    second.client.outbox.discard()
    await settle()
    expect(storage.calls.at(-1)).toBe('remove chat')
    expect(storage.map.has('chat')).toBe(false)
    second.client.dispose()
  })

  it('keeps the key while a session is stored', async () => {
    const storage = new MemoryStorage()
    const { client } = setup({
      protocol: lifelineProtocol(),
      outbox: { storage: localStorageOutbox('chat', { storage }) },
    })
    open('s-keep')
    await settle()
    expect(JSON.parse(storage.map.get('chat')!)).toEqual({ v: 1, session: 's-keep', items: [] })
    client.dispose()
  })

  it('skips one undecodable binary item and keeps the others', () => {
    const storage = new MemoryStorage()
    const items = [
      { ...stored([{}]).items[0], id: 'bad', data: { b64: '%%% not base64 %%%' } },
      null,
      { ...stored([{}]).items[0], id: 'good' },
    ]
    storage.map.set('chat', JSON.stringify({ v: 1, session: null, items }))
    const { client, errors } = started({
      autoConnect: false,
      outbox: { storage: localStorageOutbox('chat', { storage }) },
    })
    expect(ids(client)).toEqual(['good'])
    expect(errors).toEqual([])
    client.dispose()
  })

  it.each(['null', '42', '{"v":1}', '{"v":1,"items":"x"}'])(
    'ignores the stored JSON %s without an error',
    async (text) => {
      const storage = new MemoryStorage()
      storage.map.set('chat', text)
      const { client, errors } = setup({ outbox: { storage: localStorageOutbox('chat', { storage }) } })
      await settle()
      expect(client.outbox.items()).toEqual([])
      expect(errors).toEqual([])
      client.dispose()
    },
  )

  it('records STORAGE_ERROR for text that is not JSON, and without any localStorage', async () => {
    const storage = new MemoryStorage()
    storage.map.set('chat', '{"v":1,')
    const broken = setup({ outbox: { storage: localStorageOutbox('chat', { storage }) } })
    expect(typeof localStorage).toBe('undefined')
    const missing = setup({ outbox: { storage: localStorageOutbox('chat') } })
    await settle()
    expect(broken.errors.map((error) => error.code)).toEqual(['STORAGE_ERROR'])
    expect(missing.errors.map((error) => error.code)).toEqual(['STORAGE_ERROR'])
    broken.client.dispose()
    missing.client.dispose()
  })
})

function lifelineProtocolOf(client: LifelineClient) {
  return client.protocol as ReturnType<typeof lifelineProtocol>
}
