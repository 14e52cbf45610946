import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  finishTypes,
  rewriteDeclarationSpecifiers,
  UnresolvedDeclarationImportError,
} from '../../scripts/finish-types.mjs'

// Emitted declarations: /t/index.d.ts, /t/server.d.ts, /t/core/index.d.ts, /t/core/errors.d.ts
const emitted = new Set(['/t/index.d.ts', '/t/server.d.ts', '/t/core/index.d.ts', '/t/core/errors.d.ts'])
const exists = (path: string) => emitted.has(path)

describe('rewriteDeclarationSpecifiers', () => {
  it('points a folder at its index and a module at its file, with the given extension', () => {
    const source = "export * from './core';\nexport { createLifelineServer } from './server';\n"
    expect(rewriteDeclarationSpecifiers(source, '/t/index.d.ts', 'js', exists)).toBe(
      "export * from './core/index.js';\nexport { createLifelineServer } from './server.js';\n",
    )
    expect(rewriteDeclarationSpecifiers(source, '/t/index.d.ts', 'cjs', exists)).toBe(
      "export * from './core/index.cjs';\nexport { createLifelineServer } from './server.cjs';\n",
    )
  })

  it('rewrites parent paths, import types, `.` and double quotes, and leaves packages alone', () => {
    const source = [
      'import type { A } from "../server";',
      "export type B = import('./errors').LifelineError;",
      "import type { C } from '..';",
      "import type { Server } from 'node:http';",
      "import type { RawData } from 'ws';",
    ].join('\n')
    expect(rewriteDeclarationSpecifiers(source, '/t/core/index.d.ts', 'js', exists).split('\n')).toEqual([
      'import type { A } from "../server.js";',
      "export type B = import('./errors.js').LifelineError;",
      "import type { C } from '../index.js';",
      "import type { Server } from 'node:http';",
      "import type { RawData } from 'ws';",
    ])
  })

  it('is idempotent: a specifier that already names its .js file is kept, or switched to .cjs', () => {
    const once = rewriteDeclarationSpecifiers("export * from './core';", '/t/index.d.ts', 'js', exists)
    expect(rewriteDeclarationSpecifiers(once, '/t/index.d.ts', 'js', exists)).toBe(once)
    expect(rewriteDeclarationSpecifiers(once, '/t/index.d.ts', 'cjs', exists)).toBe("export * from './core/index.cjs';")
  })

  it('fails on a relative specifier with no declaration behind it', () => {
    expect(() => rewriteDeclarationSpecifiers("export * from './missing';", '/t/index.d.ts', 'js', exists)).toThrow(
      UnresolvedDeclarationImportError,
    )
  })
})

describe('finishTypes', () => {
  let dir = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'finish-types-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('rewrites each .d.ts in place, writes its .d.cts twin and drops source map comments', () => {
    mkdirSync(join(dir, 'core'))
    writeFileSync(join(dir, 'index.d.ts'), "export * from './core';\n//# sourceMappingURL=index.d.ts.map\n")
    writeFileSync(join(dir, 'core', 'index.d.ts'), 'export declare const x: 1;\n')
    expect(finishTypes(dir)).toBe(2)
    expect(readFileSync(join(dir, 'index.d.ts'), 'utf8')).toBe("export * from './core/index.js';\n")
    expect(readFileSync(join(dir, 'index.d.cts'), 'utf8')).toBe("export * from './core/index.cjs';\n")
    expect(readFileSync(join(dir, 'core', 'index.d.cts'), 'utf8')).toBe('export declare const x: 1;\n')
  })
})
