import { measureEntry, sizeEntries } from '../scripts/size.mjs'

describe('bundle size budgets', () => {
  for (const entry of sizeEntries) {
    it(`keeps ${entry.name} within ${entry.budget} B gzip`, async () => {
      const result = await measureEntry(entry)
      expect(result.gzip, `${entry.name}: ${result.gzip} B gzip, ${result.minified} B minified`).toBeLessThanOrEqual(
        entry.budget,
      )
      if (entry.lazyBudget !== undefined) {
        expect(result.lazyGzip, `${entry.name}: ${result.lazyGzip} B gzip loaded on use`).toBeLessThanOrEqual(
          entry.lazyBudget,
        )
      }
      for (const module of entry.notUpFront ?? []) {
        expect(result.modules[module], `${module} loads up front with ${entry.name}`).toBeUndefined()
      }
    })
  }
})
