// The connection machine's transitions, read off src/core/machine.ts by running `transition()`: its guards are code,
// so every (state, event) pair is exercised over representative situations and each outcome is labelled with the
// smallest condition that picks it out.

const NOW = 1_000_000

/**
 * A situation is a point on these dimensions. `statuses` limits a dimension to the states where it can vary: the
 * machine keeps `reconnecting` online and `offline` offline, and only those two wait on a server-imposed hold.
 */
const stateDimensions = [
  {
    name: 'online',
    values: [
      { label: 'online', state: { online: true } },
      { label: '!online', state: { online: false } },
    ],
    fixed: { reconnecting: 0, offline: 1 },
  },
  {
    name: 'attempt',
    values: [
      { label: 'attempt < maxAttempts', state: { attempt: 0 } },
      { label: 'attempt ≥ maxAttempts', state: { attempt: 2 } },
    ],
  },
  {
    name: 'hold',
    values: [
      { label: 'now ≥ holdUntil', state: { holdUntil: 0 } },
      { label: 'now < holdUntil', state: { holdUntil: NOW + 5_000 } },
    ],
    only: ['reconnecting', 'offline'],
  },
  {
    name: 'refreshes',
    values: [
      { label: 'refreshes < maxTokenRefreshes', state: { tokenRefreshes: [] } },
      { label: 'refreshes ≥ maxTokenRefreshes', state: { tokenRefreshes: [NOW - 1_000] } },
    ],
  },
  {
    name: 'getToken',
    values: [
      { label: 'getToken', config: { canRefreshToken: true } },
      { label: '!getToken', config: { canRefreshToken: false } },
    ],
  },
]

const config = {
  minDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: 2,
  backoff: 'full-jitter',
  closeCodes: {},
  canRefreshToken: true,
  maxTokenRefreshes: 1,
  tokenRefreshWindowMs: 60_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
  stableAfterMs: 5_000,
}

const sampleError = { code: 'CONNECTION_CLOSED', message: 'sample' }

/**
 * The payload dimensions of each event the table handles. An event missing here makes `deriveTable` throw, so a new
 * event cannot slip into the diagram unsampled.
 * @param {Readonly<Record<number, { action: string }>>} closeCodes
 */
function eventSamples(closeCodes) {
  // One code per close action, the lowest default code that has it.
  const codeByAction = new Map()
  for (const [code, rule] of Object.entries(closeCodes)) {
    if (!codeByAction.has(rule.action)) codeByAction.set(rule.action, Number(code))
  }
  const closeCodeDimension = {
    name: 'code',
    values: [...codeByAction].map(([action, code]) => ({ label: action, event: { code, reason: '', wasClean: true } })),
  }
  return {
    CONNECT: [],
    RETRY: [],
    CLOSE: [{ name: 'close', values: [{ label: '', event: { code: 1000, reason: '' } }] }],
    OPENED: [],
    CLOSED: [
      closeCodeDimension,
      // `stop`: the app's shouldReconnect(close) said no.
      {
        name: 'stop',
        values: [
          { label: 'shouldReconnect', event: {} },
          { label: '!shouldReconnect', event: { stop: true } },
        ],
      },
    ],
    ERROR: [{ name: 'error', values: [{ label: '', event: { error: sampleError } }] }],
    FAIL: [{ name: 'error', values: [{ label: '', event: { error: sampleError } }] }],
    CONNECT_TIMEOUT: [{ name: 'waitingForToken', values: flagValues('waitingForToken', {}) }],
    HEARTBEAT_TIMEOUT: [],
    RETRY_DUE: [],
    STABLE: [],
    CLOSE_TIMEOUT: [],
    TOKEN_FAILED: [{ name: 'error', values: [{ label: '', event: { error: sampleError } }] }],
    ONLINE: [],
    OFFLINE: [],
    VISIBLE: [],
    HIDDEN: [],
    SWITCH: [],
    DIAGNOSED: [
      { name: 'stop', values: flagValues('stop', { error: sampleError }) },
      {
        name: 'holdMs',
        values: [
          { label: 'holdMs', event: { holdMs: 10_000 } },
          { label: 'holdMs = null', event: { holdMs: null } },
        ],
      },
    ],
  }
}

function flagValues(key, extra) {
  return [
    { label: key, event: { ...extra, [key]: true } },
    { label: `!${key}`, event: { ...extra, [key]: false } },
  ]
}

/** Every combination of one value per dimension. */
function product(dimensions) {
  let points = [[]]
  for (const dimension of dimensions) {
    points = points.flatMap((point) => dimension.values.map((_, index) => [...point, index]))
  }
  return points
}

/** The dimensions that vary in `status`, each with the values it can take there. */
function dimensionsFor(status) {
  return stateDimensions
    .filter((dimension) => !dimension.only || dimension.only.includes(status))
    .map((dimension) => {
      const fixed = dimension.fixed?.[status]
      return fixed === undefined ? dimension : { ...dimension, values: [dimension.values[fixed]] }
    })
}

/** Cubes: one non-empty subset of value indexes per dimension, as bit masks. */
function subsetMasks(size) {
  const masks = []
  for (let mask = 1; mask < 1 << size; mask += 1) masks.push(mask)
  // Wider subsets first, so the first implicant found for a point is a large one.
  return masks.sort((a, b) => popcount(b) - popcount(a) || a - b)
}

function popcount(mask) {
  let count = 0
  for (let rest = mask; rest; rest >>= 1) count += rest & 1
  return count
}

/**
 * The smallest set of conditions (conjunctions over the dimensions) that covers exactly the points with outcome
 * `target`: prime implicants found by enumeration, then a greedy cover (largest first, fewest literals on ties).
 */
function minimalCover(dimensions, points, outcomes, target) {
  const masksPerDimension = dimensions.map((dimension) => subsetMasks(dimension.values.length))
  const cubes = product(masksPerDimension.map((masks) => ({ values: masks }))).map((indexes) =>
    indexes.map((index, dimension) => masksPerDimension[dimension][index]),
  )
  const inside = (cube, point) => point.every((value, dimension) => cube[dimension] & (1 << value))
  const implicants = cubes.filter((cube) =>
    points.every((point, index) => !inside(cube, point) || outcomes[index] === target),
  )
  const contains = (outer, inner) => outer.every((mask, dimension) => (mask & inner[dimension]) === inner[dimension])
  const primes = implicants.filter(
    (cube) => !implicants.some((other) => other !== cube && contains(other, cube) && !contains(cube, other)),
  )
  const full = dimensions.map((dimension) => (1 << dimension.values.length) - 1)
  const literals = (cube) => cube.filter((mask, dimension) => mask !== full[dimension]).length
  let uncovered = points.filter((_, index) => outcomes[index] === target)
  const chosen = []
  while (uncovered.length > 0) {
    let best = null
    let bestCount = 0
    for (const cube of primes) {
      const count = uncovered.filter((point) => inside(cube, point)).length
      if (count > bestCount || (count === bestCount && count > 0 && literals(cube) < literals(best))) {
        best = cube
        bestCount = count
      }
    }
    chosen.push(best)
    uncovered = uncovered.filter((point) => !inside(best, point))
  }
  return chosen.map((cube) => describeCube(dimensions, cube, full))
}

/** `a && b`, a multi-valued dimension as `code: x | y` (or `code not z` when that is shorter). */
function describeCube(dimensions, cube, full) {
  const parts = []
  cube.forEach((mask, index) => {
    if (mask === full[index]) return
    const dimension = dimensions[index]
    const labels = dimension.values.map((value) => value.label)
    const picked = labels.filter((_, value) => mask & (1 << value))
    if (labels.length === 2) parts.push(picked[0])
    else if (picked.length * 2 <= labels.length) parts.push(`${dimension.name}: ${picked.join(' | ')}`)
    else parts.push(`${dimension.name} not ${labels.filter((_, value) => !(mask & (1 << value))).join(' | ')}`)
  })
  return parts.length ? parts.join(' && ') : null
}

/**
 * The machine's transitions as data: every state, every event some state handles, and one row per (state, event,
 * next state) with the guard under which it happens (`null`: always). Rows with `to === from` are handled events that
 * keep the state.
 * @param {import('./state-diagram.d.mts').MachineModule} machineModule
 * @returns {import('./state-diagram.d.mts').DiagramTable}
 */
export function deriveTable({ machine, transition, initialMachineState, defaultCloseCodes }) {
  const states = Object.keys(machine)
  const samples = eventSamples(defaultCloseCodes)
  const events = []
  for (const status of states) {
    for (const type of Object.keys(machine[status].on)) if (!events.includes(type)) events.push(type)
  }
  const rows = []
  for (const from of states) {
    for (const type of Object.keys(machine[from].on)) {
      const payloadDimensions = samples[type]
      if (!payloadDimensions)
        throw new Error(`state-diagram: no sample payload for event ${type} (add it to eventSamples)`)
      const dimensions = [...dimensionsFor(from), ...payloadDimensions]
      const points = product(dimensions)
      const outcomes = points.map((point) => {
        let state = { ...initialMachineState(true), status: from, epoch: 1 }
        let env = { ...config }
        let event = { type }
        point.forEach((valueIndex, index) => {
          const value = dimensions[index].values[valueIndex]
          state = { ...state, ...value.state }
          env = { ...env, ...value.config }
          event = { ...event, ...value.event }
        })
        if (from === 'reconnecting') state = { ...state, nextRetryAt: Math.max(state.holdUntil, NOW + 1_000) }
        return transition(state, event, { now: NOW, random: () => 0.5, config: env }).state.status
      })
      const targets = states.filter((status) => outcomes.includes(status))
      for (const to of targets) {
        const guards = targets.length === 1 ? [null] : minimalCover(dimensions, points, outcomes, to)
        for (const guard of guards) rows.push({ from, event: type, to, guard })
      }
    }
  }
  return { initial: initialMachineState(true).status, states, events, transitions: rows }
}
