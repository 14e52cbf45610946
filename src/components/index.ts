export { ConnectionBanner, defaultConnectionBannerLabels, getConnectionBannerState } from './connection-banner'
export type { ConnectionBannerLabels, ConnectionBannerProps, ConnectionBannerState } from './connection-banner'
export { ReconnectCountdown, defaultReconnectCountdownLabels } from './reconnect-countdown'
export type { ReconnectCountdownLabels, ReconnectCountdownProps, ReconnectCountdownState } from './reconnect-countdown'
export { OfflineQueue, defaultOfflineQueueLabels } from './offline-queue'
export type {
  OfflineQueueItemProps,
  OfflineQueueLabels,
  OfflineQueueListProps,
  OfflineQueueProps,
  OfflineQueueState,
} from './offline-queue'
export { formatDuration, useCountdown } from './use-countdown'
export type { Countdown } from './use-countdown'
export type { Announcement, AnnouncerProps, Part } from './parts'
