import { useId, useState, type FormEvent } from 'react'
import { LifelineError } from '../../src/core'
import { useChannel } from '../../src/react'

/** What the chat publishes and shows. */
export interface ChatMessage {
  from: string
  text: string
  at: number
}

function isChatMessage(value: unknown): value is ChatMessage {
  const message = value as Partial<ChatMessage> | null
  return typeof message?.text === 'string' && typeof message.from === 'string'
}

function describeError(error: unknown): string {
  if (error instanceof LifelineError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

/**
 * A small chat on one channel of the embedded server: messages published while offline (or while the server is down)
 * wait in the outbox, and are sent in order once the connection is back.
 */
export function Chat(props: { channel: string; name: string }) {
  const { messages, publish, status, resumed } = useChannel<unknown>(props.channel, { history: 50 })
  const [draft, setDraft] = useState('Hello!')
  const [problem, setProblem] = useState('')
  const [sent, setSent] = useState(0)
  const inputId = useId()
  const logId = useId()

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    if (!draft.trim()) return
    try {
      publish({ from: props.name, text: draft, at: Date.now() } satisfies ChatMessage)
      setSent((count) => count + 1)
      setDraft(`Message ${String(sent + 2)}`)
      setProblem('')
    } catch (error) {
      setProblem(`Not sent. ${describeError(error)}`)
    }
  }

  return (
    <div className="chat">
      <style>{css}</style>
      <h2 id={logId}>
        #{props.channel}{' '}
        <small>
          ({status}
          {resumed === false ? ', history gap' : ''})
        </small>
      </h2>
      <div role="log" aria-labelledby={logId} className="chat-log" tabIndex={0} data-testid="chat-log">
        {messages.length === 0 ? (
          <p>No messages yet.</p>
        ) : (
          <ol>
            {messages.map((message) => {
              const data = message.data
              return (
                <li key={`${message.epoch}:${String(message.seq)}`}>
                  {isChatMessage(data) ? (
                    <>
                      <strong>{data.from}</strong> {data.text}
                    </>
                  ) : (
                    JSON.stringify(data)
                  )}
                </li>
              )
            })}
          </ol>
        )}
      </div>
      <form className="chat-form" onSubmit={submit}>
        <label htmlFor={inputId}>Message</label>
        <input id={inputId} value={draft} maxLength={500} onChange={(event) => setDraft(event.target.value)} />
        <button type="submit">Send</button>
      </form>
      {problem ? <p role="alert">{problem}</p> : null}
    </div>
  )
}

const css = `
.chat h2 { font-size: 1rem; margin: 0 0 .4rem; }
.chat h2 small { font-weight: 400; color: #59636e; }
.chat-log { max-height: 14rem; overflow: auto; border: 1px solid #d1d9e0; border-radius: 4px; padding: .25rem .5rem; }
.chat-log ol { margin: 0; padding-left: 1.25rem; }
.chat-form { display: flex; gap: .5rem; align-items: center; margin-top: .5rem; }
.chat-form input { flex: 1; font: inherit; padding: .25rem .4rem; }
.chat-form button { font: inherit; padding: .25rem .6rem; }
`
