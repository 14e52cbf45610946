export { createLifeline } from './client'
export type { ClientEvents, ClientResources, LifelineClient, OutboxControls } from './client'
export type { HeartbeatOptions, LifelineOptions, UrlSource } from './options'
export { computeBackoff, decorrelatedJitter, fullJitter, spreadDelay } from './backoff'
export type { BackoffContext, BackoffFn, BackoffOption } from './backoff'
export { defaultCloseCodes, parseRetryAfter, resolveCloseMeaning, sanitizeCloseReason } from './close-codes'
export type { CloseCodeTable } from './close-codes'
export {
  InsecureTransportError,
  InvalidMessageError,
  InvalidOptionsError,
  InvalidUrlError,
  LifelineError,
  lifelineError,
  MessageTooLargeError,
  QueueFullError,
} from './errors'
export type { LifelineErrorCode, OptionIssue } from './errors'
export { initialMachineState, machine, timerFor, transition } from './machine'
export type {
  Effect,
  MachineConfig,
  MachineEnv,
  MachineEvent,
  MachineEventType,
  MachineState,
  Step,
  TimerSpec,
} from './machine'
export { rawProtocol } from './protocol'
export type { Protocol, ProtocolHost, ProtocolLink, RawProtocolOptions } from './protocol'
export { isChannelName, lifelineProtocol } from './lifeline-protocol'
export type { LifelineProtocol, LifelineProtocolOptions } from './lifeline-protocol'
export { createChannelRegistry } from './channels'
export type {
  ChannelGap,
  ChannelListener,
  ChannelMessage,
  ChannelObserver,
  ChannelRegistry,
  ChannelRegistryHost,
  ChannelStatus,
  GapReason,
} from './channels'
export { OUTBOX_STORAGE_VERSION, outboxStorage } from './persistence'
export type {
  OutboxStorage,
  OutboxStorageAdapter,
  OutboxStorageHost,
  PersistedItem,
  PersistedOutbox,
} from './persistence'
export type { OutboxItem, OutboxItemState, OutboxOptions } from './outbox'
export type {
  Clock,
  Environment,
  PageLocation,
  SignalSource,
  Timers,
  WebSocketConstructor,
  WebSocketLike,
} from './environment'
export type { Logger } from './logger'
export { redact } from './logger'
export { jsonDepth, safeJsonParse } from './json'
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
} from './types'
export { CloseCodes, MAX_JSON_DEPTH, PROTOCOL_VERSION, WireErrorCodes } from './wire'
export type { ClientFrame, ServerFrame, StreamPosition, WireErrorCode } from './wire'
export { indexedDbOutbox, localStorageOutbox } from './storage-adapters'
export type { StorageAdapterOptions } from './storage-adapters'
// Types only: the code loads on first use (a failed handshake), and `react-lifeline/diagnose` exports it for direct use.
// A value export here would put it in every app's first chunk.
export type { DiagnoseEnvironment, Diagnosis, DiagnosisKind, HandshakeError } from './diagnose'
export { longPollFallback } from './fallback'
export { eventSource } from './sse-transport'
export type { AttachedTransport, EventSourceOptions, TransportHost, TransportPlugin } from './sse-transport'
export { createSseParser } from './sse-parser'
export type { SseEvent, SseParser, SseParserHandlers } from './sse-parser'
export { canSimulateFault, simulateFault } from './debug'
export type { SimulatedFault } from './debug'
export type { Fallback, FallbackHost, LongPollFallbackOptions, TransportFallback } from './fallback'
