import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inject } from 'vitest'
import { runCommand } from './package-check'

// The installed tarball typechecked by a consumer's own tsconfig, without skipLibCheck: every entry point from an ES
// module and from a CommonJS module under module nodenext, and the server and testing entries with no DOM lib under
// module node16 (the strictest for CommonJS: no require(esm)). Each file holds @ts-expect-error lines that only hold when the types
// are real: were an export `any`, the directive would be unused and tsc would fail (TS2578).

const { root, consumer } = inject('packageCheck')

/** Uses every entry point; `@ts-expect-error` marks what must not typecheck. */
const ALL_ENTRIES = `
import { ConnectionBanner, useWebSocket, type ConnectionStatus } from 'react-lifeline'
import { computeBackoff, LifelineError } from 'react-lifeline/core'
import { diagnoseHandshake, type Diagnosis } from 'react-lifeline/diagnose'
SERVER_ENTRIES_HERE

export const status: ConnectionStatus = 'open'
// @ts-expect-error not a ConnectionStatus
export const badStatus: ConnectionStatus = 'sleeping'
export const banner: typeof ConnectionBanner = ConnectionBanner
// @ts-expect-error a hook is not a number
export const hookAsNumber: number = useWebSocket

export const queueFull = new LifelineError('QUEUE_FULL')
export const code: string = queueFull.code
// @ts-expect-error not a LifelineErrorCode
export const badError = new LifelineError('NOT_A_CODE')
// @ts-expect-error computeBackoff returns a number
export const backoffAsString: ReturnType<typeof computeBackoff> = 'soon'

export type Kind = Diagnosis['kind']
// @ts-expect-error not a DiagnosisKind
export const badKind: Kind = 'sleeping'
// @ts-expect-error diagnoseHandshake returns a Promise
export const diagnoseAsNumber: ReturnType<typeof diagnoseHandshake> = 1
`

/** The Node-only entries: also checked with no DOM lib. */
const SERVER_ENTRIES = `
import { createLifelineServer, LifelineServerError, type LifelineServer } from 'react-lifeline/server'
import { createFaultProxy, createTestServer } from 'react-lifeline/testing'

export async function start(): Promise<LifelineServer> {
  const server = await createLifelineServer({ port: 0, allowedOrigins: ['https://app.example.com'] })
  const port: number = server.port
  // @ts-expect-error port is a number
  const portAsString: string = server.port
  void [port, portAsString]
  // @ts-expect-error no such option
  await createLifelineServer({ prot: 0 })
  return server
}
export async function kit(): Promise<string> {
  const server = await createTestServer()
  const proxy = await createFaultProxy({ target: server.url })
  // @ts-expect-error url is a string
  const urlAsNumber: number = proxy.url
  void urlAsNumber
  return server.url
}
export const serverError = new LifelineServerError('SERVER_CLOSED', 'closed')
// @ts-expect-error not a LifelineServerErrorCode
export const badServerError = new LifelineServerError('NOPE', 'x')
`

interface Check {
  name: string
  files: Record<string, string>
  compilerOptions: Record<string, unknown>
}

const strict = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', types: ['node'] }
const withDom = { ...strict, lib: ['es2022', 'dom', 'dom.iterable'], jsx: 'react-jsx' }
const allEntries = ALL_ENTRIES.replace('SERVER_ENTRIES_HERE', SERVER_ENTRIES)

// Two programs, each about 10 s (it checks @types/node and @types/react in full), run side by side.
const CHECKS: Check[] = [
  {
    name: 'every entry, from an ES module and from a CommonJS one (module nodenext)',
    files: { 'esm-check.mts': allEntries, 'cjs-check.cts': allEntries },
    compilerOptions: { ...withDom, module: 'nodenext', moduleResolution: 'nodenext' },
  },
  {
    // node16 has no require(esm): the CommonJS file only passes through the require conditions and .d.cts types.
    name: 'the server and testing entries with no DOM lib (module node16, ESM and CommonJS)',
    files: { 'server-check.mts': SERVER_ENTRIES, 'server-check.cts': SERVER_ENTRIES },
    compilerOptions: { ...strict, lib: ['es2022'], module: 'node16', moduleResolution: 'node16' },
  },
]

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

it.concurrent.each(CHECKS.map((check, index) => ({ ...check, index })))(
  'tsc: $name',
  async ({ files, compilerOptions, index }) => {
    for (const [name, source] of Object.entries(files)) writeFileSync(join(consumer, name), source)
    const config = `tsconfig.check-${String(index)}.json`
    writeFileSync(join(consumer, config), JSON.stringify({ compilerOptions, files: Object.keys(files) }, null, 2))
    const result = await runCommand(process.execPath, [tsc, '-p', config, '--pretty', 'false'], {
      cwd: consumer,
      timeout: 110_000,
    })
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('')
    expect(result.code).toBe(0)
  },
  // Slow on a busy machine; the rest of the tier runs meanwhile.
  120_000,
)
