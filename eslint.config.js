import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
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
  // Dependency direction between the layers under src/; the same table drives test/layers.test.ts.
  ...eslintLayerBlocks(),
)
