import type { Metadata } from 'next'
import type { ReactNode } from 'react'
import { ConnectionBanner, LifelineProvider } from 'react-lifeline'
import 'react-lifeline/styles.css'

export const metadata: Metadata = { title: 'react-lifeline on Next.js' }

/** Where the lifeline server is, read on the server when the page renders (at `next build` for this static page). */
const url = process.env.LIFELINE_URL ?? 'ws://127.0.0.1:8080/lifeline'

// A server component: it passes only serialisable props (strings) to the provider, which is a client component and
// creates its connection in the browser. `protocol="lifeline"` stands for lifelineProtocol(), which a server component
// could not call or pass.
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <LifelineProvider url={url} protocol="lifeline">
          <ConnectionBanner />
          {children}
        </LifelineProvider>
      </body>
    </html>
  )
}
