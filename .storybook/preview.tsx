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
    // The Introduction (stories/Introduction.mdx) first: it is where a newcomer starts.
    options: { storySort: { order: ['Introduction', 'Components', 'Hooks'] } },
  },
}

export default preview
