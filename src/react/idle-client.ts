import { lifelineError, rawProtocol, type LifelineClient, type OutboxItem } from '../core'
import { idleSnapshot } from '../store'

const notYet = (): never => {
  throw lifelineError('MISSING_PROVIDER', 'no client yet (server rendering, or url is null)')
}
const nothing = (): void => undefined
const noItems: readonly OutboxItem[] = []

/**
 * The one stand-in for "no client yet": while server rendering under a provider that creates its client in the
 * browser, or for `useWebSocket(null)`. Its snapshot is the idle one (what the server renders and hydration starts
 * from), it never changes, and every action throws `MISSING_PROVIDER`. Hooks and components render it like any
 * client, so none of them needs a special case.
 */
export const idleClient: LifelineClient = Object.freeze({
  url: '',
  maxAttempts: Infinity,
  getSnapshot: () => idleSnapshot,
  subscribe: () => nothing,
  on: () => nothing,
  connect: notYet,
  close: notYet,
  retry: notYet,
  send: notYet,
  sendJson: notYet,
  outbox: { items: () => noItems, retry: notYet, discard: notYet },
  protocol: rawProtocol(),
  retain: () => nothing,
  dispose: nothing,
  resources: () => ({ timers: 0, listeners: 0, sockets: 0 }),
  getWebSocket: () => null,
  now: () => Date.now(),
})
