import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

/**
 * Package entry name → source file. The output is `dist/<name>.js` (ESM) and `dist/<name>.cjs` (CommonJS), matching
 * package.json `exports`.
 */
const entries = {
  index: 'src/index.ts',
  core: 'src/core/index.ts',
  diagnose: 'src/core/diagnose.ts',
  devtools: 'src/devtools/index.ts',
  server: 'src/server/index.ts',
  // Its own entry so that `react-lifeline/server` (the memory broker) never imports ioredis.
  'server-redis': 'src/server/redis/index.ts',
  testing: 'src/testing/index.ts',
  'testing-fakes': 'src/testing/fakes.ts',
  'compat-react-use-websocket': 'src/compat/react-use-websocket.ts',
} as const

const missingEntries = Object.values(entries).filter((file) => !existsSync(`${root}${file}`))
if (missingEntries.length > 0) {
  // Every entry backs a package.json export; publishing without one would break `react-lifeline/<name>` imports.
  throw new Error(`vite.config.ts: missing library entry file(s): ${missingEntries.join(', ')}`)
}

interface PackageJson {
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as PackageJson

// Everything a consumer installs (or already has) stays an import; the Redis clients are optional peers of the broker.
const externalPackages = new Set([
  'react',
  'react-dom',
  'zustand',
  'ws',
  'redis',
  'ioredis',
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
])
const nodeBuiltins = new Set(builtinModules)

function isExternal(id: string): boolean {
  if (id.startsWith('node:') || nodeBuiltins.has(id)) return true
  for (const name of externalPackages) {
    // Covers subpaths such as react/jsx-runtime and zustand/vanilla.
    if (id === name || id.startsWith(`${name}/`)) return true
  }
  return false
}

const USE_CLIENT = /^\s*(?:(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*['"]use client['"]/

/**
 * Bundling drops module-level directives, so a chunk that contains any `'use client'` module gets the directive
 * back at its top; server components can then import the React entry without pulling hooks into the server graph.
 */
function preserveUseClient(): Plugin {
  const clientModules = new Set<string>()
  return {
    name: 'react-lifeline:preserve-use-client',
    apply: 'build',
    transform: {
      order: 'pre',
      handler(code, id) {
        if (USE_CLIENT.test(code)) clientModules.add(id)
        return null
      },
    },
    renderChunk(code, chunk) {
      // An entry module's own directive is kept by the bundler (the compat entry's): never add a second one.
      if (!chunk.moduleIds.some((id) => clientModules.has(id)) || USE_CLIENT.test(code)) return null
      return { code: `'use client';\n${code}`, map: null }
    },
  }
}

/** The optional theme (`react-lifeline/styles.css`): no module imports it, so it is emitted as is. */
function emitStylesheet(): Plugin {
  return {
    name: 'react-lifeline:emit-stylesheet',
    apply: 'build',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'styles.css',
        source: readFileSync(`${root}src/components/styles.css`, 'utf8'),
      })
    },
  }
}

export default defineConfig({
  plugins: [preserveUseClient(), emitStylesheet()],
  // Production JSX whatever NODE_ENV says (vitest sets `test`, and a build it starts inherits that): development JSX
  // calls `jsxDEV`, which production React leaves undefined, so every production app would crash on first render.
  oxc: { jsx: { runtime: 'automatic', development: false } },
  build: {
    target: 'es2022',
    // Not minified: the app's bundler minifies once anyway, and readable output gives readable stack traces and diffs.
    // No source maps either: they would point at src/, which is not published (docs/decisions.md, "Packaging").
    minify: false,
    sourcemap: false,
    emptyOutDir: true,
    lib: {
      entry: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, `${root}${file}`])),
      // ESM for bundlers and `import`, CommonJS (.cjs) for `require` in Node and CJS test runners.
      formats: ['es', 'cjs'],
      fileName: (format, entryName) => `${entryName}.${format === 'es' ? 'js' : 'cjs'}`,
    },
    rolldownOptions: {
      external: isExternal,
      // The JSDoc lives in the .d.ts files, where editors read it; tree-shaking annotations (@__PURE__) stay.
      // `exports: 'named'`: the compat entry has a default export beside named ones (react-use-websocket's import
      // line); CommonJS gets it as `require(…).default`, as every entry with named exports does.
      output: { exports: 'named', comments: { legal: true, annotation: true, jsdoc: false } },
      onwarn(warning, defaultHandler) {
        // Expected for every 'use client' module: preserveUseClient() puts the directive back on its chunk.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('use client')) return
        defaultHandler(warning)
      },
    },
  },
})
