/** One layer's dependency rule. */
export interface LayerRule {
  /** Other layers this one may import, through their index only. */
  mayImport: readonly string[]
  /** Regular expressions over package specifiers this layer must not import. */
  forbiddenPackages: readonly string[]
  /** The reason, shown in every violation message. */
  why: string
}

/** The layers under src/ and their rules. */
export declare const layers: Readonly<Record<string, LayerRule>>

/** Regular expression matching imports of the package by its own name. */
export declare const selfPackage: string

/** The layer of a posix path relative to src/, or undefined for files directly in src/. */
export declare function layerOf(fileFromSrc: string): string | undefined

/** The rule an import breaks, or undefined when allowed. `file` is relative to src/. */
export declare function checkImport(edge: { file: string; specifier: string }): string | undefined

/** Import specifiers found in a source text. */
export declare function importsOf(source: string): string[]

/** Flat-config blocks enforcing the layer rules with `no-restricted-imports`. */
export declare function eslintLayerBlocks(options?: { maxDepth?: number }): Array<{
  files: string[]
  rules: Record<string, unknown>
}>
