/** Stable codes carried by every error the library raises or reports. Match on `error.code`, not on messages. */
export type LifelineErrorCode =
  | 'INVALID_URL'
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

/** Base class of every library error: a stable `code` and a `hint` a developer can act on. */
export class LifelineError extends Error {
  /** Stable machine-readable code. */
  readonly code: LifelineErrorCode
  /** What to do about it, in one sentence. */
  readonly hint: string

  constructor(code: LifelineErrorCode, message: string, hint = '', cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = new.target.name
    this.code = code
    this.hint = hint
  }
}

/** The URL cannot be parsed or is not a `ws:`/`wss:` (or page-relative) URL. */
export class InvalidUrlError extends LifelineError {
  constructor(url: string) {
    super('INVALID_URL', `Invalid WebSocket URL: ${url}`, 'Use an absolute ws:// or wss:// URL, or a path on this page.')
  }
}

/** A `ws://` URL was given on an `https:` page, which browsers block as mixed content. */
export class InsecureTransportError extends LifelineError {
  constructor() {
    super('INSECURE_TRANSPORT', 'Refusing ws:// from an https: page', 'Serve the socket over wss://.')
  }
}

/** One problem found in the options. */
export interface OptionIssue {
  /** Dotted path of the bad field, e.g. `outbox.maxMessages`. */
  field: string
  /** What is wrong with it. */
  problem: string
}

/** The options are invalid. `issues` lists every bad field, not only the first. */
export class InvalidOptionsError extends LifelineError {
  /** Every bad field. */
  readonly issues: readonly OptionIssue[]
  constructor(issues: readonly OptionIssue[]) {
    super('INVALID_OPTIONS', 'Invalid options: ' + issues.map((i) => `${i.field} ${i.problem}`).join('; '))
    this.issues = issues
  }
}

/** A message that cannot be sent as given: not serialisable, a lone UTF-16 surrogate, or an unsupported type. */
export class InvalidMessageError extends LifelineError {
  constructor(problem: string, cause?: unknown) {
    super('INVALID_MESSAGE', `Cannot send message: ${problem}`, 'Send a string, binary data, or a JSON-serialisable value.', cause)
  }
}

/** A message larger than the limit (ours, or the server's, learnt from a 1009 close). */
export class MessageTooLargeError extends LifelineError {
  /** Size of the message in bytes. */
  readonly bytes: number
  /** The limit in bytes. */
  readonly limit: number
  constructor(bytes: number, limit: number) {
    super('MESSAGE_TOO_LARGE', `Message of ${bytes} bytes exceeds ${limit}`, 'Split the message or raise the limit.')
    this.bytes = bytes
    this.limit = limit
  }
}

/** The outbox is full and its overflow policy is `reject`. Nothing already queued was dropped. */
export class QueueFullError extends LifelineError {
  constructor(limit: string) {
    super('QUEUE_FULL', `Outbox full (${limit})`, 'Wait for the connection, or use overflow: "drop-oldest".')
  }
}

/** Any other library error, identified by its `code`. */
export function lifelineError(code: LifelineErrorCode, message: string, hint = '', cause?: unknown): LifelineError {
  return new LifelineError(code, message, hint, cause)
}
