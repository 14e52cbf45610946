import { useState, type ReactNode } from 'react'
import { LifelineProvider } from '../../src/react'
import { createScriptedClient, type ScriptedState } from './scripted-client'

// Exports components only, so React Fast Refresh can update it in place.

/** Provides a scripted client in `state` to `children`. */
export function ScriptedProvider(props: { state: Omit<ScriptedState, 'title'>; children: ReactNode }) {
  const [scripted] = useState(() =>
    createScriptedClient({ snapshot: props.state.snapshot, items: props.state.items ?? [] }),
  )
  return <LifelineProvider client={scripted.client}>{props.children}</LifelineProvider>
}

/**
 * Every state side by side, each under its title with a provider of its own; `theme` sets `data-theme` for the
 * optional stylesheet (light by default, whatever the system prefers).
 */
export function StateGrid(props: {
  title: string
  states: readonly ScriptedState[]
  render: () => ReactNode
  theme?: 'light' | 'dark'
}) {
  return (
    <main className="states" data-theme={props.theme ?? 'light'}>
      <style>{css}</style>
      <h1>{props.title}</h1>
      <ul className="states-grid">
        {props.states.map((state) => (
          <li key={state.title} className="states-cell" data-story-state={state.title}>
            <h2>{state.title}</h2>
            <ScriptedProvider state={state}>{props.render()}</ScriptedProvider>
          </li>
        ))}
      </ul>
    </main>
  )
}

const css = `
.states { font: 14px/1.4 system-ui, sans-serif; color: #1f2328; background: #ffffff; max-width: 64rem; padding: .75rem; }
.states[data-theme="dark"] { color: #f0f6fc; background: #0d1117; }
.states[data-theme="dark"] .states-cell h2 { color: #9198a1; }
.states h1 { font-size: 1.2rem; margin: 0 0 .75rem; }
.states-grid { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(28rem, 100%), 1fr)); }
.states-cell h2 { font-size: .8125rem; font-weight: 600; color: #59636e; margin: 0 0 .35rem; text-transform: uppercase; letter-spacing: .03em; }
`
