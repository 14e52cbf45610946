/** Where debug traces go. Receives already-redacted details. */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void
  warn(message: string, details?: Record<string, unknown>): void
}

/** A logger function set: the library's internal view of {@link Logger}. `null` when logging is off. */
export type LogSink = ((level: 'debug' | 'warn', message: string, details?: Record<string, unknown>) => void) | null

const secretKey = /token|secret|password|authorization|cookie|session/i

const url = /(wss?|https?):\/\/([^\s/?#@]*@)?([^\s?#]*)([?#]\S*)?/g

/**
 * Redacts a value for logging: keys that look secret, any string equal to a known secret, URL credentials, and URL
 * query strings and fragments (where tokens tend to hide) become `[redacted]`. Arrays stay arrays, errors keep their
 * name, code and (redacted) message, and a circular reference becomes `[circular]`.
 */
export function redact(value: unknown, secrets: readonly string[], key = ''): unknown {
  const ancestors = new Set<object>()
  const visit = (value: unknown, key = ''): unknown => {
    if (secretKey.test(key)) return '[redacted]'
    if (typeof value === 'string') {
      let text = value
      for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]')
      return text.replace(url, (_: string, scheme: string, userinfo?: string, rest = '', query?: string) => {
        return `${scheme}://${userinfo ? '[redacted]@' : ''}${rest}${query ? '?[redacted]' : ''}`
      })
    }
    if (!value || typeof value !== 'object') return value
    if (ancestors.has(value)) return '[circular]'
    ancestors.add(value)
    try {
      if (Array.isArray(value)) return value.map((inner: unknown) => visit(inner))
      const out: Record<string, unknown> = {}
      if (value instanceof Error) {
        out.name = value.name
        if ('code' in value) out.code = value.code
        out.message = visit(value.message)
      }
      // fromEntries defines keys (never assigns): a `__proto__` key of parsed data stays a key, not the copy's prototype.
      return Object.fromEntries([
        ...Object.entries(out),
        ...Object.entries(value).map(([name, inner]) => [name, visit(inner, name)]),
      ])
    } finally {
      ancestors.delete(value)
    }
  }
  return visit(value, key)
}

/** Builds the sink: off by default; `true` logs to the console; or your own {@link Logger}. */
export function createLogSink(option: boolean | Logger | undefined, secrets: () => readonly string[]): LogSink {
  if (!option) return null
  const target: Logger = option === true ? console : option
  return (level, message, details) => {
    const safeMessage = redact(message, secrets()) as string
    if (details) target[level]('[lifeline] ' + safeMessage, redact(details, secrets()) as Record<string, unknown>)
    else target[level]('[lifeline] ' + safeMessage)
  }
}
