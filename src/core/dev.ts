/**
 * True outside production builds. Bundlers replace `process.env.NODE_ENV` (Vite, webpack, esbuild with `define`), so
 * developer-only text (hints, detailed validation messages) is dropped from production bundles, as React does.
 */
export const DEV: boolean = process.env.NODE_ENV !== 'production'
