import { StrictMode } from 'react'
import type { Preview } from '@storybook/react-vite'

const preview: Preview = {
  // Every story runs in StrictMode, as STYLE.md asks of hooks and components: double effects must not open two sockets.
  decorators: [
    (Story) => (
      <StrictMode>
        <Story />
      </StrictMode>
    ),
  ],
  parameters: {
    layout: 'padded',
    // axe runs on every story in the Accessibility panel; 'error' makes violations fail story tests (addon-vitest).
    a11y: { test: 'error' },
  },
}

export default preview
