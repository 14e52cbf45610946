import { ConnectionBanner, LifelineProvider, useChannel, useConnection } from 'react-lifeline'

/** Where the lifeline server is: `VITE_LIFELINE_URL` when the app is built (or `npm run dev` starts). */
const url = import.meta.env.VITE_LIFELINE_URL ?? 'ws://127.0.0.1:8080/lifeline'

export function App() {
  return (
    <LifelineProvider url={url} protocol="lifeline">
      <ConnectionBanner />
      <main>
        <h1>react-lifeline on Vite</h1>
        <Status />
        <Feed channel="news" />
      </main>
    </LifelineProvider>
  )
}

function Status() {
  const status = useConnection((snapshot) => snapshot.status)
  return <p data-status={status}>Connection: {status}</p>
}

/** The last messages of a channel; it resumes after every reconnect, so nothing sent meanwhile is missed. */
function Feed({ channel }: { channel: string }) {
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
