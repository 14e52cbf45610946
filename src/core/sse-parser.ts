/** One dispatched Server-Sent Event (WHATWG HTML §9.2 "event stream interpretation"). */
export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  type: string
  /** The `data:` lines joined by `\n`. */
  data: string
  /** The last event id in force when the event was dispatched (`''` before any). */
  lastEventId: string
}

/** What the parser reports while it reads a stream. */
export interface SseParserHandlers {
  event(event: SseEvent): void
  /** A `retry:` field with a valid number of ms. */
  retry?(ms: number): void
  /** The event being assembled passed `maxEventChars`: the stream cannot be read further. */
  overflow(): void
}

/** An incremental event-stream parser: feed it decoded text in chunks of any size. */
export interface SseParser {
  feed(text: string): void
  /** The last event id (resume point), also updated by events without data. */
  readonly lastEventId: string
}

/**
 * Parses `text/event-stream` per the HTML standard: lines end with CRLF, LF or CR (a CR at the end of one chunk and a
 * LF at the start of the next are one line end); a leading BOM is skipped; `:` lines are comments; unknown fields are
 * ignored; an `id` containing NUL is ignored; an event with no data is not dispatched. Memory is bounded: the line and
 * the data being assembled together may not exceed `maxEventChars` (then `overflow` is called once and input ignored).
 */
export function createSseParser(handlers: SseParserHandlers, maxEventChars: number, lastEventId = ''): SseParser {
  let line = ''
  let data = ''
  let hasData = false
  let type = ''
  let idBuffer = lastEventId
  let lastId = lastEventId
  let first = true
  let skipLf = false
  let broken = false

  function field(text: string): void {
    if (text === '') return dispatch()
    if (text.charCodeAt(0) === 0x3a) return
    const colon = text.indexOf(':')
    const name = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.charCodeAt(0) === 0x20) value = value.slice(1)
    switch (name) {
      case 'data':
        data = hasData ? `${data}\n${value}` : value
        hasData = true
        return
      case 'event':
        type = value
        return
      case 'id':
        if (!value.includes('\0')) idBuffer = value
        return
      case 'retry':
        if (/^\d+$/.test(value)) handlers.retry?.(Number(value))
        return
    }
  }

  function overflow(): void {
    broken = true
    line = ''
    data = ''
    handlers.overflow()
  }

  function dispatch(): void {
    lastId = idBuffer
    if (hasData) handlers.event({ type: type || 'message', data, lastEventId: lastId })
    data = ''
    hasData = false
    type = ''
  }

  return {
    get lastEventId() {
      return lastId
    },
    feed(text) {
      if (broken) return
      let start = 0
      if (first && text.length > 0) {
        first = false
        if (text.charCodeAt(0) === 0xfeff) start = 1
      }
      for (let index = start; index < text.length; index++) {
        const code = text.charCodeAt(index)
        if (code === 0x0a && skipLf) {
          skipLf = false
          start = index + 1
          continue
        }
        skipLf = false
        if (code !== 0x0a && code !== 0x0d) continue
        const complete = line + text.slice(start, index)
        // Checked per line, not per chunk, so the outcome does not depend on how the stream was cut.
        if (complete.length + data.length > maxEventChars) return overflow()
        field(complete)
        line = ''
        start = index + 1
        skipLf = code === 0x0d
      }
      line += text.slice(start)
      if (line.length + data.length > maxEventChars) overflow()
    },
  }
}
