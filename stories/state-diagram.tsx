/// <reference types="vite/client" />

// Exports components only, so React Fast Refresh can update it in place.

/**
 * docs/state-diagram.svg as a URL, when the file exists: a glob matches nothing (rather than failing the build) while
 * it does not, and Vite copies it into the Storybook build when it does.
 */
const found = import.meta.glob<string>('../docs/state-diagram.svg', { query: '?url', import: 'default', eager: true })

/** The connection's state diagram (docs/state-diagram.svg), or a marked placeholder while the file is missing. */
export function StateDiagram() {
  const url = Object.values(found)[0]
  if (url === undefined) {
    return (
      <p data-testid="state-diagram-missing" style={{ padding: '1rem', border: '2px dashed #9198a1' }}>
        <strong>State diagram goes here:</strong> <code>docs/state-diagram.svg</code> is not in this checkout yet. Once
        it is, this page shows it (nothing else to change).
      </p>
    )
  }
  return (
    <img
      src={url}
      data-testid="state-diagram"
      alt="The connection's states (idle, connecting, open, reconnecting, offline, closing, closed, failed) and the events that move between them"
      style={{ maxWidth: '100%' }}
    />
  )
}
