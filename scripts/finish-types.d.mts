/** A declaration imports a relative path with no emitted declaration behind it. */
export declare class UnresolvedDeclarationImportError extends Error {
  readonly code: 'UNRESOLVED_DECLARATION_IMPORT'
}

/** `<spec>` or `<spec>/index` (no extension) when a declaration exists there, else undefined. */
export declare function resolveDeclarationSpecifier(
  fromFile: string,
  specifier: string,
  fileExists?: (path: string) => boolean,
): string | undefined

/** Rewrites the relative specifiers of one declaration file to `<path>.<extension>`. */
export declare function rewriteDeclarationSpecifiers(
  source: string,
  fromFile: string,
  extension: 'js' | 'cjs',
  fileExists?: (path: string) => boolean,
): string

/** Rewrites every .d.ts under `typesDir` in place and writes its .d.cts twin; returns the number of files. */
export declare function finishTypes(typesDir: string): number
