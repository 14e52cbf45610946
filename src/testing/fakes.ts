// The browser-safe part of the testing kit (`react-lifeline/testing/fakes`): no `ws`, no node:* modules, so it loads
// in jsdom, happy-dom and real browsers. `react-lifeline/testing` re-exports it beside the Node-only servers.
export { createFakeClock, FakeClockError } from './fake-clock'
export type { FakeClock, FakeClockErrorCode, FakeClockOptions, FakeClockRunAllOptions } from './fake-clock'
export { createFakeWebSocket, FakeWebSocketError } from './fake-websocket'
export type {
  FakeCloseCall,
  FakeFrame,
  FakeSocket,
  FakeWebSocket,
  FakeWebSocketErrorCode,
  FakeWelcome,
} from './fake-websocket'
