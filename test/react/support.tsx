import { Component, type ReactNode } from 'react'
import type { LifelineError } from '../../src/core'

export { inProvider } from '../components/fake-client'

/**
 * Catches what a hook or the provider throws and shows it: the code as text, the message as title, so that a test
 * can assert the error a user would see rather than React's error log.
 */
export class Boundary extends Component<{ children: ReactNode }, { error: LifelineError | null }> {
  override state = { error: null as LifelineError | null }
  static getDerivedStateFromError(error: LifelineError) {
    return { error }
  }
  override render(): ReactNode {
    const { error } = this.state
    if (!error) return this.props.children
    return (
      <p data-testid="caught" title={error.message}>
        {error.code}
      </p>
    )
  }
}
