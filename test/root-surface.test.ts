import * as core from '../src/core'
import * as root from '../src'

// The root entry is what an app uses; internals for plug-in authors, tests and server implementers are in /core.
const internals = [
  'machine',
  'transition',
  'timerFor',
  'initialMachineState',
  'createChannelRegistry',
  'redact',
  'safeJsonParse',
  'jsonDepth',
  'WireErrorCodes',
  'CloseCodes',
  'PROTOCOL_VERSION',
  'lifelineError',
  'resolveCloseMeaning',
  'computeBackoff',
]

describe('public surface', () => {
  it.each(internals)('keeps %s out of the root entry and in react-lifeline/core', (name) => {
    expect(root).not.toHaveProperty(name)
    expect(core).toHaveProperty(name)
  })

  it('exports from the root what an app calls', () => {
    for (const name of [
      'createLifeline',
      'useWebSocket',
      'useChannel',
      'useConnection',
      'useOutbox',
      'LifelineProvider',
      'ConnectionBanner',
      'ReconnectCountdown',
      'OfflineQueue',
      'lifelineProtocol',
      'rawProtocol',
      'longPollFallback',
      'eventSource',
      'useEventSource',
      'indexedDbOutbox',
      'localStorageOutbox',
      'outboxStorage',
      'LifelineError',
      'QueueFullError',
    ]) {
      expect(root, name).toHaveProperty(name)
    }
  })
})
