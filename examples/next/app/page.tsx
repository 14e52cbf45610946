import { ConnectionStatus } from './connection-status'
import { Feed } from './feed'

export default function Page() {
  return (
    <main>
      <h1>react-lifeline on Next.js</h1>
      <ConnectionStatus />
      <Feed channel="news" />
    </main>
  )
}
