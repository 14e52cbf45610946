export { createLifelineServer } from './server'
export type { LifelineConnectionInfo, LifelineServer, LifelineServerStats } from './server'
export type {
  AuthorizeRequest,
  AuthRequest,
  LifelineServerOptions,
  LongPollOptions,
  Principal,
  PublishedEvent,
  RateLimitOptions,
  ResumeOptions,
  ServerHeartbeatOptions,
  ServerLogger,
  SseOptions,
} from './options'
export type {
  Broker,
  BrokerCluster,
  BrokerHealth,
  BrokerHistory,
  BrokerListener,
  BrokerMessage,
  DedupeClaim,
  NodeRelay,
  PublishDedupe,
  RelayListener,
  SessionStore,
  StoredSession,
} from './broker'
export { createMemoryBroker } from './memory-broker'
export type { MemoryBrokerOptions } from './memory-broker'
export { LifelineServerError } from './errors'
export type { LifelineServerErrorCode } from './errors'
