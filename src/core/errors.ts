/** Stable codes carried by every error the library raises or reports. Match on `error.code`, not on messages. */
export type LifelineErrorCode =
  | 'INVALID_URL'
  | 'URL_FAILED'
  | 'INSECURE_TRANSPORT'
  | 'INVALID_OPTIONS'
  | 'INVALID_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'QUEUE_FULL'
  | 'MESSAGE_EXPIRED'
  | 'MESSAGE_DISCARDED'
  | 'CONNECT_TIMEOUT'
  | 'HEARTBEAT_TIMEOUT'
  | 'CONNECTION_CLOSED'
  | 'TOKEN_REFRESH_FAILED'
  | 'MAX_ATTEMPTS'
  | 'TRANSPORT_ERROR'
  | 'MISSING_PROVIDER'
  | 'PROTOCOL_ERROR'
  | 'MESSAGE_REFUSED'
  | 'WRONG_PROTOCOL'
  | 'STORAGE_ERROR'
  | 'INVALID_CHANNEL'
  | 'HANDSHAKE_FAILED'
  | 'PART_OUTSIDE_ROOT'
  | 'NOT_SUPPORTED'

// Inline so bundlers drop the table from production builds (an imported constant is folded too late to tree-shake).
const hints: Partial<Record<LifelineErrorCode, string>> =
  process.env.NODE_ENV !== 'production'
    ? {
        INVALID_URL: 'Use an absolute ws:// or wss:// URL, or a path on this page; no credentials or #fragment.',
        URL_FAILED: 'The url function threw or rejected; see error.cause. The attempt is retried with backoff.',
        INSECURE_TRANSPORT:
          'The page is https: use wss:// (or https:// for an event stream); browsers block mixed content.',
        INVALID_OPTIONS: 'See `issues` for every bad field.',
        INVALID_MESSAGE: 'Send a string (valid UTF-16), binary data, or a JSON-serialisable value.',
        MESSAGE_TOO_LARGE: 'Split the message, or raise maxMessageBytes (and the server limit).',
        QUEUE_FULL: 'Wait for the connection to drain the outbox, raise outbox limits, or use overflow: "drop-oldest".',
        CONNECT_TIMEOUT: 'Check the URL, that the server is up, and that no proxy holds the upgrade.',
        HEARTBEAT_TIMEOUT: 'The link went silent (half-open); the client replaced it.',
        TOKEN_REFRESH_FAILED: 'getToken() threw, hung, returned a non-string, or its tokens keep being refused.',
        MAX_ATTEMPTS: 'Call retry() to start over, or raise maxAttempts.',
        TRANSPORT_ERROR: "In Node pass environment: { WebSocket } from the 'ws' package.",
        MISSING_PROVIDER: 'Wrap the tree in <LifelineProvider> or pass a client.',
        PROTOCOL_ERROR:
          'The server sent a frame this protocol cannot read; it was ignored. Check the server speaks it.',
        MESSAGE_REFUSED: 'The server refused this message (see the code in the message); it is not resent.',
        WRONG_PROTOCOL: 'useChannel needs a client created with protocol: lifelineProtocol().',
        INVALID_CHANNEL: 'A channel name is a non-empty string of at most 200 characters without control characters.',
        HANDSHAKE_FAILED: 'See error.diagnosis: the URL was probed over HTTP after the upgrade failed.',
        STORAGE_ERROR: 'The outbox could not be read from or written to storage; it keeps working in memory.',
        PART_OUTSIDE_ROOT: 'Render the part inside the component root (or item) the message names, or use the drop-in.',
        NOT_SUPPORTED:
          'Not available here: an event stream is receive-only; for the compat entry see docs/migrating-from-react-use-websocket.md.',
      }
    : {}

/** Base class of every library error: a stable `code` to match on, and a developer `hint` (development builds). */
export class LifelineError extends Error {
  // Fields are `declare`d and assigned in the constructor: a class-field declaration compiles to a defineProperty
  // helper for ES2020 targets, bytes every app would pay for.
  /** Stable machine-readable code. */
  declare readonly code: LifelineErrorCode

  /** `message` defaults to the code: most codes say all there is to say. */
  constructor(code: LifelineErrorCode, message: string = code, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.code = code
    // Each class names itself with a literal: minifiers rename classes, so `new.target.name` would read `t`.
    this.name = 'LifelineError'
  }

  /** What to do about it, in one sentence (empty in production builds). */
  get hint(): string {
    return hints[this.code] ?? ''
  }
}

/** The URL cannot be parsed or is not a `ws:`/`wss:` (or page-relative) URL. */
export class InvalidUrlError extends LifelineError {
  constructor(url: string) {
    // Never echo credentials (one reason a URL is refused): error messages end up in logs and error trackers.
    super('INVALID_URL', 'Bad URL ' + url.replace(/\/\/[^/?#]*@/, '//***@'))
    this.name = 'InvalidUrlError'
  }
}

/** A `ws://` URL was given on an `https:` page, which browsers block as mixed content. */
export class InsecureTransportError extends LifelineError {
  constructor() {
    super('INSECURE_TRANSPORT')
    this.name = 'InsecureTransportError'
  }
}

/** One problem found in the options. */
export interface OptionIssue {
  /** Dotted path of the bad field, e.g. `outbox.maxMessages`. */
  field: string
  /** What is wrong with it (detailed in development builds). */
  problem: string
}

/** The options are invalid. `issues` lists every bad field, not only the first. */
export class InvalidOptionsError extends LifelineError {
  /** Every bad field. */
  declare readonly issues: readonly OptionIssue[]
  constructor(issues: readonly OptionIssue[]) {
    super('INVALID_OPTIONS', issues.map((issue) => issue.field + ' ' + issue.problem).join('; '))
    this.name = 'InvalidOptionsError'
    this.issues = issues
  }
}

/**
 * A message that cannot be sent as given: not serialisable, nested deeper than the protocol's 64 levels (63 for
 * `publish` data), a lone UTF-16 surrogate, or an unsupported type.
 */
export class InvalidMessageError extends LifelineError {
  constructor(problem: string, cause?: unknown) {
    super('INVALID_MESSAGE', problem, cause)
    this.name = 'InvalidMessageError'
  }
}

/** A message larger than the limit (ours, or the server's, learnt from a 1009 close). */
export class MessageTooLargeError extends LifelineError {
  /** Size of the message in bytes. */
  declare readonly bytes: number
  /** The limit in bytes. */
  declare readonly limit: number
  constructor(bytes: number, limit: number) {
    super('MESSAGE_TOO_LARGE', `${bytes} > ${limit} bytes`)
    this.name = 'MessageTooLargeError'
    this.bytes = bytes
    this.limit = limit
  }
}

/** The outbox is full and its overflow policy is `reject`. Nothing already queued was dropped. */
export class QueueFullError extends LifelineError {
  constructor() {
    super('QUEUE_FULL')
    this.name = 'QueueFullError'
  }
}

/** Any other library error, identified by its `code`. */
export function lifelineError(code: LifelineErrorCode, message?: string, cause?: unknown): LifelineError {
  return new LifelineError(code, message, cause)
}
