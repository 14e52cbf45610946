// The root entry: what an app uses. The hooks, the components, createLifeline, the plug-ins a user calls, the errors
// to catch and the types that appear in their signatures. Machine internals, host contracts for plug-in authors, the
// channel registry, JSON and redaction helpers and the wire constants are in `react-lifeline/core`.

// Client
export { createLifeline } from './core'
export type { ClientEvents, ClientResources, LifelineClient, OutboxControls } from './core'
export type { HeartbeatOptions, LifelineOptions } from './core'
export type { BackoffContext, BackoffFn, BackoffOption } from './core'
export { defaultCloseCodes } from './core'
export type { CloseCodeTable } from './core'
export type {
  CloseAction,
  CloseInfo,
  CloseMeaning,
  CloseRule,
  ConnectionSnapshot,
  ConnectionStatus,
  InboundData,
  InboundMessage,
  OutboundData,
  OutboxStats,
  TransportKind,
} from './core'
export type { OutboxItem, OutboxItemState, OutboxOptions } from './core'
export type {
  Clock,
  Environment,
  PageLocation,
  SignalSource,
  Timers,
  WebSocketConstructor,
  WebSocketLike,
} from './core'
export type { Logger } from './core'
export type { StreamPosition } from './core'

// Errors
export {
  InsecureTransportError,
  InvalidMessageError,
  InvalidOptionsError,
  InvalidUrlError,
  LifelineError,
  MessageTooLargeError,
  QueueFullError,
} from './core'
export type { LifelineErrorCode, OptionIssue } from './core'
export type { DiagnoseEnvironment, Diagnosis, DiagnosisKind, HandshakeError } from './core'

// Plug-ins
export { rawProtocol } from './core'
export type { Protocol, RawProtocolOptions } from './core'
export { isChannelName, lifelineProtocol } from './core'
export type { LifelineProtocol, LifelineProtocolOptions } from './core'
export type { ChannelGap, ChannelListener, ChannelMessage, ChannelStatus, GapReason } from './core'
export { longPollFallback } from './core'
export { eventSource } from './core'
export type { EventSourceOptions, TransportPlugin } from './core'
export type { LongPollFallbackOptions, TransportFallback } from './core'
export { indexedDbOutbox, localStorageOutbox } from './core'
export type { StorageAdapterOptions } from './core'
export { outboxStorage } from './core'
export type { OutboxStorage, OutboxStorageAdapter, PersistedItem, PersistedOutbox } from './core'

// React
export * from './react'
export * from './components'
