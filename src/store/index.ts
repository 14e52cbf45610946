export { getConnectionStore, idleSnapshot } from './connection-store'
export { createMessageStore } from './message-store'
export type { MessageStore } from './message-store'
export { createFrameScheduler } from './frame-batcher'
