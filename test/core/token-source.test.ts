import { describe, expect, it, vi } from 'vitest'
import { createTokenSource } from '../../src/core/token-source'

/** Resolves after every pending microtask has run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

describe('createTokenSource', () => {
  it('starts without a token and keeps the one fetched', async () => {
    const source = createTokenSource(() => 'abc')
    expect(source.current).toBeNull()
    const done = vi.fn()
    source.fetch(done, vi.fn())
    await settle()
    expect(done).toHaveBeenCalledOnce()
    expect(source.current).toBe('abc')
    expect(source.fetched).toBe(1)
  })

  it('shares one getToken() call between concurrent fetches (single-flight)', async () => {
    let resolve: (value: string) => void = () => undefined
    const getToken = vi.fn(() => new Promise<string>((r) => (resolve = r)))
    const source = createTokenSource(getToken)
    const first = vi.fn()
    const second = vi.fn()
    source.fetch(first, vi.fn())
    source.fetch(second, vi.fn())
    await settle()
    resolve('t1')
    await settle()
    expect(getToken).toHaveBeenCalledOnce()
    expect(first).toHaveBeenCalledOnce()
    expect(second).toHaveBeenCalledOnce()
    expect(source.current).toBe('t1')
  })

  it('asks again once the shared call settled', async () => {
    let count = 0
    const source = createTokenSource(() => `t${++count}`)
    source.fetch(vi.fn(), vi.fn())
    await settle()
    source.invalidate()
    expect(source.current).toBeNull()
    source.fetch(vi.fn(), vi.fn())
    await settle()
    expect(source.current).toBe('t2')
    expect(source.fetched).toBe(2)
  })

  it('abandon() stops sharing a call that never settles', async () => {
    const getToken = vi.fn((): Promise<string> =>
      getToken.mock.calls.length === 1 ? new Promise(() => undefined) : Promise.resolve('late'),
    )
    const source = createTokenSource(getToken)
    source.fetch(vi.fn(), vi.fn())
    await settle()
    source.abandon()
    const done = vi.fn()
    source.fetch(done, vi.fn())
    await settle()
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(done).toHaveBeenCalledOnce()
    expect(source.current).toBe('late')
  })

  it.each([
    ['throws', () => Promise.reject(new Error('nope')), 'nope'],
    ['returns an empty string', () => '', 'getToken() returned string'],
    ['returns a non-string', () => 42 as unknown as string, 'getToken() returned number'],
  ])('reports a getToken() that %s, keeping no token', async (_name, getToken, message) => {
    const source = createTokenSource(getToken)
    const failed = vi.fn()
    source.fetch(vi.fn(), failed)
    await settle()
    expect(failed).toHaveBeenCalledOnce()
    expect((failed.mock.calls[0]![0] as Error).message).toBe(message)
    expect(source.current).toBeNull()
    expect(source.fetched).toBe(0)
  })
})
