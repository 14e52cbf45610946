'use client'
import {
  createElement,
  forwardRef,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
  type ComponentPropsWithoutRef,
  type ComponentRef,
  type Context,
  type CSSProperties,
  type ForwardRefExoticComponent,
  type SyntheticEvent,
  type RefAttributes,
} from 'react'
import { lifelineError, type ConnectionSnapshot, type LifelineClient } from '../core'
import { useOptionalLifelineClient } from '../react'
import { useHoldClaim, type Claim } from './claims'

/** The elements parts render. */
type Tag = 'p' | 'span' | 'button' | 'progress' | 'details' | 'summary'

/** A part: one element of its tag, ref forwarded, every prop of that element accepted and spread. */
export type Part<T extends Tag> = ForwardRefExoticComponent<
  ComponentPropsWithoutRef<T> & RefAttributes<ComponentRef<T>>
>

/**
 * What a part renders by default: props placed before the user's (so the user's win) and `children` used when the
 * user passes none. Its event handlers (`onClick`, `onToggle`) are composed instead: the user's runs first, then the
 * part's unless the user called `preventDefault()` or the part is `aria-disabled` (it stays focusable, so focus is not
 * lost while an attempt runs).
 */
type Defaults<T extends Tag> = ComponentPropsWithoutRef<T> & Record<`data-${string}`, unknown>

type Handler = (event: SyntheticEvent) => void

/**
 * What every part's context carries: `state`, the `data-state` of its root (or item) and of the part itself (a
 * part's defaults may say otherwise, as `Details` says `open` or `closed`).
 */
export interface Stateful {
  state: string
  /** The client, for a part that holds a claim. */
  client?: LifelineClient | null
}

/** A component or context named by {@link nameParts}. */
interface Named {
  displayName?: string | undefined
}

/**
 * The value of a part's context. Outside its root it throws `PART_OUTSIDE_ROOT`; in development builds its message
 * names both as written in JSX: "<ConnectionBanner.Message> must be used inside <ConnectionBanner.Root>".
 */
export function useRequired<C>(context: Context<C | null>, part: Named): C {
  const value = useContext(context)
  if (value) return value
  // Inline check, so that bundlers drop the names and the sentence from production builds (as they drop the hints).
  throw lifelineError('PART_OUTSIDE_ROOT', process.env.NODE_ENV !== 'production' ? outside(context, part) : undefined)
}

/** The sentence of `PART_OUTSIDE_ROOT`, from the names {@link nameParts} gave the part and its root's context. */
function outside(context: Named, part: Named): string {
  const root = context.displayName ?? ''
  const component = root.slice(0, root.indexOf('.'))
  return `<${part.displayName?.replace(component, component + '.')}> must be used inside <${root}>`
}

/**
 * Makes a part named `name` (its `data-lifeline` attribute) that reads `context` and renders `render(value)`, or
 * nothing when that is `null` or `false`. A `<button>` part is a `type="button"`. With `claims`, the part holds the
 * claim of its own name (`countdown-time`, `banner-retry`) for its client while it renders something (see
 * `claims.ts`).
 */
export function createPart<T extends Tag, C extends Stateful>(
  tag: T,
  name: string,
  context: Context<C | null>,
  render: (value: C) => Defaults<T> | null | false,
  claims?: boolean,
): Part<T> {
  // Anonymous on purpose: in development React names it after the part's displayName (set by `nameParts`), so
  // component stacks say `ConnectionBannerMessage`, not `Part`.
  const part: Part<T> = forwardRef<ComponentRef<T>, ComponentPropsWithoutRef<T>>((props, ref) => {
    const value = useRequired(context, part)
    const defaults = render(value) as Record<string, Handler> | false | null
    useHoldClaim(claims ? value.client : null, name as Claim, !!defaults)
    if (!defaults) return null
    const merged: Record<string, unknown> = {
      type: tag === 'button' ? tag : undefined,
      'data-state': value.state,
      ...defaults,
      'data-lifeline': name,
      ...props,
      ref,
      children: props.children ?? defaults.children,
    }
    for (const key in defaults) {
      const own = defaults[key] as Handler
      const theirs = (props as Record<string, Handler>)[key]
      if (key.startsWith('on')) {
        merged[key] = (event: SyntheticEvent) => {
          theirs?.(event)
          if (!event.defaultPrevented && !defaults['aria-disabled']) own(event)
        }
      }
    }
    return createElement(tag, merged)
  }) as Part<T>
  return part
}

/** The props every root takes: a `<div>`'s, without children (the drop-in supplies them). */
type DivProps = ComponentPropsWithoutRef<'div'>

/** What an empty root is: no box of its own, so it adds no gap or margin to a flex or grid layout around it. */
const boxless: CSSProperties = { display: 'contents' }

/**
 * Makes a component's root: a `<div data-lifeline={name} data-state={value.state}>` providing `context`. `use` reads
 * the root's own props and returns the context value and the props left for the `<div>`. In its `idle` state it has
 * nothing to show: then it is `display: contents` (its visually hidden live regions are absolutely positioned, out of
 * the layout, and stay mounted), unless the user's `style` sets `display`.
 */
export function createRoot<P extends DivProps, C extends Stateful>(
  name: string,
  context: Context<C | null>,
  idle: C['state'],
  use: (props: P) => [value: C, rest: DivProps],
): ForwardRefExoticComponent<P & RefAttributes<HTMLDivElement>> {
  return forwardRef<HTMLDivElement, P>((props, ref) => {
    const [value, rest] = use(props as P)
    const style = value.state == idle ? { ...boxless, ...rest.style } : rest.style
    return createElement(
      context.Provider,
      { value },
      createElement('div', { 'data-lifeline': name, 'data-state': value.state, ...rest, style, ref }),
    )
  }) as ForwardRefExoticComponent<P & RefAttributes<HTMLDivElement>>
}

/**
 * Names a compound component for development builds (call it behind a `process.env.NODE_ENV` check, so production
 * bundles leave the names out): the drop-in `name`, each part `name + key` (`ConnectionBannerMessage` in React
 * DevTools and component stacks, never `ForwardRef`), and each context after the part that provides it
 * (`ConnectionBanner.Root`), for the `PART_OUTSIDE_ROOT` message.
 */
export function nameParts(
  name: string,
  dropIn: Named,
  parts: Readonly<Record<string, Named>>,
  contexts: Readonly<Record<string, Named>>,
): void {
  dropIn.displayName = name
  for (const [key, part] of Object.entries(parts)) part.displayName = name + key
  for (const [key, context] of Object.entries(contexts)) context.displayName = name + '.' + key
}

const noSubscription = () => () => undefined
const noSnapshot = () => null

/**
 * The client (`explicit`, else the nearest provider's) and its snapshot, re-rendering on every change. Both are `null`
 * only while server rendering under a provider that creates its client on mount: the components then render their
 * empty root. In the browser, no client is the `MISSING_PROVIDER` error.
 */
export function useSnapshot(
  explicit: LifelineClient | null | undefined,
): [client: LifelineClient | null, snapshot: ConnectionSnapshot | null] {
  const client = useOptionalLifelineClient(explicit)
  const read = client?.getSnapshot ?? noSnapshot
  return [client, useSyncExternalStore(client?.subscribe ?? noSubscription, read, read)]
}

/** Merges label overrides over defaults, and the `reasons` table key by key. */
export function mergeLabels<L extends { reasons?: Readonly<Record<string, string>> }>(
  defaults: L,
  overrides: Partial<L> | undefined,
): L {
  return { ...defaults, ...overrides, reasons: { ...defaults.reasons, ...overrides?.reasons } }
}

/**
 * Hides an element visually but keeps it in the accessibility tree (with `display: contents` on empty roots, the only
 * inline styles the components use). Absolutely positioned, so it is never a flex or grid item taking a gap.
 */
const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
}

/** Props of a live-region part: the wrapper `<div>`'s own props; its text comes from the component. */
export type AnnouncerProps = Omit<ComponentPropsWithoutRef<'div'>, 'children'>

/** The announcements of a component: polite text, and assertive text for terminal failures only. */
export interface Announcement {
  polite: string
  assertive?: string
}

/**
 * An `Announcer` part: a visually hidden `<div>` holding two live regions (polite `status`, assertive `alert`) that
 * say the context's {@link Announcement}. Both are mounted empty and get their text only after mounting, because
 * screen readers ignore a live region that arrives with its text.
 */
export function createAnnouncer<C extends Stateful & Announcement>(
  name: string,
  context: Context<C | null>,
): ForwardRefExoticComponent<AnnouncerProps & RefAttributes<HTMLDivElement>> {
  const part = forwardRef<HTMLDivElement, AnnouncerProps>(({ style, ...rest }, ref) => {
    const value = useRequired(context, part)
    const { polite, assertive = '' } = value
    const [text, setText] = useState(['', ''])
    useEffect(() => setText([polite, assertive]), [polite, assertive])
    return (
      <div ref={ref} data-lifeline={name} data-state={value.state} {...rest} style={{ ...visuallyHidden, ...style }}>
        <div role="status" aria-live="polite" aria-atomic="true">
          {text[0]}
        </div>
        <div role="alert" aria-live="assertive" aria-atomic="true">
          {text[1]}
        </div>
      </div>
    )
  })
  return part
}
