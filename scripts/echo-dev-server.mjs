// The echo server of the useWebSocket playground: a `ws` server on 127.0.0.1 that echoes every message, with an HTTP
// control API on the same port (/__control/*) for the fault panel (kill, restart, close with a code, terminate, reject
// upgrades). Used by scripts/start.mjs and by the Storybook test project's global setup.
import { createServer, STATUS_CODES } from 'node:http'
import process from 'node:process'
import { WebSocketServer } from 'ws'

const HOST = '127.0.0.1'
const CONTROL = '/__control'

const say = (line) => process.stdout.write(`[start] ${line}\n`)
const warn = (line) => process.stderr.write(`[start] ${line}\n`)

function listenOnce(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

/** Listens on `port`, or on a free port when it is taken; resolves with the port in use. */
export async function listenPreferring(server, port, host, label) {
  try {
    return await listenOnce(server, port, host)
  } catch (error) {
    if (error.code !== 'EADDRINUSE') throw error
    const chosen = await listenOnce(server, 0, host)
    warn(`${label}: port ${port} is busy, using ${chosen}`)
    return chosen
  }
}

// RFC 6455 §7.4: 1004-1006 and 1015 are never sent on the wire; 1016-2999 are unassigned.
function isSendableCloseCode(code) {
  const assigned = code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006
  return Number.isInteger(code) && (assigned || (code >= 3000 && code <= 4999))
}

function rejectUpgrade(socket, status) {
  const body = JSON.stringify({ error: STATUS_CODES[status] ?? 'Unknown' })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/**
 * The playground's echo server: echoes every message ('ping' is answered 'pong' for the heartbeat), and takes faults
 * from `POST /__control/<action>` on the same port. `allowedOrigins()` lists the origins the control API answers
 * (CORS); requests from any other origin are refused, and so is any Host but the loopback one (DNS rebinding).
 * `log` gets one line per connection and action (default: stdout with a `[start]` prefix).
 */
export async function startEchoServer({ port: preferredPort, allowedOrigins, log = say }) {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: 65536,
  })
  const sockets = new Set()
  let up = true
  let rejectStatus = null
  let restartTimer = null
  let restartAt = null
  let totalConnections = 0
  let port = 0

  const state = () => ({ up, rejectStatus, connections: sockets.size, totalConnections, restartAt })

  const cancelRestart = () => {
    if (restartTimer !== null) clearTimeout(restartTimer)
    restartTimer = null
    restartAt = null
  }
  const kill = () => {
    cancelRestart()
    up = false
    for (const socket of sockets) socket.terminate()
  }
  const restart = () => {
    cancelRestart()
    up = true
  }

  const accept = (socket) => {
    totalConnections += 1
    const id = totalConnections
    sockets.add(socket)
    log(`echo: connection #${id} open (${sockets.size} open)`)
    socket.on('error', (error) => warn(`echo: connection #${id}: ${error.message}`))
    socket.on('close', (code) => {
      sockets.delete(socket)
      log(`echo: connection #${id} closed with ${code} (${sockets.size} open)`)
    })
    socket.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'ping') socket.send('pong')
      else socket.send(data, { binary: isBinary })
    })
  }

  /** Runs one control action; returns an error message for bad input. */
  const actions = {
    kill: () => kill(),
    restart: () => restart(),
    'restart-after': (query) => {
      const ms = Number(query.get('ms') ?? 3000)
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) return 'ms must be an integer 0-60000'
      kill()
      restartAt = Date.now() + ms
      restartTimer = setTimeout(restart, ms)
      return null
    },
    close: (query) => {
      const code = Number(query.get('code'))
      const reason = query.get('reason') ?? ''
      if (!isSendableCloseCode(code)) return 'code must be a close code that can be sent (1000-1014, 3000-4999)'
      if (Buffer.byteLength(reason) > 123) return 'reason must be at most 123 bytes'
      for (const socket of sockets) socket.close(code, reason)
      return null
    },
    terminate: () => {
      for (const socket of sockets) socket.terminate()
    },
    reject: (query) => {
      const status = Number(query.get('status'))
      if (!Number.isInteger(status) || status < 400 || status > 599)
        return 'status must be an HTTP error status (400-599)'
      rejectStatus = status
      return null
    },
    accept: () => {
      rejectStatus = null
    },
  }

  const answer = (response, status, body, headers = {}) => {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    response.end(JSON.stringify(body))
  }

  const handleControl = (request, response, url) => {
    const loopbackHosts = [`${HOST}:${port}`, `localhost:${port}`]
    if (!loopbackHosts.includes(request.headers.host ?? '')) return answer(response, 421, { error: 'Wrong Host' })
    const origin = request.headers.origin
    const cors = {}
    if (origin !== undefined) {
      if (!allowedOrigins().includes(origin)) return answer(response, 403, { error: `Origin ${origin} not allowed` })
      Object.assign(cors, { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' })
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {
        ...cors,
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Max-Age': '600',
      })
      return response.end()
    }
    const name = url.pathname.slice(CONTROL.length + 1)
    if (name === 'state') {
      if (request.method !== 'GET') return answer(response, 405, { error: 'Use GET' }, { ...cors, Allow: 'GET' })
      return answer(response, 200, { state: state() }, cors)
    }
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined
    if (!action) return answer(response, 404, { error: `Unknown control action ${name}` }, cors)
    if (request.method !== 'POST') return answer(response, 405, { error: 'Use POST' }, { ...cors, Allow: 'POST' })
    const problem = action(url.searchParams)
    if (problem) return answer(response, 400, { error: problem }, cors)
    log(`echo: ${name}${url.search} → ${describeState(state())}`)
    return answer(response, 200, { action: name, state: state() }, cors)
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (url.pathname.startsWith(`${CONTROL}/`)) return handleControl(request, response, url)
    // Not the control API: behave as the WebSocket server would for plain HTTP. The client's handshake diagnostics
    // probe this URL after a failed upgrade; CORS lets the playground's page read the status (401, 403, 426…).
    if (!up) return request.socket.destroy()
    const origin = request.headers.origin
    const cors =
      origin !== undefined && allowedOrigins().includes(origin)
        ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }
        : {}
    if (rejectStatus !== null) return answer(response, rejectStatus, { error: STATUS_CODES[rejectStatus] }, cors)
    response.writeHead(426, { ...cors, 'Content-Type': 'text/plain', Connection: 'close' })
    response.end(`Upgrade Required. Control API: ${CONTROL}/state\n`)
  })
  server.on('upgrade', (request, socket, head) => {
    // A client that vanishes mid-handshake resets the socket; that is expected here, not worth a crash.
    socket.on('error', (error) => warn(`echo: upgrade socket: ${error.message}`))
    // A killed server: drop the TCP connection, as close to "connection refused" as a listening port gets.
    if (!up) return socket.destroy()
    if (rejectStatus !== null) return rejectUpgrade(socket, rejectStatus)
    if (request.url?.startsWith(CONTROL)) return rejectUpgrade(socket, 404)
    wss.handleUpgrade(request, socket, head, accept)
  })

  port = await listenPreferring(server, preferredPort, HOST, 'echo server')

  return {
    url: `ws://${HOST}:${port}`,
    controlUrl: `http://${HOST}:${port}${CONTROL}`,
    port,
    async close() {
      cancelRestart()
      for (const socket of sockets) socket.terminate()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
      await new Promise((resolve) => wss.close(() => resolve()))
    },
  }
}

export function describeState(state) {
  const upgrades = state.rejectStatus === null ? 'accepting' : `rejecting ${state.rejectStatus}`
  return `${state.up ? 'up' : 'killed'}, ${upgrades}, ${state.connections} open`
}

