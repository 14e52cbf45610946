import { Server as HttpServer } from 'node:http'
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import type { LifelineClient } from '../../src/core'
import type { CodeBlock } from './markdown-blocks'
import { blockFileName, blockModule } from './snippet-check'

/**
 * A port as an example writes it (`listen(8080)`, `port: 8080`, `ws://127.0.0.1:8080/…`): 8000–8999 right after
 * `:`, `port: ` or `(`. Each one is replaced by a free port, the same number by the same port in every block of a run.
 */
const EXAMPLE_PORT = /(?<=(?:[:(]|port:\s))8\d{3}\b/g

/** A free port on 127.0.0.1 (listened on, then released for the snippet). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Maps each example port of `sources` to a free port. */
export async function examplePorts(sources: readonly string[]): Promise<Map<string, number>> {
  const ports = new Map<string, number>()
  for (const source of sources) {
    for (const [port] of source.matchAll(EXAMPLE_PORT)) if (!ports.has(port)) ports.set(port, await freePort())
  }
  return ports
}

/** Names a module declares at its top level without exporting them (variables, functions, classes). */
export function topLevelNames(source: string): string[] {
  const file = ts.createSourceFile('block.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const names: string[] = []
  const exported = (node: ts.Node): boolean =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.push(name.text)
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name)
  }
  for (const statement of file.statements) {
    if (exported(statement)) continue
    if (ts.isVariableStatement(statement))
      for (const declaration of statement.declarationList.declarations) bind(declaration.name)
    else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) {
      names.push(statement.name.text)
    }
  }
  return names
}

/** What a block left running, in the order it declared them. */
export interface RunResult {
  /** Every top-level value of the block (prelude included), by name, in declaration order. */
  values: [string, unknown][]
}

/**
 * Runs a block as an ES module in this process: its package imports pointed at the sources, its example ports
 * replaced (see {@link EXAMPLE_PORT}), and its top-level names exported so the test can check and close what it made.
 */
export async function runBlock(options: {
  block: CodeBlock
  scratch: string
  paths: Record<string, string>
  ports: ReadonlyMap<string, number>
}): Promise<RunResult> {
  const { block, scratch, paths, ports } = options
  let { source } = blockModule(block)
  source = source.replace(EXAMPLE_PORT, (port) => String(ports.get(port) ?? port))
  source = source.replace(
    /(from\s+|import\s*\(\s*)(['"])([^'"]+)\2/g,
    (whole, lead: string, quote: string, name: string) =>
      name in paths ? `${lead}${quote}${pathToFileURL(paths[name]!).href}${quote}` : whole,
  )
  const names = topLevelNames(source)
  const file = join(scratch, `run-${blockFileName(block).replace(/\.\w+$/, '.ts')}`)
  writeFileSync(file, `${source}\nexport { ${names.join(', ')} }\n`)
  const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>
  return { values: names.map((name) => [name, module[name]]) }
}

const has = (value: unknown, key: string): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[key] === 'function'

/** Whether a value is a client of the library (it has a snapshot). */
export function isClient(value: unknown): value is Pick<LifelineClient, 'getSnapshot' | 'close'> {
  return has(value, 'getSnapshot') && has(value, 'close')
}

/** Closes what a block made: HTTP servers (their connections first), then anything with a `close()`. */
export async function closeValue(value: unknown): Promise<void> {
  if (value instanceof HttpServer) {
    value.closeAllConnections()
    if (value.listening) await new Promise<void>((resolve) => value.close(() => resolve()))
    return
  }
  if (has(value, 'close')) await (value.close as () => unknown)()
}
