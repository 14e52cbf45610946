import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { checkImport, importsOf, layerOf, layers } from '../scripts/layers.mjs'

const loaded = vi.hoisted(() => new Set<string>())

vi.mock('react', () => {
  loaded.add('react')
  return {}
})
vi.mock('react/jsx-runtime', () => {
  loaded.add('react/jsx-runtime')
  return {}
})
vi.mock('react-dom', () => {
  loaded.add('react-dom')
  return {}
})
vi.mock('zustand', () => {
  loaded.add('zustand')
  return {}
})
vi.mock('zustand/vanilla', () => {
  loaded.add('zustand/vanilla')
  return {}
})

const srcDir = fileURLToPath(new URL('../src/', import.meta.url))

function sourceFiles(): string[] {
  return readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
    .map((path) => path.split('\\').join('/'))
    .filter((path) => /\.(ts|tsx|mts|cts|js|mjs)$/.test(path) && !path.endsWith('.d.ts'))
    .sort()
}

const edges = sourceFiles().flatMap((file) =>
  importsOf(readFileSync(`${srcDir}${file}`, 'utf8')).map((specifier) => ({ file, specifier })),
)

function violationsIn(layer: string | undefined): string[] {
  return edges
    .filter((edge) => layerOf(edge.file) === layer)
    .map((edge) => checkImport(edge))
    .filter((message): message is string => message !== undefined)
}

describe('layer dependency direction', () => {
  it('finds the source files it checks', () => {
    expect(sourceFiles()).toContain('core/index.ts')
  })

  it.each(Object.keys(layers))('keeps every import of the %s layer within its rule', (layer) => {
    const violations = violationsIn(layer)
    expect(violations, violations.join('\n')).toEqual([])
  })

  it('reaches the layers from src/*.ts through their indexes only', () => {
    const violations = violationsIn(undefined)
    expect(violations, violations.join('\n')).toEqual([])
  })

  it('keeps JSX out of core and store', () => {
    const jsxFiles = sourceFiles().filter((file) => /^(core|store)\/.*\.tsx$/.test(file))
    expect(jsxFiles).toEqual([])
  })
})

describe('layer rule checker', () => {
  it.each([
    ['core/machine.ts', '../store', 'must not import the store layer'],
    ['core/sub/deep.ts', '../../react/index', 'must not import the react layer'],
    ['core/client.ts', 'react', 'core must not import "react"'],
    ['core/client.ts', 'react-dom/client', 'core must not import "react-dom/client"'],
    ['core/client.ts', 'zustand/vanilla', 'core must not import "zustand/vanilla"'],
    ['store/connection.ts', '../react', 'must not import the react layer'],
    ['store/connection.ts', 'zustand', 'store must not import "zustand"'],
    ['store/connection.ts', 'react', 'store must not import "react"'],
    ['react/use-channel.ts', '../components', 'must not import the components layer'],
    ['components/banner.tsx', '../store', 'must not import the store layer'],
    ['server/server.ts', '../react', 'must not import the react layer'],
    ['testing/fault-proxy.ts', '../store', 'must not import the store layer'],
    ['react/use-channel.ts', '../core/machine', 'only through its index'],
    ['testing/test-server.ts', '../server/brokers/memory', 'only through its index'],
    ['index.ts', './core/machine', 'only through its index'],
    ['react/provider.tsx', 'react-lifeline/core', 'import by relative path'],
  ])('rejects %s importing "%s"', (file, specifier, reason) => {
    expect(checkImport({ file, specifier })).toContain(reason)
  })

  it.each([
    ['core/machine.ts', './backoff'],
    ['core/sub/deep.ts', '../machine'],
    ['store/connection.ts', '../core'],
    ['store/connection.ts', 'zustand/vanilla'],
    ['react/use-channel.ts', '../store/index'],
    ['react/use-channel.ts', '../core/index.ts'],
    ['react/use-channel.ts', 'react'],
    ['components/banner.tsx', '../react'],
    ['server/server.ts', 'ws'],
    ['server/server.ts', 'node:http'],
    ['testing/test-server.ts', '../server'],
    ['index.ts', './components'],
  ])('allows %s importing "%s"', (file, specifier) => {
    expect(checkImport({ file, specifier })).toBeUndefined()
  })

  it('reads static, type-only, re-export, side-effect and dynamic imports but not comments', () => {
    const source = [
      "import { a } from './a'",
      "import type { B } from '../store'",
      "export * from './c'",
      "export { type D } from './d'",
      "import './e.css'",
      "const f = await import('./f')",
      '// import { g } from "./g"',
      "/* import h from './h' */",
      "const url = 'ws://example.test/socket'",
    ].join('\n')
    expect(importsOf(source).sort()).toEqual(['../store', './a', './c', './d', './e.css', './f'])
  })
})

describe('core without React or zustand', () => {
  it('imports src/core with react, react-dom and zustand mocked to empty modules and never loads them', async () => {
    const core = await import('../src/core/index')
    expect(core).toBeTypeOf('object')
    expect([...loaded]).toEqual([])
  })
})

describe('per-layer type checks', () => {
  const root = fileURLToPath(new URL('../', import.meta.url))

  function diagnosticsOf(configFile: string, extraFiles: Record<string, string> = {}): string[] {
    const config = ts.getParsedCommandLineOfConfigFile(
      `${root}${configFile}`,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
        },
      },
    )
    if (!config) throw new Error(`cannot read ${configFile}`)
    const host = ts.createCompilerHost(config.options)
    const readFile = host.readFile.bind(host)
    const fileExists = host.fileExists.bind(host)
    host.readFile = (name) => extraFiles[name] ?? readFile(name)
    host.fileExists = (name) => name in extraFiles || fileExists(name)
    const program = ts.createProgram({
      rootNames: [...config.fileNames, ...Object.keys(extraFiles)],
      options: config.options,
      host,
    })
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
      if (!diagnostic.file || diagnostic.start === undefined) return text
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
      return `${diagnostic.file.fileName.replace(root, '')}:${line + 1}: ${text}`
    })
  }

  it('compiles src/core without the DOM lib or Node types (tsconfig.core.json)', () => {
    const errors = diagnosticsOf('tsconfig.core.json')
    expect(errors, errors.join('\n')).toEqual([])
  }, 60_000)

  it('rejects page-only globals and Node’s process in src/core, but not process.env.NODE_ENV', () => {
    const probe = `${root}src/core/__layer-probe__.ts`
    const lines = [
      "export const mode = process.env.NODE_ENV !== 'production'",
      'export const title = window.document.title',
      'export const stored = localStorage.getItem("k")',
      'process.exit(1)',
      'export const cwd = process.cwd()',
    ]
    const errors = diagnosticsOf('tsconfig.core.json', { [probe]: lines.join('\n') }).filter((error) =>
      error.startsWith('src/core/__layer-probe__.ts'),
    )
    expect(errors.map((error) => Number(error.split(':')[1]))).toEqual([2, 3, 4, 5])
  }, 60_000)

  it('type-checks the public API type tests, every @ts-expect-error included (tsconfig.types.json)', () => {
    const errors = diagnosticsOf('tsconfig.types.json')
    expect(errors, errors.join('\n')).toEqual([])
  }, 60_000)
})
