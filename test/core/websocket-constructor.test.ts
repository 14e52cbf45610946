import { WebSocket as NodeWebSocket } from 'ws'
import type { WebSocketConstructor } from '../../src/core'

// Checked by tsc (`npm run typecheck`, and the README snippets in test/readme): both constructors fit as they are.
describe('WebSocketConstructor', () => {
  it("takes ws's WebSocket (with @types/ws) and the browser's without a cast", () => {
    const node: WebSocketConstructor = NodeWebSocket
    const browser: WebSocketConstructor | undefined = globalThis.WebSocket
    expectTypeOf(NodeWebSocket).toExtend<WebSocketConstructor>()
    expectTypeOf(globalThis.WebSocket).toExtend<WebSocketConstructor>()
    // Not `any`: something that is not a socket constructor is refused.
    // @ts-expect-error a Date is no WebSocket
    const notASocket: WebSocketConstructor = Date
    expect([node, notASocket]).toHaveLength(2)
    expect(browser === undefined || typeof browser === 'function').toBe(true)
  })
})
