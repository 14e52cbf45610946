import { fileURLToPath } from 'node:url'
import type { StorybookConfig } from '@storybook/react-vite'

const config: StorybookConfig = {
  stories: ['../stories/**/*.stories.tsx'],
  // addon-vitest: the sidebar's test widget runs the stories as tests (vitest project 'storybook', see vitest.config.ts).
  addons: ['@storybook/addon-a11y', '@storybook/addon-vitest'],
  framework: {
    name: '@storybook/react-vite',
    options: {
      // Storybook's own Vite config, so the library-mode build in the root vite.config.ts (entries, externals,
      // the 'use client' banner plugin) never leaks into the Storybook build.
      builder: { viteConfigPath: fileURLToPath(new URL('./vite.config.ts', import.meta.url)) },
    },
  },
  // TypeScript 7 has no JS compiler API, so stay on react-docgen (the default), not react-docgen-typescript.
  typescript: { reactDocgen: 'react-docgen' },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  // Storybook keeps only `build.target` from a Vite config file, so build options go here. Its own runtime chunk
  // (~1.1 MB) and axe (~0.7 MB) are over Vite's 500 kB default: raise the limit so the warning means our code.
  viteFinal: (config) => ({ ...config, build: { ...config.build, chunkSizeWarningLimit: 1500 } }),
}

export default config
