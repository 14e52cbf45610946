/** Stable codes of {@link LifelineServerError}. */
export type LifelineServerErrorCode =
  'SERVER_CLOSED' | 'INVALID_CHANNEL' | 'INVALID_DATA' | 'INVALID_ARGUMENT' | 'BROKER_CLOSED' | 'BROKER_UNAVAILABLE'

/**
 * Thrown by the server API: a use after `close()`, a bad channel name, data that cannot be published, a bad argument,
 * a call on a closed broker, or a broker that cannot reach its store (`BROKER_UNAVAILABLE`: retrying later may work).
 */
export class LifelineServerError extends Error {
  /** Stable machine-readable code. */
  readonly code: LifelineServerErrorCode

  constructor(code: LifelineServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    // A literal, not `new.target.name`: minifiers rename classes.
    this.name = 'LifelineServerError'
    this.code = code
  }
}

/** What may be logged about a thrown value: its string `code` or its class name, never its message. Internal. */
export function errorName(error: unknown): string {
  if (!(error instanceof Error)) return typeof error
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error.name
}
