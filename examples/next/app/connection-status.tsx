'use client'
import dynamic from 'next/dynamic'

// Browser only: useConnection throws MISSING_PROVIDER while a page is server rendered (the provider's client exists
// only in the browser), which fails `next build` when it prerenders the page.
export const ConnectionStatus = dynamic(() => import('./status'), {
  ssr: false,
  loading: () => <p data-status="loading">Connection: …</p>,
})
