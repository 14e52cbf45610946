import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'
import type { CodeBlock } from './markdown-blocks'

/** A compiler error, placed in the Markdown file. */
export interface SnippetDiagnostic {
  /** `README.md:123`, or `README.md:110 (prelude)` for an error in a block's prelude. */
  where: string
  /** `TS2304: Cannot find name 'x'.` */
  message: string
}

const EXTENSIONS = { ts: 'ts', tsx: 'tsx', js: 'js', jsx: 'jsx' } as const

/** The name a block's file gets in the scratch folder: `README.md:37` → `README.md-37.tsx`. */
export function blockFileName(block: CodeBlock): string {
  return `${block.file.replace(/[^\w.-]/g, '_')}-${String(block.line)}.${EXTENSIONS[block.language]}`
}

/** Where a line of a block's module comes from: its prelude, the block (1-based line in it), or the test. */
type Origin = { kind: 'prelude'; line: number } | { kind: 'code'; line: number } | { kind: 'added' }

/** A block made into a module: the source, the origin of each of its lines, and the syntax errors left. */
export interface BlockModule {
  source: string
  origins: Origin[]
  /** Syntax errors: such a block is left out of the program (tsc would skip every semantic check for them). */
  syntax: SnippetDiagnostic[]
}

function assemble(parts: { text: string; origin: (index: number) => Origin }[]): Omit<BlockModule, 'syntax'> {
  const lines: string[] = []
  const origins: Origin[] = []
  for (const { text, origin } of parts) {
    for (const [index, line] of text.split('\n').entries()) {
      lines.push(line)
      origins.push(origin(index))
    }
  }
  return { source: lines.join('\n') + '\n', origins }
}

/** Where line `line` (1-based) of a block's module is in the Markdown file. */
export function placeOf(block: CodeBlock, origins: readonly Origin[], line: number): string {
  const origin = origins[line - 1]
  if (origin?.kind === 'code') return `${block.file}:${String(block.line + origin.line)}`
  if (origin?.kind === 'prelude') return `${block.file}:${String(block.line)} (prelude line ${String(origin.line)})`
  return `${block.file}:${String(block.line)} (added by the test)`
}

function syntaxErrors(block: CodeBlock, module: Omit<BlockModule, 'syntax'>): SnippetDiagnostic[] {
  const fileName = blockFileName(block)
  const { diagnostics = [] } = ts.transpileModule(module.source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { jsx: ts.JsxEmit.Preserve, allowJs: true },
  })
  const file = ts.createSourceFile(fileName, module.source, ts.ScriptTarget.Latest)
  return diagnostics.map((diagnostic) => {
    const line = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')
    return { where: placeOf(block, module.origins, line), message: `TS${String(diagnostic.code)}: ${text}` }
  })
}

/**
 * The block as a module: its prelude, its code, and `export {}` so a fragment's names stay its own. A JSX block that
 * does not read as a module because it ends in bare markup (imports and declarations, then `<Banner />` lines with
 * `{/* comments *\/}`) is checked with that markup as the children of a fragment.
 */
export function blockModule(block: CodeBlock): BlockModule {
  const prelude = { text: block.prelude, origin: (index: number): Origin => ({ kind: 'prelude', line: index + 1 }) }
  const head = block.prelude === '' ? [] : [prelude]
  const tail = { text: 'export {}', origin: (): Origin => ({ kind: 'added' }) }
  const plain = assemble([...head, { text: block.code, origin: (index) => ({ kind: 'code', line: index + 1 }) }, tail])
  const syntax = syntaxErrors(block, plain)
  if (syntax.length === 0 || (block.language !== 'tsx' && block.language !== 'jsx')) return { ...plain, syntax }
  // Markup starts at the first line that opens an element; what comes before (imports, declarations) stays as it is.
  const lines = block.code.split('\n')
  const markup = lines.findIndex((line) => line.startsWith('<'))
  if (markup < 0) return { ...plain, syntax }
  const fragment = assemble([
    ...head,
    { text: lines.slice(0, markup).join('\n'), origin: (index) => ({ kind: 'code', line: index + 1 }) },
    { text: 'export const example = (\n<>', origin: () => ({ kind: 'added' }) },
    { text: lines.slice(markup).join('\n'), origin: (index) => ({ kind: 'code', line: markup + index + 1 }) },
    { text: '</>\n)', origin: () => ({ kind: 'added' }) },
  ])
  const fragmentSyntax = syntaxErrors(block, fragment)
  // Neither reads: report the errors of the block as written.
  return fragmentSyntax.length === 0 ? { ...fragment, syntax: [] } : { ...plain, syntax }
}

/**
 * The package's entry points mapped to their sources, from package.json `exports` (`./dist/types/core/index.d.ts` →
 * `src/core/index.ts`), so a new entry is covered without touching the test. Non-code exports (styles.css) are
 * returned apart: they are declared as side-effect modules.
 */
export function entryPoints(root: string): { paths: Record<string, string>; assets: string[] } {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, string | { import?: { types?: string } }>
  }
  const paths: Record<string, string> = {}
  const assets: string[] = []
  for (const [key, target] of Object.entries(manifest.exports)) {
    const specifier = key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`
    if (key === './package.json') continue
    const types = typeof target === 'string' ? undefined : target.import?.types
    const source = /^\.\/dist\/types\/(.+)\.d\.ts$/.exec(types ?? '')?.[1]
    if (source === undefined) {
      assets.push(specifier)
      continue
    }
    const file = ['ts', 'tsx'].map((extension) => join(root, 'src', `${source}.${extension}`))
    paths[specifier] = file.find((candidate) => exists(candidate)) ?? file[0]!
  }
  return { paths, assets }
}

function exists(file: string): boolean {
  try {
    readFileSync(file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

/**
 * Typechecks every block in one `tsc` program against the sources (the entry points path-mapped to src/), with the
 * project's own compiler options, in `scratch` (inside the repository, so `react`, `ws` and their types resolve from
 * its node_modules). `declarations` is an ambient file for the names snippets use for the reader's own code.
 * Resolves with each block's errors, keyed by its file name, and errors tsc reported elsewhere.
 */
export async function typecheckBlocks(options: {
  root: string
  scratch: string
  blocks: readonly CodeBlock[]
  declarations: string
}): Promise<{ byBlock: Map<string, SnippetDiagnostic[]>; other: string[] }> {
  const { root, scratch, blocks, declarations } = options
  mkdirSync(scratch, { recursive: true })
  const { paths, assets } = entryPoints(root)
  const project = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: Record<string, unknown>
  }
  const modules = new Map(blocks.map((block) => [blockFileName(block), { block, module: blockModule(block) }]))
  const byBlock = new Map([...modules].map(([name, { module }]) => [name, [...module.syntax]]))
  // A file with a syntax error makes tsc skip every semantic check: such blocks are reported as they are, left out.
  const files = [...modules].filter(([, { module }]) => module.syntax.length === 0).map(([name]) => name)
  for (const name of files) writeFileSync(join(scratch, name), modules.get(name)!.module.source)
  const ambient = [declarations, ...assets.map((specifier) => `declare module '${specifier}'`)].join('\n')
  writeFileSync(join(scratch, 'readme-globals.d.ts'), ambient + '\n')
  const compilerOptions = {
    ...project.compilerOptions,
    // A reader's project: no test globals; JavaScript blocks checked too.
    types: ['node'],
    allowJs: true,
    checkJs: true,
    noEmit: true,
    skipLibCheck: true,
    paths: Object.fromEntries(Object.entries(paths).map(([specifier, file]) => [specifier, [file]])),
  }
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['readme-globals.d.ts', ...files] }, null, 2),
  )
  const output = await runTsc(root, scratch)
  const other: string[] = []
  // Continuation lines (an elaborated message) are indented; they belong to the error above them.
  for (const entry of output.split(/\n(?=\S)/).filter((text) => text.trim() !== '')) {
    const match = /^(.+?)\((\d+),(\d+)\): error (TS\d+: [\s\S]*)$/.exec(entry.trim())
    const name = match ? relative(scratch, resolve(scratch, match[1]!)) : ''
    const found = modules.get(name)
    if (!match || !found) {
      other.push(entry.trim())
      continue
    }
    const where = placeOf(found.block, found.module.origins, Number(match[2]))
    byBlock.get(name)!.push({ where, message: match[4]!.replace(/\s+/g, ' ').trim() })
  }
  return { byBlock, other }
}

function runTsc(root: string, scratch: string): Promise<string> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(scratch, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: scratch, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // Exit code 2 is "errors found", reported through the output; anything else is tsc itself failing.
        if (error && (error.killed || (error.code !== 1 && error.code !== 2))) reject(error)
        else resolve(`${stdout}${stderr}`)
      },
    )
  })
}
