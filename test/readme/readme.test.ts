import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { extractBlocks } from './markdown-blocks'
import type { CodeBlock } from './markdown-blocks'
import { blockFileName, entryPoints, typecheckBlocks } from './snippet-check'
import type { SnippetDiagnostic } from './snippet-check'
import { closeValue, examplePorts, isClient, runBlock } from './snippet-run'

// Every ```ts, ```tsx, ```js and ```jsx block of README.md and docs/*.md is typechecked against src/ (the package's
// entry points path-mapped to their sources) with the project's compiler options, in one tsc program; the blocks
// marked `run` are then executed, in document order, for real. Markers: see markdown-blocks.ts.

const root = fileURLToPath(new URL('../..', import.meta.url))
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]
const extracted = documents.map((file) => extractBlocks(file, readFileSync(join(root, file), 'utf8')))
const blocks = extracted.flatMap((entry) => entry.blocks)
const problems = extracted.flatMap((entry) => entry.problems)
const checked = blocks.filter((block) => block.skip === null)
const runnable = checked.filter((block) => block.run)

/**
 * The names snippets use for the reader's own code (a token fetcher, their app, their request handler). Declared,
 * never defined: a block that runs defines the ones it uses in a prelude.
 */
const PLACEHOLDERS = `
declare function fetchToken(): Promise<string>
declare function YourApp(): React.JSX.Element
declare function App(): React.JSX.Element
declare function Icon(): React.JSX.Element
declare function notify(data: unknown): void
declare function refetchRoom(): void
declare function track(event: string): void
`

const scratch = join(root, '.tmp', `readme-${String(process.pid)}`)
let typecheck: { byBlock: Map<string, SnippetDiagnostic[]>; other: string[] } | null = null

beforeAll(async () => {
  typecheck = await typecheckBlocks({ root, scratch, blocks: checked, declarations: PLACEHOLDERS })
}, 60_000)

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const label = (block: CodeBlock): string => `${block.file}:${String(block.line)} (${block.language})`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms: ${what}`)
    await sleep(10)
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${String(ms)} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

describe('code blocks of README.md and docs/*.md', () => {
  it('finds the blocks, reads every marker, and keeps skips rare', () => {
    expect(problems).toEqual([])
    expect(blocks.length).toBeGreaterThanOrEqual(10)
    expect(runnable.length).toBeGreaterThanOrEqual(2)
    // A skip hides a block from every check: a few at most, each with its reason (the parser requires one).
    expect(blocks.length - checked.length).toBeLessThanOrEqual(2)
  })

  it.each(checked.map((block) => ({ name: label(block), block })))('$name typechecks', ({ block }) => {
    expect(typecheck?.byBlock.get(blockFileName(block))).toEqual([])
  })

  it('the sources typecheck under the same options', () => {
    expect(typecheck?.other).toEqual([])
  })

  it(`runs the blocks marked run, in order (${runnable.map(label).join(', ')}): every client opens and drains its outbox`, async () => {
    const { paths } = entryPoints(root)
    const ports = await examplePorts(runnable.map((block) => `${block.prelude}\n${block.code}`))
    const logged: unknown[][] = []
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args)
    })
    const made: unknown[] = []
    try {
      for (const block of runnable) {
        const { values } = await withTimeout(runBlock({ block, scratch, paths, ports }), 10_000, label(block))
        made.push(...values.map(([, value]) => value))
        for (const [name, client] of values) {
          if (!isClient(client)) continue
          const drained = (): boolean => {
            const { status, outbox } = client.getSnapshot()
            return status === 'open' && outbox.queued + outbox.inFlight + outbox.failed === 0
          }
          await waitFor(`${label(block)}: ${name} open with an empty outbox`, drained, 5000).catch((error: unknown) => {
            const { status, outbox, lastError } = client.getSnapshot()
            throw new Error(
              `${String(error)}; snapshot ${JSON.stringify({ status, outbox, lastError: String(lastError) })}`,
            )
          })
          expect(client.getSnapshot().lastError, `${label(block)}: ${name}.lastError`).toBeNull()
        }
        if (block.logs !== undefined) {
          const expected = block.logs
          const seen = (): boolean => logged.some((args) => args.some((arg) => isDeepStrictEqual(arg, expected)))
          await waitFor(`${label(block)} logs ${JSON.stringify(expected)}`, seen, 5000).catch((error: unknown) => {
            throw new Error(`${String(error)}; logged ${JSON.stringify(logged)}`)
          })
        }
      }
    } finally {
      for (const value of made.reverse()) await withTimeout(closeValue(value), 5000, 'closing what the blocks made')
      log.mockRestore()
    }
  }, 30_000)
})
