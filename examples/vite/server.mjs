// A lifeline server to try the example by hand: `npm run server` in one terminal, then `npm run dev` (or
// `VITE_LIFELINE_URL=ws://127.0.0.1:8080/lifeline npm run build && npm run preview`) in another. It publishes the time on
// the `news` channel every 2 s. Stop it to see the banner; start it again to see the page recover.
import { createLifelineServer } from 'react-lifeline/server'

const port = Number(process.env.PORT ?? 8080)
const allowedOrigins = (
  process.env.ALLOWED_ORIGINS ??
  'http://localhost:5173,http://127.0.0.1:5173,http://localhost:4173,http://127.0.0.1:4173'
).split(',')
const server = await createLifelineServer({ port, allowedOrigins })
const timer = setInterval(() => {
  void server.publish('news', { text: `It is ${new Date().toLocaleTimeString()}` })
}, 2000)
console.log(`lifeline server on ${server.url}, allowing ${allowedOrigins.join(', ')}`)
process.once('SIGINT', () => {
  clearInterval(timer)
  void server.close()
})
