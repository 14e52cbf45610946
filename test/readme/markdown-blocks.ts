/** The languages whose fenced blocks are checked; any other fence (sh, json, plain) is prose. */
export const CHECKED_LANGUAGES = ['ts', 'tsx', 'js', 'jsx'] as const
export type CheckedLanguage = (typeof CHECKED_LANGUAGES)[number]

/** A fenced code block of a Markdown file, with the `readme-test` markers written above it. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  language: CheckedLanguage
  /** The code between the fences. */
  code: string
  /** Why the block is not checked, when a `skip` marker says so. */
  skip: string | null
  /** Code placed before the block, from `prelude` markers (typechecked and run with it). */
  prelude: string
  /** Whether a `run` marker asks for the block to be executed. */
  run: boolean
  /** What one of the block's `console.log` calls must print when it runs (`run; logs <JSON>`), else undefined. */
  logs: unknown
}

/** A marker line that cannot be read: the test reports it rather than ignoring a typo. */
export interface MarkerProblem {
  file: string
  line: number
  problem: string
}

const MARKER = /^<!--\s*readme-test:\s*([\s\S]*?)\s*-->$/
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/

function isChecked(language: string): language is CheckedLanguage {
  return (CHECKED_LANGUAGES as readonly string[]).includes(language)
}

/**
 * Reads every fenced block of `markdown`. Markers are HTML comments (invisible on GitHub) in the lines right above
 * a block, blank lines allowed between them:
 * - `<!-- readme-test: skip (reason) -->`: not checked; the reason is required.
 * - `<!-- readme-test: prelude <code> -->`: code placed before the block (may span lines; several add up).
 * - `<!-- readme-test: run -->` or `<!-- readme-test: run; logs <JSON> -->`: executed too (see readme.test.ts).
 */
export function extractBlocks(file: string, markdown: string): { blocks: CodeBlock[]; problems: MarkerProblem[] } {
  const lines = markdown.split('\n')
  const blocks: CodeBlock[] = []
  const problems: MarkerProblem[] = []
  let pending: { skip: string | null; prelude: string[]; run: boolean; logs: unknown } | null = null
  let index = 0
  while (index < lines.length) {
    const text = lines[index] ?? ''
    const start = index
    if (text.trimStart().startsWith('<!--') && text.includes('readme-test')) {
      // A marker may span lines: read up to its closing `-->`.
      let comment = text.trim()
      while (!comment.endsWith('-->') && index + 1 < lines.length) {
        index += 1
        comment += '\n' + (lines[index] ?? '')
      }
      const body = MARKER.exec(comment.trim())?.[1]
      pending ??= { skip: null, prelude: [], run: false, logs: undefined }
      const problem = body === undefined ? 'unreadable marker' : applyMarker(pending, body)
      if (problem) problems.push({ file, line: start + 1, problem })
      index += 1
      continue
    }
    const fence = FENCE.exec(text)
    if (fence) {
      const [, indent = '', ticks = '```', language = ''] = fence
      const body: string[] = []
      index += 1
      while (index < lines.length && !(lines[index] ?? '').trimStart().startsWith(ticks)) {
        const codeLine = lines[index] ?? ''
        body.push(codeLine.startsWith(indent) ? codeLine.slice(indent.length) : codeLine)
        index += 1
      }
      if (isChecked(language)) {
        blocks.push({
          file,
          line: start + 1,
          language,
          code: body.join('\n'),
          skip: pending?.skip ?? null,
          prelude: pending?.prelude.join('\n') ?? '',
          run: pending?.run ?? false,
          logs: pending?.logs,
        })
      } else if (pending) {
        problems.push({ file, line: start + 1, problem: `markers above a \`${language || 'plain'}\` block` })
      }
      pending = null
      index += 1
      continue
    }
    if (pending && text.trim() !== '') {
      problems.push({ file, line: start + 1, problem: 'a readme-test marker not followed by a code block' })
      pending = null
    }
    index += 1
  }
  return { blocks, problems }
}

function applyMarker(
  pending: { skip: string | null; prelude: string[]; run: boolean; logs: unknown },
  body: string,
): string {
  const skip = /^skip\s*\((.+)\)$/s.exec(body)
  if (skip) {
    pending.skip = skip[1]!.trim()
    return ''
  }
  if (body.startsWith('skip')) return 'skip needs a reason: `skip (why)`'
  if (body.startsWith('prelude')) {
    pending.prelude.push(body.slice('prelude'.length).trim())
    return ''
  }
  const run = /^run(?:;\s*logs\s+([\s\S]+))?$/.exec(body)
  if (run) {
    pending.run = true
    if (run[1] === undefined) return ''
    try {
      pending.logs = JSON.parse(run[1]) as unknown
    } catch (error) {
      return `run; logs takes JSON: ${String(error)}`
    }
    return ''
  }
  return `unknown marker "${body.split(/\s/, 1)[0] ?? ''}" (skip, prelude or run)`
}
