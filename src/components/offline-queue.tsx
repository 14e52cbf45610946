'use client'
import {
  createContext,
  forwardRef,
  Fragment,
  useId,
  useState,
  type ComponentPropsWithoutRef,
  type ForwardRefExoticComponent,
  type ReactNode,
  type RefAttributes,
  type SyntheticEvent,
} from 'react'
import type { LifelineClient, OutboxItem } from '../core'
import { useOutbox, type UseOutboxResult } from '../react'
import { createAnnouncer, createPart, createRoot, mergeLabels, nameParts, useRequired } from './parts'

/**
 * Whether the outbox holds anything: `empty`, `waiting` (none failed), or `failed`. The `data-state` of the root and
 * every part, except `Details` (`open` or `closed`, as any disclosure) and `Item` with its parts (the item's own state:
 * `queued`, `sending`, `failed`).
 */
export type OfflineQueueState = 'empty' | 'waiting' | 'failed'

/** Every text of {@link OfflineQueue}. Pass any subset as `labels`; the rest stay English. */
export interface OfflineQueueLabels {
  /** Messages queued or sending, with their size. @default (count, size) => `3 messages waiting to send (1.2 kB).` */
  waiting: (count: number, size: string) => string
  /** Failed messages; also announced (politely) when more fail. @default (count) => `1 message could not be sent.` */
  failedCount: (count: number) => string
  /** Accessible name of the list. @default 'Unsent messages' */
  list: string
  /** An item's state `queued`. @default 'Waiting' */
  queued: string
  /** An item's state `sending`. @default 'Sending…' */
  sending: string
  /** An item's state `failed`, given the sentence from `reasons`. @default (reason) => `Failed: ${reason}` */
  failed: (reason: string) => string
  /**
   * Why an item failed, keyed by its error code; `unknown` when not listed. Merged over the defaults key by key.
   * @default { MESSAGE_TOO_LARGE, MESSAGE_REFUSED, MESSAGE_DISCARDED, INVALID_MESSAGE, unknown }
   */
  reasons: Readonly<Record<string, string>>
  /** Preview of a binary message. @default 'Binary data' */
  binary: string
  /** @default 'Retry' */
  retry: string
  /** @default 'Discard' */
  discard: string
  /** @default 'Retry all' */
  retryAll: string
  /** @default 'Discard all' */
  discardAll: string
  /** Formats a size in bytes. @default 512 B, 1.2 kB, 3.4 MB */
  formatBytes: (bytes: number) => string
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`

/** The English labels of {@link OfflineQueue}. */
export const defaultOfflineQueueLabels: OfflineQueueLabels = {
  waiting: (count, size) => `${plural(count, 'message')} waiting to send (${size}).`,
  failedCount: (count) => `${plural(count, 'message')} could not be sent.`,
  list: 'Unsent messages',
  queued: 'Waiting',
  sending: 'Sending…',
  failed: (reason) => `Failed: ${reason}`,
  reasons: {
    MESSAGE_TOO_LARGE: 'too large',
    MESSAGE_REFUSED: 'refused',
    MESSAGE_DISCARDED: 'not confirmed',
    INVALID_MESSAGE: 'invalid',
    unknown: 'not sent',
  },
  binary: 'Binary data',
  retry: 'Retry',
  discard: 'Discard',
  retryAll: 'Retry all',
  discardAll: 'Discard all',
  formatBytes: (bytes) =>
    bytes < 1000 ? `${bytes} B` : bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`,
}

interface QueueContext extends UseOutboxResult {
  state: OfflineQueueState
  labels: OfflineQueueLabels
  formatItem: ((item: OutboxItem, preview: string) => ReactNode) | undefined
  /** Whether the `<details>` is open (the list renders its items only then). */
  open: boolean
  setOpen: (open: boolean) => void
  /** Items queued or sending. */
  pending: readonly OutboxItem[]
  failed: number
  /** What the `Announcer` says: the failed count, when it grows. */
  polite: string
}

/** An item's parts see the queue and their item, and carry its state. */
interface ItemContext extends Omit<QueueContext, 'state'> {
  state: OutboxItem['state']
  item: OutboxItem
  previewId: string
}

const Context = /* @__PURE__ */ createContext<QueueContext | null>(null)
const ItemContext = /* @__PURE__ */ createContext<ItemContext | null>(null)

/** Props of {@link OfflineQueue} and `OfflineQueue.Root` (a `<div>`). */
export interface OfflineQueueProps extends ComponentPropsWithoutRef<'div'> {
  /**
   * The client whose outbox to show, instead of the nearest `LifelineProvider`'s. `null` (what a hook's `client` is before it
   * has one) is the same as none. @default the provider's client
   */
  client?: LifelineClient | null | undefined
  /** Texts, merged over {@link defaultOfflineQueueLabels}. @default {} */
  labels?: Partial<OfflineQueueLabels> | undefined
  /**
   * Whether the list starts shown. To control it, compose the parts and pass `open` and `onToggle` to
   * `OfflineQueue.Details`, as to any `<details>`.
   * @default false
   */
  defaultExpanded?: boolean | undefined
  /**
   * An item's preview, given the item (its `data`, `channel`, `state`, …) and the default preview text. A string is cut
   * to 60 characters like the default; any other node is rendered as it is (the theme cuts it with an ellipsis). It
   * also describes the item's buttons, so keep it short and textual.
   * @example formatItem={(item, preview) => `#${item.channel}: ${preview}`}
   * @default JSON text as words: a string as itself, an object as `key: value, …` (nested values as `{…}` and
   * `[…]`), an array as `a, b, …`; other text as it is; binary data as `labels.binary`
   */
  formatItem?: ((item: OutboxItem, preview: string) => ReactNode) | undefined
}

/**
 * The queue's root: a `<div>` with `data-state` (an {@link OfflineQueueState}), always rendered so its `Announcer`
 * stays mounted; while `empty` the other parts render nothing and the root is `display: contents`.
 */
const Root = /* @__PURE__ */ createRoot(
  'queue',
  Context,
  'empty',
  function useOfflineQueue({ client, labels, defaultExpanded = false, formatItem, ...rest }: OfflineQueueProps) {
    const outbox = useOutbox(client)
    const [open, setOpen] = useState(defaultExpanded)
    const [announced, setAnnounced] = useState(0)
    const pending = outbox.items.filter((item) => item.state !== 'failed')
    const failed = outbox.items.length - pending.length
    if (failed > announced || (!failed && announced)) setAnnounced(failed)
    const state: OfflineQueueState = failed ? 'failed' : pending.length ? 'waiting' : 'empty'
    const merged = mergeLabels(defaultOfflineQueueLabels, labels)
    const value: QueueContext = {
      ...outbox,
      state,
      labels: merged,
      formatItem,
      open,
      setOpen,
      pending,
      failed,
      // The failed count last reached: it only grows (or resets at 0), so retries and discards are not announced.
      polite: announced ? merged.failedCount(announced) : '',
    }
    return [value, rest]
  },
)

/** A visually hidden live region: announces, politely, when more messages fail. */
const Announcer = /* @__PURE__ */ createAnnouncer('queue-announcer', Context)

/**
 * The collapsed summary that opens the list: "3 messages waiting to send (1.2 kB). 1 message could not be sent." (a
 * `<summary>`, the disclosure control of `Details`: keyboard and screen readers handle it natively).
 */
const Summary = /* @__PURE__ */ createPart('summary', 'queue-summary', Context, ({ pending, failed, labels }) => {
  const bytes = pending.reduce((sum, item) => sum + item.bytes, 0)
  const waiting = pending.length ? labels.waiting(pending.length, labels.formatBytes(bytes)) : ''
  return { children: [waiting, failed ? labels.failedCount(failed) : ''].join(' ').trim() }
})

/** Puts every failed item back in the queue (a `<button>`); only rendered when some failed. */
const RetryAllButton = /* @__PURE__ */ createPart(
  'button',
  'queue-retry-all',
  Context,
  ({ failed, retry, labels }) => !!failed && { children: labels.retryAll, onClick: () => retry() },
)

/** Removes every item without sending it (a `<button>`); only rendered when there are items. */
const DiscardAllButton = /* @__PURE__ */ createPart(
  'button',
  'queue-discard-all',
  Context,
  ({ items, discard, labels }) => !!items.length && { children: labels.discardAll, onClick: () => discard() },
)

/** Props of `OfflineQueue.List` (a `<ul>`). */
export interface OfflineQueueListProps extends Omit<ComponentPropsWithoutRef<'ul'>, 'children'> {
  /** Renders one item; use `OfflineQueue.Item` for the `<li>`. @default (item) => <OfflineQueue.Item item={item} /> */
  children?: ((item: OutboxItem) => ReactNode) | undefined
}

/** The messages, oldest first (a `<ul>`, inside `Details`; its items are rendered only while that is open). */
const List: ForwardRefExoticComponent<OfflineQueueListProps & RefAttributes<HTMLUListElement>> =
  /* @__PURE__ */ forwardRef<HTMLUListElement, OfflineQueueListProps>(function OfflineQueueList(
    { children, ...props },
    ref,
  ) {
    const { items, open, labels, state } = useRequired(Context, List)
    return (
      <ul ref={ref} data-lifeline="queue-list" data-state={state} aria-label={labels.list} {...props}>
        {open &&
          items.map((item) =>
            children ? <Fragment key={item.id}>{children(item)}</Fragment> : <Item key={item.id} item={item} />,
          )}
      </ul>
    )
  })

/**
 * The disclosure (a `<details>`, `data-state` open or closed); by default it holds `Summary` and `List`. Rendered only
 * while there are messages.
 */
const Details = /* @__PURE__ */ createPart('details', 'queue-details', Context, ({ items, open, setOpen }) => {
  return (
    !!items.length && {
      open,
      'data-state': open ? 'open' : 'closed',
      onToggle: (event: SyntheticEvent<HTMLDetailsElement>) => setOpen(event.currentTarget.open),
      children: (
        <>
          <Summary />
          <List />
        </>
      ),
    }
  )
})

/** Props of `OfflineQueue.Item` (an `<li>`). */
export interface OfflineQueueItemProps extends ComponentPropsWithoutRef<'li'> {
  /** The outbox item. */
  item: OutboxItem
}

/**
 * One message (an `<li>` with `data-state` queued, sending or failed). Default children: preview, size, state, and
 * retry (when failed) and discard buttons.
 */
const Item: ForwardRefExoticComponent<OfflineQueueItemProps & RefAttributes<HTMLLIElement>> =
  /* @__PURE__ */ forwardRef<HTMLLIElement, OfflineQueueItemProps>(function OfflineQueueItem({ item, ...props }, ref) {
    const previewId = useId()
    return (
      <ItemContext.Provider value={{ ...useRequired(Context, Item), state: item.state, item, previewId }}>
        <li ref={ref} data-lifeline="queue-item" data-state={item.state} {...props}>
          {props.children ?? (
            <>
              <ItemPreview />
              <ItemSize />
              <ItemStatus />
              <ItemRetryButton />
              <ItemDiscardButton />
            </>
          )}
        </li>
      </ItemContext.Provider>
    )
  })

/** Longest preview in characters; longer text ends with `…`. */
const PREVIEW_LENGTH = 60

/**
 * The message as plain text (never parsed as HTML): by default its JSON as words (see `formatItem`), at most 60
 * characters; `formatItem` replaces it. Its id describes the item's buttons.
 */
const ItemPreview = /* @__PURE__ */ createPart(
  'span',
  'queue-preview',
  ItemContext,
  ({ item, previewId, labels, formatItem }) => {
    const preview = typeof item.data === 'string' ? readable(item.data) : labels.binary
    const shown = formatItem ? formatItem(item, preview) : preview
    return { children: typeof shown === 'string' ? truncate(shown) : shown, id: previewId, dir: 'auto' }
  },
)

function truncate(text: string): string {
  // Never cut a surrogate pair in half.
  return text.length > PREVIEW_LENGTH ? text.slice(0, PREVIEW_LENGTH - 1).replace(/[\ud800-\udbff]$/, '') + '…' : text
}

/** Past this, text is shown as it is: parsing a large message on every render of the list is not worth a preview. */
const PARSE_LIMIT = 16_384

/** JSON text as words (`key: value, …`), on one line; any other text as it is. */
function readable(text: string): string {
  const trimmed = text.trim()
  if (trimmed.length > PARSE_LIMIT || !/^[[{"]/.test(trimmed)) return text
  try {
    return words(JSON.parse(trimmed), true).replace(/\s+/g, ' ').trim()
  } catch {
    // Not JSON after all (`{` typed by a user, or a text protocol): the text is its own preview.
    return text
  }
}

/** A JSON value as words; below the top level, objects and arrays are elided. */
function words(value: unknown, top: boolean): string {
  if (value === null || typeof value !== 'object') return String(value)
  const array = Array.isArray(value)
  const entries = Object.entries(value)
  const [open, close] = array ? '[]' : '{}'
  if (!entries.length || !top) return open + (entries.length ? '…' : '') + close
  return entries.map(([key, entry]) => (array ? '' : `${key}: `) + words(entry, false)).join(', ')
}

/** The message's size (a `<span>`). */
const ItemSize = /* @__PURE__ */ createPart('span', 'queue-size', ItemContext, ({ item, labels }) => ({
  children: labels.formatBytes(item.bytes),
}))

/** "Waiting", "Sending…" or "Failed: too large" (a `<span>`). */
const ItemStatus = /* @__PURE__ */ createPart(
  'span',
  'queue-status',
  ItemContext,
  ({ item: { state, error }, labels }) => ({
    children:
      state === 'failed'
        ? labels.failed((error && labels.reasons[error.code]) || labels.reasons.unknown || '')
        : labels[state],
  }),
)

/** Puts a failed item back in the queue (a `<button>` described by the preview); only rendered when it failed. */
const ItemRetryButton = /* @__PURE__ */ createPart(
  'button',
  'queue-item-retry',
  ItemContext,
  ({ item, previewId, retry, labels }) =>
    item.state === 'failed' && {
      children: labels.retry,
      'aria-describedby': previewId,
      onClick: () => retry(item.id),
    },
)

/** Removes the item without sending it (a `<button>` described by the preview). */
const ItemDiscardButton = /* @__PURE__ */ createPart(
  'button',
  'queue-item-discard',
  ItemContext,
  ({ item, previewId, discard, labels }) => ({
    children: labels.discard,
    'aria-describedby': previewId,
    onClick: () => discard(item.id),
  }),
)

/** The drop-in: the root with, in order, `Announcer`, `Details`, `RetryAllButton` and `DiscardAllButton`. */
const DropIn = /* @__PURE__ */ forwardRef<HTMLDivElement, Omit<OfflineQueueProps, 'children'>>((props, ref) => (
  <Root {...props} ref={ref}>
    <Announcer />
    <Details />
    <RetryAllButton />
    <DiscardAllButton />
  </Root>
))

const parts = {
  Root,
  Announcer,
  Details,
  RetryAllButton,
  DiscardAllButton,
  Summary,
  List,
  Item,
  ItemPreview,
  ItemSize,
  ItemStatus,
  ItemRetryButton,
  ItemDiscardButton,
}

/**
 * The outbox for users: a collapsed summary ("3 messages waiting to send (1.2 kB).") that opens the list of messages
 * with their size and state (waiting, sending, failed with the reason), with retry and discard per message and for
 * all. Previews read JSON as words (`formatItem` for your own). Works with no props inside a `LifelineProvider`;
 * compose its parts for your own markup: `Root`, `Announcer`,
 * `Details` (holding `Summary` and `List`), `RetryAllButton`, `DiscardAllButton`, `Item`, `ItemPreview`, `ItemSize`,
 * `ItemStatus`, `ItemRetryButton`, `ItemDiscardButton`.
 * @example <OfflineQueue defaultExpanded labels={{ list: 'Outbox' }} />
 */
export const OfflineQueue = /* @__PURE__ */ Object.assign(DropIn, parts)

if (process.env.NODE_ENV !== 'production')
  nameParts('OfflineQueue', DropIn, parts, { Root: Context, Item: ItemContext })
