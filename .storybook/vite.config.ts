import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// Loaded by Storybook only (see main.ts: builder.viteConfigPath).
export default defineConfig({
  plugins: [react()],
  // Pre-bundle every runtime dependency up front: one discovered mid-session is re-optimised and the page ends up
  // with two copies of React ("Cannot read properties of null (reading 'useCallback')"), as in vitest.config.ts.
  optimizeDeps: {
    include: [
      'react',
      'react-dom',
      'react-dom/client',
      'react/jsx-runtime',
      'react/jsx-dev-runtime',
      'zustand',
      'zustand/vanilla',
    ],
  },
})
