import { act, fireEvent } from '@testing-library/react'

/** The shadow root of the devtools host (there is one host per rendered panel). */
export function devtoolsRoot(): ShadowRoot {
  const host = document.querySelector('[data-lifeline-devtools]')
  if (!host?.shadowRoot) throw new Error('no devtools shadow root')
  return host.shadowRoot
}

/** One element in the panel by selector; throws when absent. */
export function $(selector: string): HTMLElement {
  const found = devtoolsRoot().querySelector<HTMLElement>(selector)
  if (!found) throw new Error(`no ${selector} in the devtools`)
  return found
}

/** Every element matching `selector` in the panel. */
export const $$ = (selector: string): HTMLElement[] => [...devtoolsRoot().querySelectorAll<HTMLElement>(selector)]

/** The button whose text (or aria-label) is `name`. */
export function button(name: string): HTMLButtonElement {
  const found = $$('button').find(
    (element) => element.textContent?.trim() === name || element.getAttribute('aria-label') === name,
  )
  if (!found) throw new Error(`no button "${name}" in the devtools`)
  return found as HTMLButtonElement
}

/** Opens the tab named `name` with a click. */
export function openTab(name: string): void {
  const tab = $$('[role="tab"]').find((element) => element.textContent === name)
  if (!tab) throw new Error(`no tab ${name}`)
  act(() => void fireEvent.click(tab))
}

/** The transitions on the timeline, oldest first, as `from->to: cause`. */
export const transitions = (): string[] =>
  $$('tr[data-transition]')
    .map((row) => `${row.getAttribute('data-transition')}: ${row.querySelector('[data-cause]')?.textContent ?? ''}`)
    .reverse()
