'use client'
import { createElement, lazy, Suspense, type ComponentType, type ReactNode } from 'react'
import type { LifelineDevtoolsPanelProps } from './panel'

type PanelModule = typeof import('./panel')

export type { LifelineDevtoolsPanelProps } from './panel'
export type { DevtoolsHooks, LifelineDevtoolsProps } from './types'
export type {
  DevtoolsTrace,
  FrameRecord,
  TimelineEntry,
  TraceClose,
  TraceError,
  TraceItem,
  TraceSnapshot,
  TraceStep,
  TransitionCause,
} from './trace-format'

/** The development component: the panel is its own chunk, loaded on first render. */
function developmentDevtools(load: () => Promise<PanelModule>): ComponentType<LifelineDevtoolsPanelProps> {
  const Panel = lazy(() => load().then((module) => ({ default: module.LifelineDevtoolsPanel })))
  return function LifelineDevtools(props: LifelineDevtoolsPanelProps): ReactNode {
    return createElement(Suspense, { fallback: null }, createElement(Panel, props))
  }
}

/**
 * A floating devtools panel for a lifeline client (the provider's, or `client`): status timeline with causes,
 * reconnect and heartbeat charts, frames, outbox, channels, actions and trace export.
 *
 * Renders nothing and adds no code to a production build (`process.env.NODE_ENV === 'production'`); in development
 * the panel loads on first render.
 *
 * @example <LifelineProvider url={url}><App /><LifelineDevtools /></LifelineProvider>
 */
export const LifelineDevtools: ComponentType<LifelineDevtoolsPanelProps> =
  process.env.NODE_ENV === 'production'
    ? () => null
    : // The import() sits in the branch a production build folds away, so bundlers never emit the panel's chunk.
      developmentDevtools(() => import('./panel'))
