export { createFaultProxy, FaultProxyError } from './fault-proxy'
export type {
  FaultProxy,
  FaultProxyErrorCode,
  FaultProxyFaults,
  FaultProxyOptions,
  FaultProxyStats,
  FaultProxyTarget,
  FaultProxyTargetAddress,
  WebSocketBlock,
} from './fault-proxy'
export type { FaultProxyUpstream } from './upstreams'
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
// The browser-safe fakes (also their own entry, react-lifeline/testing/fakes).
export * from './fakes'
export { replayTrace, ReplayError } from './replay'
