import { inject } from 'vitest'

// Hands the global setup's server URLs to the stories (stories/_shared/dev-servers.ts), which never import vitest.
globalThis.__LIFELINE_DEV_SERVERS__ = inject('lifelineDevServers')
