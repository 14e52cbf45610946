'use client'
import {
  createElement,
  forwardRef,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
  type ComponentProps,
  type ComponentPropsWithoutRef,
  type ComponentRef,
  type ComponentType,
  type Context,
  type CSSProperties,
  type ForwardRefExoticComponent,
  type SyntheticEvent,
  type RefAttributes,
} from 'react'
import type { ConnectionSnapshot, LifelineClient } from '../core'
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

/** The value of a component's context, or a clear error when a part is used outside its root. */
export function useRequired<C>(context: Context<C | null>): C {
  const value = useContext(context)
  if (!value) throw new Error('react-lifeline: a part is outside its Root')
  return value
}

/**
 * Makes a part named `name` (its `data-lifeline` attribute) that reads `context` and renders `render(value)`, or
 * nothing when that is `null` or `false`. A `<button>` part is a `type="button"`. With `claims`, the part holds that
 * claim for its client while it renders something (see `claims.ts`).
 */
export function createPart<T extends Tag, C>(
  tag: T,
  name: string,
  context: Context<C | null>,
  render: (value: C) => Defaults<T> | null | false,
  claims?: (value: C) => [client: LifelineClient | null, claim: Claim],
): Part<T> {
  return forwardRef<ComponentRef<T>, ComponentPropsWithoutRef<T>>(function Part(props, ref) {
    const value = useRequired(context)
    const defaults = render(value) as Record<string, Handler> | false | null
    const [client, claim] = claims?.(value) ?? [null, 'banner-retry']
    useHoldClaim(client, claim, !!defaults)
    if (!defaults) return null
    const merged: Record<string, unknown> = {
      type: tag === 'button' ? tag : undefined,
      ...defaults,
      'data-lifeline': name,
      ...props,
      ref,
      children: props.children ?? defaults.children,
    }
    for (const key in defaults) {
      const own = defaults[key]!
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
}

/** The props every root takes: a `<div>`'s, without children (the drop-in supplies them). */
type DivProps = ComponentPropsWithoutRef<'div'>

/** What an empty root is: no box of its own, so it adds no gap or margin to a flex or grid layout around it. */
const boxless: CSSProperties = { display: 'contents' }

/**
 * Makes a component's root: a `<div data-lifeline={name} data-state={state}>` providing `context`. `use` reads the
 * root's own props and returns the context value, the state, the props left for the `<div>`, and whether it has
 * nothing to show: then it is `display: contents` (its visually hidden live regions are absolutely positioned, out of
 * the layout, and stay mounted), unless the user's `style` sets `display`.
 */
export function createRoot<P extends DivProps, C>(
  name: string,
  context: Context<C | null>,
  use: (props: P) => [value: C, state: string, rest: DivProps, empty: boolean],
): ForwardRefExoticComponent<P & RefAttributes<HTMLDivElement>> {
  return forwardRef<HTMLDivElement, P>(function Root(props, ref) {
    const [value, state, rest, empty] = use(props as P)
    const style = empty ? { ...boxless, ...rest.style } : rest.style
    return createElement(
      context.Provider,
      { value },
      createElement('div', { 'data-lifeline': name, 'data-state': state, ...rest, style, ref }),
    )
  }) as ForwardRefExoticComponent<P & RefAttributes<HTMLDivElement>>
}

/**
 * The drop-in: `parts.Root` with the first `count` other parts as its children, in order, and every part as a
 * property.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any root: its props are read back with ComponentProps
export function withParts<Parts extends { Root: ComponentType<any> }>(
  parts: Parts,
  count: number,
): ForwardRefExoticComponent<Omit<ComponentProps<Parts['Root']>, 'children' | 'ref'> & RefAttributes<HTMLDivElement>> &
  Parts {
  const children = Object.values(parts).slice(1, count + 1) as ComponentType[]
  const DropIn = forwardRef<HTMLDivElement, object>(function DropIn(props, ref) {
    const root = parts.Root as ComponentType<object>
    return createElement(root, { ...props, ref } as object, ...children.map((child) => createElement(child)))
  })
  return Object.assign(DropIn, parts) as never
}

const noSubscription = () => () => undefined
const noSnapshot = () => null

/**
 * The client (`explicit`, else the nearest provider's) and its snapshot, re-rendering on every change. Both are `null`
 * only while server rendering under a provider that creates its client on mount: the components then render their
 * empty root. In the browser, no client is the `MISSING_PROVIDER` error.
 */
export function useSnapshot(
  explicit: LifelineClient | undefined,
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
 * An `Announcer` part: a visually hidden `<div>` holding two live regions (polite `status`, assertive `alert`). Both
 * are mounted empty and get their text only after mounting, because screen readers ignore a live region that
 * arrives with its text.
 */
export function createAnnouncer<C>(
  name: string,
  context: Context<C | null>,
  announce: (value: C) => Announcement,
): ForwardRefExoticComponent<AnnouncerProps & RefAttributes<HTMLDivElement>> {
  return forwardRef<HTMLDivElement, AnnouncerProps>(function Announcer({ style, ...rest }, ref) {
    const { polite, assertive = '' } = announce(useRequired(context))
    const [text, setText] = useState(['', ''])
    useEffect(() => setText([polite, assertive]), [polite, assertive])
    return (
      <div ref={ref} data-lifeline={name} {...rest} style={{ ...visuallyHidden, ...style }}>
        <div role="status" aria-live="polite" aria-atomic="true">
          {text[0]}
        </div>
        <div role="alert" aria-live="assertive" aria-atomic="true">
          {text[1]}
        </div>
      </div>
    )
  })
}
