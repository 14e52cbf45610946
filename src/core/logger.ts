/** Where debug traces go. Receives already-redacted details. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void
  warn(message: string, details?: Record<string, unknown>): void
}

/** A logger function set: the library's internal view of {@link Logger}. `null` when logging is off. */
export type LogSink = ((level: 'debug' | 'warn', message: string, details?: Record<string, unknown>) => void) | null

const secretKey = /token|secret|password|authorization|cookie|session/i

/**
 * Redacts a value for logging: keys that look secret, any string equal to a known secret, and URL query strings
 * and fragments (where tokens tend to hide) become `[redacted]`.
 */
export function redact(value: unknown, secrets: readonly string[], key = ''): unknown {
  if (secretKey.test(key)) return '[redacted]'
  if (typeof value === 'string') {
    let text = value
    for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]')
    return text.replace(/(wss?|https?):\/\/([^\s?#]*)[?#]\S*/g, '$1://$2?[redacted]')
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [name, inner] of Object.entries(value)) out[name] = redact(inner, secrets, name)
    return out
  }
  return value
}

/** Builds the sink: off by default; `true` logs to the console; or your own {@link Logger}. */
export function createLogSink(option: boolean | Logger | undefined, secrets: () => readonly string[]): LogSink {
  if (!option) return null
  const target: Logger = option === true ? { debug: console.debug, warn: console.warn } : option
  return (level, message, details) => {
    const safeMessage = redact(message, secrets()) as string
    if (details) target[level]('[lifeline] ' + safeMessage, redact(details, secrets()) as Record<string, unknown>)
    else target[level]('[lifeline] ' + safeMessage)
  }
}
