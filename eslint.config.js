import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import reactHooks from 'eslint-plugin-react-hooks'
import { configs as tseslintConfigs } from 'typescript-eslint'
import { eslintLayerBlocks } from './scripts/layers.mjs'

const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'performance',
    'process',
    'queueMicrotask',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
)

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    '**/.next/',
    'dist/',
    'storybook-static/',
    'coverage/',
    '.tmp/',
    '.cache/',
    '.vitest-reports/',
    'test-results/',
  ]),
  js.configs.recommended,
  tseslintConfigs.recommended,
  {
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a string-literal union or an `as const` object (STYLE.md).' },
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only (STYLE.md).' },
      ],
    },
  },
  // tsconfig.core.json checks src/core against ES2022 + WebWorker; these are the page- and worker-only globals that
  // lib still lets through. Core reaches them through guarded `globalThis` lookups (environment.ts, storage-adapters.ts).
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'self', 'location', 'navigator', 'localStorage', 'sessionStorage', 'indexedDB'].map(
          (name) => ({
            name,
            message: 'core runs in browsers, Node and workers: read it through globalThis, guarded.',
          }),
        ),
      ],
    },
  },
  // Hooks: the two classic rules (the compiler-era rules of react-hooks 7 are not adopted yet). test/integration and
  // test/components name vitest setup helpers `use*` (useHarness, useScriptedClient) at describe level: they are not
  // React hooks, so only test/react gets rules-of-hooks.
  {
    files: ['src/react/**/*.{ts,tsx}', 'src/components/**/*.{ts,tsx}', 'stories/**/*.{ts,tsx}', 'test/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: [
      'src/react/**/*.{ts,tsx}',
      'src/components/**/*.{ts,tsx}',
      'stories/**/*.{ts,tsx}',
      'test/react/**/*.{ts,tsx}',
    ],
    rules: { 'react-hooks/rules-of-hooks': 'error' },
  },
  // Type-aware promise rules for the library: a dropped promise hides a failed save, send or close.
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  // Dependency direction between the layers under src/; the same table drives test/layers.test.ts.
  ...eslintLayerBlocks(),
)
