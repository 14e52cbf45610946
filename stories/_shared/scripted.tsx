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

/** Every state side by side, each under its title with a provider of its own. */
export function StateGrid(props: { title: string; states: readonly ScriptedState[]; render: () => ReactNode }) {
  return (
    <main className="states">
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
.states { font: 14px/1.4 system-ui, sans-serif; color: #1f2328; max-width: 64rem; }
.states h1 { font-size: 1.2rem; margin: 0 0 .75rem; }
.states-grid { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(28rem, 1fr)); }
.states-cell h2 { font-size: .8125rem; font-weight: 600; color: #59636e; margin: 0 0 .35rem; text-transform: uppercase; letter-spacing: .03em; }
`
