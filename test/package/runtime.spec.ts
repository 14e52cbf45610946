import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'
import { inject } from 'vitest'
import { extractBlocks } from '../readme/markdown-blocks'
import { ENTRY_POINTS, runInConsumer, specifierOf } from './package-check'

// The installed tarball in a fresh `"type": "commonjs"` project (what `npm init -y` makes): every entry point loads
// with require() and with import, both expose the same names, and the server entry starts, answers and stops.

const { consumer } = inject('packageCheck')

interface LoadReport {
  required: Record<string, string[] | { error: string }>
  imported: Record<string, string[] | { error: string }>
}

let loads: LoadReport

beforeAll(async () => {
  const specifiers = JSON.stringify(ENTRY_POINTS.map(specifierOf))
  const result = await runInConsumer(
    consumer,
    'load-entries.cjs',
    `
const names = (module) => Object.keys(module).filter((key) => key !== '__esModule' && key !== 'default').sort()
const attempt = async (load) => { try { return names(await load()) } catch (error) { return { error: String(error) } } }
;(async () => {
  const required = {}
  const imported = {}
  for (const specifier of ${specifiers}) {
    required[specifier] = await attempt(() => require(specifier))
    imported[specifier] = await attempt(() => import(specifier))
  }
  process.stdout.write(JSON.stringify({ required, imported }))
})()
`,
  )
  expect(result.stderr).toBe('')
  loads = JSON.parse(result.stdout) as LoadReport
})

describe.each(ENTRY_POINTS.map(specifierOf))('%s', (specifier) => {
  it('loads with require() in a CommonJS project', () => {
    const required = loads.required[specifier]
    expect(required).toBeInstanceOf(Array)
    expect((required as string[]).length).toBeGreaterThan(0)
  })

  it('loads with import and exposes the same names as require()', () => {
    expect(loads.imported[specifier]).toEqual(loads.required[specifier])
  })
})

it("require('react-lifeline/server') starts a server that answers hello with welcome, then stops", async () => {
  const result = await runInConsumer(
    consumer,
    'start-server.cjs',
    `
const { createLifelineServer } = require('react-lifeline/server')
const { WebSocket } = require('ws')
;(async () => {
  const server = await createLifelineServer({ port: 0 })
  const socket = new WebSocket(server.url)
  socket.on('open', () => socket.send(JSON.stringify({ type: 'hello', v: 1 })))
  const frame = await new Promise((resolve, reject) => {
    socket.once('message', (data) => resolve(JSON.parse(String(data))))
    socket.once('error', reject)
    setTimeout(() => reject(new Error('no frame within 5 s')), 5000).unref()
  })
  const port = server.port
  socket.close()
  await server.close()
  process.stdout.write(JSON.stringify({ type: frame.type, port }))
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1 })
`,
  )
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const answer = JSON.parse(result.stdout) as { type: string; port: number }
  expect(answer.type).toBe('welcome')
  expect(answer.port).toBeGreaterThan(0)
})

it('the client entries load without ws installed (ws is an optional peer of the server and testing entries)', async () => {
  // A copy of the installed package beside react and zustand only, next to (not inside) the consumer project, whose
  // node_modules would otherwise be found by walking up.
  const project = join(dirname(consumer), 'without-ws')
  const modules = join(project, 'node_modules')
  mkdirSync(modules, { recursive: true })
  cpSync(join(consumer, 'node_modules', 'react-lifeline'), join(modules, 'react-lifeline'), { recursive: true })
  for (const name of ['react', 'zustand']) symlinkSync(join(consumer, 'node_modules', name), join(modules, name), 'dir')
  const result = await runInConsumer(
    project,
    'client-only.cjs',
    `
const loaded = ['react-lifeline', 'react-lifeline/core', 'react-lifeline/diagnose'].map((id) => Object.keys(require(id)).length)
let server = 'loaded'
try { require('react-lifeline/server') } catch (error) { server = error.code + ' ' + error.message.split('\\n')[0] }
process.stdout.write(JSON.stringify({ loaded, server }))
`,
  )
  expect(result.stderr).toBe('')
  const { loaded, server } = JSON.parse(result.stdout) as { loaded: number[]; server: string }
  expect(loaded.every((count) => count > 0)).toBe(true)
  expect(server).toMatch(/MODULE_NOT_FOUND.*'ws'/)
})

it("runs the README's server snippet as written, in a CommonJS project (imports as require, top-level await in a function)", async () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
  const block = extractBlocks('README.md', readme).blocks.find(
    (candidate) => candidate.run && candidate.code.includes("from 'react-lifeline/server'"),
  )
  if (!block) throw new Error("README.md has no runnable block importing 'react-lifeline/server'")
  // A CommonJS file cannot import or await at top level: imports become require() calls, the rest runs in an async
  // function. Types are stripped by esbuild; the example port becomes a free one.
  const requires: string[] = []
  const body = `${block.prelude}\n${block.code}`.replace(
    /^import\s+(type\s+)?(\{[^}]*\})\s+from\s+'([^']+)'\s*$/gm,
    (_line: string, typeOnly: string | undefined, names: string, from: string) => {
      if (!typeOnly) requires.push(`const ${names.replace(/\btype\s+\w+\s*,?/g, '')} = require('${from}')`)
      return ''
    },
  )
  const source = `${requires.join('\n')}
;(async () => {
${body.replace(/\b8080\b/g, '0')}
  const position = await lifeline.publish('room:42', { text: 'again' })
  await lifeline.close()
  http.close()
  process.stdout.write(JSON.stringify({ publish: typeof lifeline.publish, position }))
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1 })
`
  const { code } = await transform(source, { loader: 'ts' })
  const result = await runInConsumer(consumer, 'readme-server.cjs', code)
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const answer = JSON.parse(result.stdout) as { publish: string; position: { epoch: string; seq: number } }
  expect(answer.publish).toBe('function')
  expect(answer.position.seq).toBe(2)
})
