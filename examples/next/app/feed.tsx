'use client'
import { useChannel } from 'react-lifeline'

/** The last messages of a channel. Server rendering shows the empty list; the browser fills it. */
export function Feed({ channel }: { channel: string }) {
  const { messages, status } = useChannel<{ text: string }>(channel, { history: 20 })
  return (
    <section>
      <h2>
        Channel <code>{channel}</code> <small data-channel-status={status}>({status})</small>
      </h2>
      <ul data-testid="messages">
        {messages.map((message) => (
          <li key={`${message.epoch}:${message.seq}`}>{message.data.text}</li>
        ))}
      </ul>
    </section>
  )
}
