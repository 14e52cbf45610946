import { cleanup } from '@testing-library/react'
import { afterEach, beforeEach, expect, vi } from 'vitest'
import { WebSocket as NodeWebSocket } from 'ws'
import type { WebSocketConstructor } from '../../src/core'
import { createEchoServer, type EchoServer } from '../../src/testing'

/** What {@link setUpEchoHarness} gives each test. */
export interface EchoHarness {
  /** A fresh echo server for the test. */
  readonly server: EchoServer
  /** `ws`'s client, counting every socket the library constructs. Pass as `environment.WebSocket`. */
  readonly WebSocket: WebSocketConstructor
  /** Sockets constructed in this test. */
  readonly constructed: number
}

/**
 * The hooks of a React test file on a real echo server: a server per test, the socket count reset, and no
 * `console.error` (React's warnings included) allowed; rendered trees are cleaned up before the server closes.
 */
export function setUpEchoHarness(): EchoHarness {
  let server: EchoServer | null = null
  let constructed = 0
  const errors: unknown[] = []
  class CountingWebSocket extends NodeWebSocket {
    constructor(...args: ConstructorParameters<typeof NodeWebSocket>) {
      super(...args)
      constructed++
    }
  }
  beforeEach(async () => {
    server = await createEchoServer()
    constructed = 0
    errors.length = 0
    vi.spyOn(console, 'error').mockImplementation((...args) => errors.push(args))
  })
  afterEach(async () => {
    cleanup()
    await server?.close()
    vi.restoreAllMocks()
    expect(errors).toEqual([])
  })
  return {
    get server() {
      if (!server) throw new Error('the echo server starts in beforeEach')
      return server
    },
    WebSocket: CountingWebSocket as unknown as WebSocketConstructor,
    get constructed() {
      return constructed
    },
  }
}
