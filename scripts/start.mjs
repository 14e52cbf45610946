#!/usr/bin/env node
// `npm start`: Storybook plus the echo server its playground stories talk to, as one command.
//   1. An echo server (`ws`) on 127.0.0.1 with an HTTP control API on the same port (/__control/*) for the fault
//      panel. The control API keeps answering while the WebSocket side is "killed".
//   2. `storybook dev`, told the echo URL through STORYBOOK_LIFELINE_ECHO_URL (Storybook inlines STORYBOOK_*
//      variables into the stories as `import.meta.env.STORYBOOK_*`).
// Ctrl+C (SIGINT) or SIGTERM stops both; when Storybook exits on its own, the echo server stops with it.
// Env: LIFELINE_ECHO_PORT (default 8787), LIFELINE_STORYBOOK_PORT (default 6006); a busy port is swapped for a free
// one. Extra arguments go to `storybook dev`, e.g. `npm start -- --loglevel debug`.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, STATUS_CODES } from 'node:http'
import { createRequire } from 'node:module'
import { createServer as createNetServer } from 'node:net'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'

const root = fileURLToPath(new URL('..', import.meta.url))
const HOST = '127.0.0.1'
const CONTROL = '/__control'
const STORY_PATH = '/story/hooks-usewebsocket--playground'
const READY_TIMEOUT_MS = 180_000
const STOP_TIMEOUT_MS = 10_000

const say = (line) => process.stdout.write(`[start] ${line}\n`)
const warn = (line) => process.stderr.write(`[start] ${line}\n`)

function portFromEnv(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(raw)}`)
  }
  return port
}

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
async function listenPreferring(server, port, host, label) {
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
 */
async function startEchoServer({ port: preferredPort, allowedOrigins }) {
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
    say(`echo: connection #${id} open (${sockets.size} open)`)
    socket.on('error', (error) => warn(`echo: connection #${id}: ${error.message}`))
    socket.on('close', (code) => {
      sockets.delete(socket)
      say(`echo: connection #${id} closed with ${code} (${sockets.size} open)`)
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
    say(`echo: ${name}${url.search} → ${describeState(state())}`)
    return answer(response, 200, { action: name, state: state() }, cors)
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (url.pathname.startsWith(`${CONTROL}/`)) return handleControl(request, response, url)
    // Not the control API: behave as the WebSocket server would for plain HTTP.
    if (!up) return request.socket.destroy()
    if (rejectStatus !== null) return answer(response, rejectStatus, { error: STATUS_CODES[rejectStatus] })
    response.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' })
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

function describeState(state) {
  const upgrades = state.rejectStatus === null ? 'accepting' : `rejecting ${state.rejectStatus}`
  return `${state.up ? 'up' : 'killed'}, ${upgrades}, ${state.connections} open`
}

/** `preferred` if nothing listens on it at 127.0.0.1 (where Storybook listens by default), else a free port. */
async function storybookPort(preferred) {
  const probe = createNetServer()
  const port = await listenPreferring(probe, preferred, HOST, 'Storybook')
  await new Promise((resolve) => probe.close(() => resolve()))
  return port
}

function storybookBin() {
  const require = createRequire(import.meta.url)
  const packageJsonPath = require.resolve('storybook/package.json')
  const { bin } = JSON.parse(readFileSync(packageJsonPath, 'utf8'))
  return join(dirname(packageJsonPath), typeof bin === 'string' ? bin : bin.storybook)
}

async function waitUntilServed(url, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await response.arrayBuffer()
      if (response.ok) return true
    } catch (error) {
      // Refused or timed out: Storybook is not listening yet.
      if (!(error instanceof Error)) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

async function main() {
  const started = performance.now()
  const echoPort = portFromEnv('LIFELINE_ECHO_PORT', 8787)
  const sbPort = await storybookPort(portFromEnv('LIFELINE_STORYBOOK_PORT', 6006))
  const origins = [`http://${HOST}:${sbPort}`, `http://localhost:${sbPort}`, `http://[::1]:${sbPort}`]
  const echo = await startEchoServer({ port: echoPort, allowedOrigins: () => origins })
  say(`Echo server: ${echo.url}  (control API ${echo.controlUrl}/state)`)

  const args = [storybookBin(), 'dev', '-p', String(sbPort), '--exact-port', '--no-open', '--ci']
  args.push('--no-version-updates', ...process.argv.slice(2))
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, STORYBOOK_LIFELINE_ECHO_URL: echo.url },
  })

  let stopping = false
  let echoClosed = null
  const closeEcho = () => (echoClosed ??= echo.close())

  child.on('error', (error) => {
    warn(`cannot start Storybook: ${error.message}`)
    void closeEcho().then(() => process.exit(1))
  })
  child.on('exit', (code, signal) => {
    if (!stopping) warn(`Storybook exited (${signal ?? `code ${code}`}); stopping the echo server`)
    void closeEcho().then(() => {
      say('stopped')
      process.exit(stopping ? 0 : (code ?? 1))
    })
  })

  const stop = (signal) => {
    if (stopping) return
    stopping = true
    say(`${signal}: stopping Storybook and the echo server`)
    void closeEcho()
    // With Ctrl+C the terminal already signalled the whole process group; with `kill <pid>` only this process.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    setTimeout(() => {
      warn(`Storybook still running after ${STOP_TIMEOUT_MS} ms: SIGKILL`)
      child.kill('SIGKILL')
    }, STOP_TIMEOUT_MS).unref()
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGHUP', () => stop('SIGHUP'))
  // `npm start` runs us under `sh -c`; a SIGTERM (or SIGKILL) sent to npm alone kills npm and that shell, not us.
  // Once our parent is gone we are re-parented, so stop rather than keep both servers running unseen.
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) {
      warn('the parent process is gone')
      stop('SIGTERM')
    }
  }, 500).unref()
  // Last resort if this process dies of an error: never leave Storybook running without its server.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  })

  const base = `http://${HOST}:${sbPort}`
  if (await waitUntilServed(`${base}/iframe.html`, child)) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    say(`ready in ${seconds} s`)
    say(`Storybook:   ${base}/?path=${STORY_PATH}`)
    say(`Echo server: ${echo.url}`)
    say('Press Ctrl+C to stop both.')
  } else if (!stopping && child.exitCode === null) {
    warn(`Storybook did not answer at ${base} within ${READY_TIMEOUT_MS / 1000} s`)
  }
}

main().catch((error) => {
  warn(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exit(1)
})
