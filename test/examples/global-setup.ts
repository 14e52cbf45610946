import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { pack, scratchBase } from '../package/global-setup'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the examples tier works (test/examples/support.ts). */
    examples: { root: string; scratch: string }
  }
}

/**
 * Packs this package (building dist/ first when it is stale) as `<scratch>/react-lifeline.tgz`: the path the
 * examples' package.json name (`file:../react-lifeline.tgz`) once each example is copied to `<scratch>/<name>`.
 */
export async function setup(project: TestProject): Promise<() => void> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const scratch = mkdtempSync(join(scratchBase(), 'lifeline-examples-'))
  try {
    const packDir = join(scratch, 'pack')
    mkdirSync(packDir)
    const { tarball } = await pack(packDir)
    copyFileSync(tarball, join(scratch, 'react-lifeline.tgz'))
    project.provide('examples', { root, scratch })
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true })
    throw error
  }
  return () => rmSync(scratch, { recursive: true, force: true })
}
