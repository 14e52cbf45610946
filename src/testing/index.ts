export { createFaultProxy, FaultProxyError } from './fault-proxy'
export type {
  FaultProxy,
  FaultProxyErrorCode,
  FaultProxyFaults,
  FaultProxyOptions,
  FaultProxyStats,
  FaultProxyTargetAddress,
  WebSocketBlock,
} from './fault-proxy'
export { createEchoServer, EchoServerError } from './echo-server'
export type {
  EchoServer,
  EchoServerConnection,
  EchoServerErrorCode,
  EchoServerMessage,
  EchoServerOptions,
  EchoServerPong,
} from './echo-server'
export { createTestServer, TestServerError } from './test-server'
export type {
  TestServer,
  TestServerClientSelector,
  TestServerErrorCode,
  TestServerOptions,
  TestServerPublish,
  TestServerRestartOptions,
} from './test-server'
export { createFakeClock, createFakeWebSocket, FakeClockError, FakeWebSocketError } from './fakes'
export type {
  FakeClock,
  FakeClockErrorCode,
  FakeClockOptions,
  FakeClockRunAllOptions,
  FakeCloseCall,
  FakeFrame,
  FakeSocket,
  FakeWebSocket,
  FakeWebSocketErrorCode,
  FakeWelcome,
} from './fakes'
