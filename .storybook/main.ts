import { fileURLToPath } from 'node:url'
import type { StorybookConfig } from '@storybook/react-vite'
import type { Plugin } from 'vite'

/** The drop-ins' props in src/components: `forwardRef<HTMLDivElement, Omit<XProps, 'children'>>(…)`. */
const DROP_IN_PROPS = /forwardRef<(\w+), Omit<(\w+Props), '\w+'>>/g

/**
 * Lets react-docgen see the drop-in components' props. It cannot resolve `Omit<…>` (a lib type, not in the file), so
 * their autodocs pages would show an empty prop table. Only the type argument is rewritten, to the props interface
 * (`ConnectionBannerProps`, …) whose JSDoc is what the table shows; types are erased, so the emitted code is the same.
 * Runs before Storybook's react-docgen plugin (both `enforce: 'pre'`; viteFinal puts this one first).
 */
function docgenProps(): Plugin {
  return {
    name: 'lifeline:docgen-props',
    enforce: 'pre',
    transform(code, id) {
      if (!/\/src\/components\/[\w-]+\.tsx$/.test(id)) return null
      const rewritten = code.replace(DROP_IN_PROPS, 'forwardRef<$1, $2>')
      // Only one line changes, within itself: the source map stays right to the line.
      return rewritten === code ? null : { code: rewritten, map: null }
    },
  }
}

const config: StorybookConfig = {
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.tsx'],
  // addon-docs: the Introduction page (MDX) and the components' autodocs pages (`tags: ['autodocs']` in their meta).
  // addon-vitest: the sidebar's test widget runs the stories as tests (vitest project 'storybook', see vitest.config.ts).
  addons: ['@storybook/addon-docs', '@storybook/addon-a11y', '@storybook/addon-vitest'],
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
  // No onboarding checklist: not in the sidebar, not in the menu. The Introduction page is where to start.
  features: { sidebarOnboardingChecklist: false, menuOnboardingChecklist: false },
  viteFinal: (config) => ({
    ...config,
    // Before Storybook's react-docgen plugin (both `pre`): see docgenProps above.
    plugins: [docgenProps(), ...(config.plugins ?? [])],
    // Storybook keeps only `build.target` from a Vite config file, so build options go here. Its own runtime chunk
    // (~1.1 MB) and axe (~0.7 MB) are over Vite's 500 kB default: raise the limit so the warning means our code.
    build: { ...config.build, chunkSizeWarningLimit: 1500 },
    optimizeDeps: {
      ...config.optimizeDeps,
      // Pre-bundled before the first page asks: a dependency found only when a story or docs page imports it is
      // bundled then (the page waits) or, worse, re-optimised with a full reload. These are what the preview, the
      // stories and the docs pages import (react and zustand are listed in vite.config.ts).
      include: [
        ...(config.optimizeDeps?.include ?? []),
        'storybook/test',
        'storybook/preview-api',
        'storybook/internal/preview/runtime',
        '@storybook/addon-docs',
        '@storybook/addon-docs/blocks',
        '@storybook/react-vite',
      ],
    },
    server: {
      ...config.server,
      // Transformed while Storybook starts, not one by one as the first story's imports arrive (~80 modules).
      warmup: {
        clientFiles: [
          './.storybook/preview.tsx',
          './stories/**/*.{tsx,ts}',
          './src/{core,react,store,components}/**/*.{ts,tsx}',
        ],
      },
    },
  }),
}

export default config
