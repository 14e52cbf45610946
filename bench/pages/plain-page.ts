// Baseline: a plain browser WebSocket speaking just enough of the lifeline protocol (hello, sub) to receive the very
// same `msg` frames from the same server, parsing each with JSON.parse and counting it in onmessage. With more than one
// listener (fan-out) every message is dispatched to each plain listener function, which counts it the same way a
// useChannel onMessage does on the lib page. No React. With `render`, a requestAnimationFrame loop also writes each
// listener's count and last id into its own <p> when it changed (the DOM work of "render the count", without React).
import { createProbe, readConfig } from './probe'

interface MsgFrame {
  type: string
  data?: { id: number; t?: number }
}

const config = readConfig()
const probe = createProbe(config)
const listeners = probe.listeners.map((stats) => (data: { id: number; t?: number }) => {
  if (probe.receive(stats, data.id, data.t) && !config.render) probe.counted(stats)
})

if (config.render) {
  const container = document.getElementById('root') ?? document.body
  const views = probe.listeners.map((stats) => ({
    stats,
    node: container.appendChild(document.createElement('p')),
    shown: -1,
  }))
  const paint = () => {
    for (const view of views) {
      if (view.stats.maxId === view.shown) continue
      view.shown = view.stats.maxId
      view.node.textContent = `${view.stats.received} messages, last ${view.shown}`
      probe.committed(view.stats, view.shown)
    }
    requestAnimationFrame(paint)
  }
  requestAnimationFrame(paint)
}

const socket = new WebSocket(config.url)
socket.onopen = () => socket.send(JSON.stringify({ type: 'hello', v: 1 }))
socket.onmessage = (event: MessageEvent<string>) => {
  const frame = JSON.parse(event.data) as MsgFrame
  if (frame.type === 'msg' && frame.data) {
    for (const listener of listeners) listener(frame.data)
  } else if (frame.type === 'welcome') {
    socket.send(JSON.stringify({ type: 'sub', ch: config.channel }))
  } else if (frame.type === 'subscribed') {
    probe.ready()
  }
}
