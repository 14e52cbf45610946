import type { StreamPosition } from '../src/core'
import type { LifelineServerStats } from '../src/server'

/** Options of {@link startClusterNode}. */
export interface ClusterNodeOptions {
  /** `redis://host:port` of the shared Redis; absent: the node uses its own memory broker (a single node). */
  redisUrl?: string
  /**
   * Port to listen on, kept across kill and start.
   * @default a free port
   */
  port?: number
  /**
   * Name in log lines.
   * @default `node-<port>`
   */
  name?: string
  /**
   * Redis key prefix, the same for every node of one cluster.
   * @default the broker's default
   */
  keyPrefix?: string
  /** Browser origins allowed. @default [] */
  allowedOrigins?: readonly string[]
  /** Server heartbeat interval, ms. @default the server's default */
  heartbeatMs?: number
  /** Resume window, ms. @default the server's default */
  resumeWindowMs?: number
  /** Receives the node's applied client publishes, `[channel, data]`, as they are applied. @default not reported */
  onPublished?: (items: ReadonlyArray<[string, unknown]>) => void
  /** Forward the node's stderr and connection logs to `log`. @default false */
  verbose?: boolean
  /** Where lifecycle lines go. @default nowhere */
  log?: (line: string) => void
}

/** One node process. */
export interface ClusterNode {
  readonly name: string
  readonly port: number
  /** `ws://127.0.0.1:<port>/lifeline`. */
  readonly url: string
  /** pid of the current process (0 before the first start). */
  readonly pid: number
  readonly running: boolean
  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port; resolves once it listens. */
  start(): Promise<void>
  /** SIGTERM (graceful close), SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>
  /** The node's `server.stats()`. */
  stats(): Promise<LifelineServerStats>
  /** `server.publish(channel, data)` on the node. */
  publish(channel: string, data: unknown): Promise<StreamPosition>
  /** Closes every connection of the node with `code` (4003: expires their sessions too); resolves with how many. */
  closeClients(code: number, reason?: string): Promise<number>
}

/** Bundles scripts/cluster-node.ts once per process; resolves with the bundle's path. */
export function buildClusterNode(): Promise<string>

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number>

/** Starts one node process and resolves once it listens. */
export function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode>
