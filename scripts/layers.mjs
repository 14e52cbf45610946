// The dependency direction between the layers under src/ (STYLE.md, "The shape of the house"), in one place:
// test/layers.test.ts checks every import against it and eslint.config.js turns it into no-restricted-imports.
import { posix } from 'node:path'

/**
 * Per layer: the other layers it may import (always through their index) and the packages it must not import.
 * Package patterns are regular expressions over the import specifier.
 * @type {Readonly<Record<string, { mayImport: readonly string[], forbiddenPackages: readonly string[], why: string }>>}
 */
export const layers = {
  core: {
    mayImport: [],
    forbiddenPackages: ['^react(/.*)?$', '^react-dom(/.*)?$', '^zustand(/.*)?$', '^ws$', '^node:'],
    why: 'core is framework-free and runs in browsers, Node and workers',
  },
  store: {
    mayImport: ['core'],
    // Only zustand/vanilla (and its middleware): bare `zustand` is the React binding.
    forbiddenPackages: [
      '^react(/.*)?$',
      '^react-dom(/.*)?$',
      '^zustand$',
      '^zustand/(react|traditional|shallow)$',
      '^ws$',
      '^node:',
    ],
    why: 'store is zustand/vanilla over core, no React',
  },
  react: {
    mayImport: ['store', 'core'],
    forbiddenPackages: ['^ws$', '^node:'],
    why: 'react runs in the browser and during SSR',
  },
  components: {
    mayImport: ['react', 'core'],
    forbiddenPackages: ['^zustand(/.*)?$', '^ws$', '^node:'],
    why: 'components read state through the react layer only',
  },
  devtools: {
    mayImport: ['react', 'core'],
    forbiddenPackages: ['^zustand(/.*)?$', '^ws$', '^node:'],
    why: 'devtools is a React panel over the public client API',
  },
  server: {
    mayImport: ['core'],
    forbiddenPackages: ['^react(/.*)?$', '^react-dom(/.*)?$', '^zustand(/.*)?$'],
    why: 'server is Node only and shares protocol types with core',
  },
  compat: {
    mayImport: ['react', 'store', 'core'],
    forbiddenPackages: ['^ws$', '^node:'],
    why: "compat maps other libraries' APIs onto the hooks, in the browser",
  },
  testing: {
    // devtools: the trace types replayTrace() reads (type imports).
    mayImport: ['core', 'server', 'devtools'],
    forbiddenPackages: ['^zustand(/.*)?$'],
    why: 'the testing kit drives core clients and the reference server',
  },
}

/** The package's own name: code under src/ imports itself by relative path, never through the published entries. */
export const selfPackage = '^react-lifeline(/.*)?$'

const INDEX_FILE = /^index(\.(ts|tsx|js|mjs))?$/

/**
 * The layer a file under src/ belongs to (`undefined` for files directly in src/, like src/index.ts).
 * @param {string} fileFromSrc posix path relative to src/
 */
export function layerOf(fileFromSrc) {
  const [first, ...rest] = fileFromSrc.split('/')
  return rest.length > 0 && first && first in layers ? first : undefined
}

/**
 * The rule an import breaks, or `undefined` when it is allowed.
 * @param {{ file: string, specifier: string }} edge `file` relative to src/ (posix), `specifier` as written
 * @returns {string | undefined}
 */
export function checkImport({ file, specifier }) {
  const from = layerOf(file)
  if (new RegExp(selfPackage).test(specifier)) {
    return `${file}: imports "${specifier}"; inside src/ import by relative path`
  }
  if (!specifier.startsWith('.')) {
    if (!from) return undefined
    const rule = layers[from].forbiddenPackages.find((pattern) => new RegExp(pattern).test(specifier))
    return rule ? `${file}: ${from} must not import "${specifier}" (${layers[from].why})` : undefined
  }
  const target = posix.normalize(posix.join(posix.dirname(file), specifier))
  if (target.startsWith('../')) return `${file}: "${specifier}" reaches outside src/`
  const [targetLayer, ...inner] = target.split('/')
  if (!targetLayer || !(targetLayer in layers) || targetLayer === from) return undefined
  if (from && !layers[from].mayImport.includes(targetLayer)) {
    return `${file}: ${from} must not import the ${targetLayer} layer ("${specifier}"; ${layers[from].why})`
  }
  if (inner.length > 1 || (inner.length === 1 && !INDEX_FILE.test(inner[0] ?? ''))) {
    const viaIndex = posix.relative(posix.dirname(file), targetLayer)
    return `${file}: imports "${specifier}"; reach the ${targetLayer} layer only through its index ("${viaIndex.startsWith('.') ? viaIndex : `./${viaIndex}`}")`
  }
  return undefined
}

// Import and re-export specifiers: `import x from 'a'`, `import 'a'`, `export * from 'a'`, `import('a')`,
// `require('a')`, `import type { X } from 'a'`.
const IMPORT_PATTERNS = [
  /\bimport\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bexport\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
]

/**
 * Import specifiers found in a source text (comments removed first).
 * @param {string} source
 * @returns {string[]}
 */
export function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1')
  const found = new Set()
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) if (match[1]) found.add(match[1])
  }
  return [...found]
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Flat-config blocks for ESLint's `no-restricted-imports` that enforce the same rules on static imports.
 * One block per layer and folder depth, because a relative specifier only names a layer once its depth is known.
 * @param {{ maxDepth?: number }} [options]
 */
export function eslintLayerBlocks({ maxDepth = 6 } = {}) {
  const names = Object.keys(layers)
  const selfRule = { regex: selfPackage, message: 'Inside src/, import by relative path.' }
  const blocks = []
  for (let depth = 0; depth <= maxDepth; depth += 1) {
    // Files directly in src/ (depth 0 of no layer) may import any layer, through its index only.
    const up = depth === 0 ? '\\./' : `(\\.\\./){${depth}}`
    const viaIndexOnly = (layer) => ({
      regex: `^${up}${escape(layer)}/(?!index(\\.(ts|tsx|js|mjs))?$).+`,
      message: `Import the ${layer} layer through its index.`,
    })
    if (depth === 0) {
      blocks.push({
        files: ['src/*.{ts,tsx}'],
        rules: { 'no-restricted-imports': ['error', { patterns: [selfRule, ...names.map(viaIndexOnly)] }] },
      })
      continue
    }
    for (const [layer, rule] of Object.entries(layers)) {
      const others = names.filter((name) => name !== layer)
      const banned = others.filter((name) => !rule.mayImport.includes(name))
      const patterns = [
        selfRule,
        ...rule.forbiddenPackages.map((regex) => ({ regex, message: `${layer}: ${rule.why}.` })),
        ...(banned.length > 0
          ? [
              {
                regex: `^${up}(${banned.map(escape).join('|')})(/.*)?$`,
                message: `${rule.mayImport.length > 0 ? `${layer} may import only ${rule.mayImport.join(', ')}` : `${layer} imports no other layer`}: ${rule.why}.`,
              },
            ]
          : []),
        ...rule.mayImport.map(viaIndexOnly),
      ]
      blocks.push({
        files: [`src/${layer}/${'*/'.repeat(depth - 1)}*.{ts,tsx}`],
        rules: { 'no-restricted-imports': ['error', { patterns }] },
      })
    }
  }
  return blocks
}
