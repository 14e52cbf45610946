import Status from './status'
import { Feed } from './feed'

export default function Page() {
  return (
    <main>
      <h1>react-lifeline on Next.js</h1>
      {/* Prerendered by `next build` with the idle snapshot ("Connection: idle"), live once hydrated. */}
      <Status />
      <Feed channel="news" />
    </main>
  )
}
