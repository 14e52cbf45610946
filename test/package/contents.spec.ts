import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { inject } from 'vitest'

// What the tarball holds: publint's rules, the licence, no source maps pointing at unpublished sources, and
// documentation links that work inside the package (README and docs/ ship together; there is no repository URL).

const { tarball, files, consumer } = inject('packageCheck')
const paths = new Set(files.map((file) => file.path))

it('publint reports nothing, suggestions included', async () => {
  const buffer = readFileSync(tarball)
  const tarballData = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)
  const { messages, pkg } = await publint({ pack: { tarball: tarballData }, level: 'suggestion', strict: true })
  expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`)).toEqual([])
})

it('ships an MIT LICENSE, the README and docs/', () => {
  expect(paths).toContain('LICENSE')
  expect(paths).toContain('README.md')
  expect([...paths].some((path) => path.startsWith('docs/'))).toBe(true)
  const installed = join(consumer, 'node_modules', 'react-lifeline')
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { license?: string }
  expect(manifest.license).toBe('MIT')
  expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/)
})

it('ships no source maps and no file that points at src/', () => {
  expect([...paths].filter((path) => path.endsWith('.map'))).toEqual([])
  expect([...paths].filter((path) => path.startsWith('src/'))).toEqual([])
  const installed = join(consumer, 'node_modules', 'react-lifeline')
  const code = [...paths].filter((path) => /\.(c?js|d\.c?ts)$/.test(path))
  expect(code.length).toBeGreaterThan(10)
  expect(code.filter((path) => readFileSync(join(installed, path), 'utf8').includes('sourceMappingURL='))).toEqual([])
})

/** Relative link and image targets of a Markdown file (no URLs, no in-page anchors). */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (match) => match[1] ?? '',
  )
  return targets.filter((target) => !/^[a-z][a-z+.-]*:/i.test(target) && !target.startsWith('#'))
}

it('every relative link and image in README.md and docs/*.md points at a file in the tarball', () => {
  const installed = join(consumer, 'node_modules', 'react-lifeline')
  const markdown = [...paths].filter((path) => path === 'README.md' || /^docs\/.*\.md$/.test(path))
  expect(markdown.length).toBeGreaterThan(1)
  const broken: string[] = []
  for (const file of markdown) {
    const text = readFileSync(join(installed, file), 'utf8')
    for (const target of relativeLinks(text)) {
      const path = posix.normalize(posix.join(posix.dirname(file), decodeURI(target.split('#')[0] ?? '')))
      if (!paths.has(path)) broken.push(`${file} → ${target}`)
    }
  }
  expect(broken).toEqual([])
})

it('keeps ioredis out of every entry but react-lifeline/server/redis (an optional peer, only that entry needs it)', () => {
  const installed = join(consumer, 'node_modules', 'react-lifeline')
  const code = [...paths].filter((path) => /^dist\/[^/]+\.c?js$/.test(path))
  const importing = code.filter((path) => /\bioredis\b/.test(readFileSync(join(installed, path), 'utf8')))
  expect(importing.sort()).toEqual(['dist/server-redis.cjs', 'dist/server-redis.js'])
})
