#!/usr/bin/env node
// Runs after `tsc -p tsconfig.build.json`. tsc copies our extensionless relative specifiers (`from './core'`) into the
// emitted .d.ts files; under moduleResolution node16/nodenext those do not resolve and every export of the package
// turns into an error or, with skipLibCheck, into `any`. This script:
//   1. rewrites every relative specifier of dist/types/**/*.d.ts to the file it means (`./core/index.js`), and
//   2. writes a `.d.cts` twin of each file (specifiers ending in `.cjs`) for the CommonJS build (`require`), since in
//      a `"type": "module"` package a `.d.ts` file describes an ES module.
// A specifier that matches no emitted declaration fails the build instead of shipping a broken import.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

/** Relative specifiers in `from '…'`, `import '…'`, `import('…')` and `require('…')`. */
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.\.?(?:\/[^'"\n]*)?)\2/g

/** Raised when a declaration imports a relative path with no emitted declaration behind it; `code` is stable. */
export class UnresolvedDeclarationImportError extends Error {
  code = 'UNRESOLVED_DECLARATION_IMPORT'
  constructor(file, specifier) {
    super(`${file}: '${specifier}' matches no emitted declaration (neither <path>.d.ts nor <path>/index.d.ts)`)
    this.name = 'UnresolvedDeclarationImportError'
  }
}

/**
 * The path, without extension, a relative specifier of `fromFile` points at: `<spec>` when `<spec>.d.ts` exists,
 * `<spec>/index` when `<spec>/index.d.ts` does; undefined otherwise. Accepts specifiers already ending in .js/.cjs.
 * @param {string} fromFile absolute path of the declaration file holding the specifier
 * @param {string} specifier
 * @param {(path: string) => boolean} [fileExists]
 * @returns {string | undefined}
 */
export function resolveDeclarationSpecifier(fromFile, specifier, fileExists = isFile) {
  const bare = specifier.replace(/\.c?js$/, '')
  const target = resolve(dirname(fromFile), bare)
  if (bare !== '.' && bare !== '..' && !bare.endsWith('/') && fileExists(`${target}.d.ts`)) return bare
  if (fileExists(join(target, 'index.d.ts'))) return `${bare.replace(/\/$/, '')}/index`
  return undefined
}

/**
 * Rewrites the relative specifiers of one declaration file to `<path>.<extension>`.
 * @param {string} source the declaration text
 * @param {string} fromFile absolute path of that file (specifiers resolve against its folder)
 * @param {'js' | 'cjs'} extension
 * @param {(path: string) => boolean} [fileExists]
 * @returns {string}
 */
export function rewriteDeclarationSpecifiers(source, fromFile, extension, fileExists = isFile) {
  return source.replace(RELATIVE_SPECIFIER, (_match, keyword, quote, specifier) => {
    const resolved = resolveDeclarationSpecifier(fromFile, specifier, fileExists)
    if (resolved === undefined) throw new UnresolvedDeclarationImportError(fromFile, specifier)
    return `${keyword}${quote}${resolved}.${extension}${quote}`
  })
}

function isFile(path) {
  return existsSync(path) && statSync(path).isFile()
}

function declarationFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return declarationFiles(path)
    return entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/**
 * Rewrites every `.d.ts` under `typesDir` in place and writes its `.d.cts` twin.
 * @param {string} typesDir
 * @returns {number} the number of declaration files processed
 */
export function finishTypes(typesDir) {
  const files = declarationFiles(typesDir)
  for (const file of files) {
    const source = readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
    writeFileSync(file, rewriteDeclarationSpecifiers(source, file, 'js'))
    writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), rewriteDeclarationSpecifiers(source, file, 'cjs'))
  }
  return files.length
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const typesDir = join(root, 'dist', 'types')
  if (!existsSync(typesDir)) {
    process.stderr.write(`[finish-types] ${relative(root, typesDir)} does not exist: run tsc -p tsconfig.build.json\n`)
    process.exit(1)
  }
  try {
    const count = finishTypes(typesDir)
    process.stdout.write(`[finish-types] ${count} declaration files: specifiers made explicit, .d.cts twins written\n`)
  } catch (error) {
    if (!(error instanceof UnresolvedDeclarationImportError)) throw error
    process.stderr.write(`[finish-types] ${error.message}\n`)
    process.exit(1)
  }
}
