// Bundles a TypeScript entry point for Node with esbuild (already a dev dependency): plain Node cannot load
// TypeScript. Used by scripts/start.mjs (the dev servers), scripts/cluster-nodes.mjs (the node process) and bench/.
import { build } from 'esbuild'

/** Bundles `entry` and the parts of src/ it imports into the ES module `outfile`; npm packages stay imports. */
export async function bundleForNode(entry, outfile) {
  await build({
    entryPoints: [entry],
    bundle: true,
    outfile,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  })
}
