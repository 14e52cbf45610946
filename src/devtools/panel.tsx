'use client'
import {
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
  type PointerEvent,
  type ReactNode,
} from 'react'
import type { LifelineClient } from '../core'
import { LifelineContext } from '../react'
import { ActionsTab, downloadTrace } from './actions-tab'
import { FramesTab } from './frames-tab'
import { ChannelsTab, OutboxTab } from './outbox-tab'
import { createRecorder, type Recorder, type RecorderState } from './recorder'
import { ShadowPortal } from './shadow'
import { TimelineTab } from './timeline-tab'
import type { DevtoolsTrace } from './trace-format'
import type { LifelineDevtoolsProps } from './types'

const TABS = ['Timeline', 'Frames', 'Outbox', 'Channels', 'Actions'] as const
type Tab = (typeof TABS)[number]
const DEFAULT_BACKOFF = { minDelayMs: 500, maxDelayMs: 30_000 }
const MIN_HEIGHT = 120

/** Props of the panel: those of `LifelineDevtools`, plus where an exported trace goes. */
export interface LifelineDevtoolsPanelProps extends LifelineDevtoolsProps {
  /** Receives the exported trace instead of the default download. @default a JSON file download */
  onExport?: ((trace: DevtoolsTrace) => void) | undefined
}

function useRecorder(
  client: LifelineClient | null,
  options: Pick<LifelineDevtoolsPanelProps, 'now' | 'maxFrames' | 'showPayloads' | 'backoff'>,
): Recorder | null {
  const [recorder, setRecorder] = useState<Recorder | null>(null)
  const { now, maxFrames, showPayloads, backoff } = options
  const minDelayMs = backoff?.minDelayMs ?? DEFAULT_BACKOFF.minDelayMs
  const maxDelayMs = backoff?.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs
  useEffect(() => {
    if (!client) return
    const created = createRecorder(client, { now, maxFrames, showPayloads, backoff: { minDelayMs, maxDelayMs } })
    setRecorder(created)
    return () => {
      created.dispose()
      setRecorder((current) => (current === created ? null : current))
    }
  }, [client, now, maxFrames, showPayloads, minDelayMs, maxDelayMs])
  return recorder
}

const noState = (): RecorderState | null => null
const noSubscribe = () => () => undefined

/**
 * The devtools panel for one client: a toggle button and a resizable panel with the timeline, frames, outbox,
 * channels and actions, rendered in a shadow root. Loaded lazily by `LifelineDevtools` in development.
 */
export function LifelineDevtoolsPanel(props: LifelineDevtoolsPanelProps): ReactNode {
  const shared = useContext(LifelineContext)
  const client = props.client ?? shared
  const recorder = useRecorder(client, props)
  const state = useSyncExternalStore(
    recorder?.subscribe ?? noSubscribe,
    recorder?.getState ?? noState,
    recorder?.getState ?? noState,
  )
  const [open, setOpen] = useState(props.initialIsOpen ?? false)
  const [tab, setTab] = useState<Tab>('Timeline')
  const [height, setHeight] = useState(320)
  const toggleRef = useRef<HTMLButtonElement>(null)
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>())
  const id = useId()
  const panelId = `${id}-panel`
  const backoff = props.backoff ?? DEFAULT_BACKOFF
  const { onExport } = props

  /** Where focus goes after the next open/close: the panel's selected tab, or the toggle button. */
  const moveFocus = useRef(false)
  const close = useCallback(() => {
    moveFocus.current = true
    setOpen(false)
  }, [])
  useEffect(() => {
    if (!moveFocus.current) return
    moveFocus.current = false
    if (open) tabRefs.current.get(tab)?.focus()
    else toggleRef.current?.focus()
  }, [open, tab])
  // Docked at the bottom, the open panel would cover the page's last `height` pixels (its buttons included): reserve
  // them as padding of the element it is rendered into, as long as it is open, so everything can scroll above it.
  const { container } = props
  useEffect(() => {
    if (!open || !client) return
    const target = container ?? document.body
    const before = target.style.paddingBottom
    target.style.paddingBottom = `${String(height)}px`
    return () => {
      target.style.paddingBottom = before
    }
  }, [open, client, height, container])
  const exportTrace = useCallback(() => {
    if (!recorder) return
    const trace = recorder.exportTrace()
    if (onExport) onExport(trace)
    else downloadTrace(trace)
  }, [recorder, onExport])

  if (!client || !state) return null

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.indexOf(tab)
    const next =
      event.key === 'ArrowRight'
        ? TABS[(index + 1) % TABS.length]
        : event.key === 'ArrowLeft'
          ? TABS[(index - 1 + TABS.length) % TABS.length]
          : event.key === 'Home'
            ? TABS[0]
            : event.key === 'End'
              ? TABS[TABS.length - 1]
              : undefined
    if (!next) return
    event.preventDefault()
    setTab(next)
    tabRefs.current.get(next)?.focus()
  }
  const onPanelKey = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation()
      close()
    }
  }
  const onResizeKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const delta = event.key === 'ArrowUp' ? 20 : event.key === 'ArrowDown' ? -20 : 0
    if (delta === 0) return
    event.preventDefault()
    setHeight((current) => Math.max(MIN_HEIGHT, current + delta))
  }
  const onResizeDown = (event: PointerEvent<HTMLDivElement>) => {
    const startY = event.clientY
    const startHeight = height
    const move = (moved: globalThis.PointerEvent) =>
      setHeight(Math.max(MIN_HEIGHT, Math.min(window.innerHeight * 0.95, startHeight + startY - moved.clientY)))
    const up = () => {
      window.removeEventListener('pointermove', move)
      window.removeEventListener('pointerup', up)
    }
    window.addEventListener('pointermove', move)
    window.addEventListener('pointerup', up)
  }

  const status = state.snapshot.status
  const position = props.position ?? 'bottom-right'
  return (
    <ShadowPortal container={props.container}>
      <div className="ld-root" data-theme={props.theme ?? 'system'} data-lifeline="devtools">
        {open ? (
          <section
            id={panelId}
            className="ld-panel"
            aria-label="Lifeline devtools"
            style={{ height }}
            onKeyDown={onPanelKey}
            data-state="open"
          >
            <div
              className="ld-resize"
              role="separator"
              aria-orientation="horizontal"
              aria-label="Resize the devtools panel"
              aria-valuemin={MIN_HEIGHT}
              aria-valuemax={2000}
              aria-valuenow={height}
              tabIndex={0}
              onKeyDown={onResizeKey}
              onPointerDown={onResizeDown}
            />
            <div className="ld-header">
              <h2 className="ld-title">Lifeline</h2>
              <span className="ld-summary" data-status={status}>
                {status} · {state.snapshot.transport ?? 'no transport'} · attempt {state.snapshot.attempt}
              </span>
              <div className="ld-tabs" role="tablist" aria-label="Devtools sections">
                {TABS.map((name) => (
                  <button
                    key={name}
                    ref={(element) => {
                      if (element) tabRefs.current.set(name, element)
                      else tabRefs.current.delete(name)
                    }}
                    type="button"
                    role="tab"
                    id={`${id}-tab-${name}`}
                    className="ld-tab"
                    aria-selected={tab === name}
                    aria-controls={`${id}-tabpanel`}
                    tabIndex={tab === name ? 0 : -1}
                    onClick={() => setTab(name)}
                    onKeyDown={onTabKey}
                  >
                    {name}
                  </button>
                ))}
              </div>
              <button type="button" className="ld-btn" aria-label="Close the devtools" onClick={close}>
                ×
              </button>
            </div>
            <div
              className="ld-body"
              role="tabpanel"
              id={`${id}-tabpanel`}
              aria-labelledby={`${id}-tab-${tab}`}
              tabIndex={0}
              data-tab={tab}
            >
              {tab === 'Timeline' ? <TimelineTab state={state} backoff={backoff} /> : null}
              {tab === 'Frames' ? (
                <FramesTab
                  state={state}
                  showPayloads={props.showPayloads ?? false}
                  onPause={(paused) => recorder?.setPaused(paused)}
                  onClear={() => recorder?.clearFrames()}
                />
              ) : null}
              {tab === 'Outbox' ? <OutboxTab state={state} client={client} /> : null}
              {tab === 'Channels' ? <ChannelsTab state={state} protocol={client.protocol.name} /> : null}
              {tab === 'Actions' ? <ActionsTab client={client} onExport={exportTrace} /> : null}
            </div>
          </section>
        ) : (
          <button
            ref={toggleRef}
            type="button"
            className="ld-toggle"
            data-position={position}
            aria-expanded={false}
            aria-label={`Open the Lifeline devtools (status: ${status})`}
            onClick={() => {
              moveFocus.current = true
              setOpen(true)
            }}
          >
            <span className="ld-dot" data-status={status} aria-hidden="true" />
            Lifeline
          </button>
        )}
      </div>
    </ShadowPortal>
  )
}
