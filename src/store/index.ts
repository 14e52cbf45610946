export { getConnectionStore, idleSnapshot } from './connection-store'
export { createMessageStore } from './message-store'
export type { MessageStore } from './message-store'
export { createFrameScheduler } from './frame-batcher'
export { createChannelStore } from './channel-store'
export type {
  ChannelState,
  ChannelStore,
  ChannelStoreOptions,
  ChannelSubscriptionState,
  ChannelViewStatus,
  ConnectionSource,
} from './channel-store'
