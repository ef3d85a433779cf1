/**
 * A `concord start` child process for the demo and the browser suite: on 127.0.0.1 only
 * (PostgreSQL and libp2p), with a WebSocket listener a page can dial. Started directly
 * under tsx (not through bin/concord.js) so a kill reaches the node itself.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const CLI = fileURLToPath(new URL('../../node-server/src/cli.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const NODE_FLAGS = [...(Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : []), '--no-warnings=ExperimentalWarning', '--import', 'tsx']
const START_TIMEOUT_MS = 30_000

export interface NodePeerOptions {
  dataDir: string
  nodeId?: string
  /** libp2p WebSockets port; 0 picks a free one. */
  wsPort?: number
  pgPort?: number
  /** PostgreSQL addresses (host:port) or multiaddrs of peers to join. */
  join?: string[]
  region?: string
  /** Forward the node's log to this process's stderr. */
  verbose?: boolean
  /** More `concord start` flags (e.g. --tls-self-signed --wss-port 0). */
  extraArgs?: string[]
}

export class NodePeer {
  pgPort = 0
  /** The node's WebSocket multiaddr on 127.0.0.1, with /p2p/<peer id>. */
  wsAddress = ''
  /** Its WebSockets-over-TLS multiaddr (`/tls/ws`), when started with --wss-port; else ''. */
  wssAddress = ''
  log = ''
  private readonly exited: Promise<number | null>

  readonly child: ChildProcess

  private constructor(child: ChildProcess) {
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  }

  static async start(options: NodePeerOptions): Promise<NodePeer> {
    const args = [...NODE_FLAGS, CLI, 'start', '--data-dir', options.dataDir, '--pg-port', String(options.pgPort ?? 0), '--p2p-host', '127.0.0.1', '--ws-port', String(options.wsPort ?? 0)]
    if (options.nodeId) args.push('--node-id', options.nodeId)
    if (options.region) args.push('--region', options.region)
    for (const j of options.join ?? []) args.push('--join', j)
    args.push(...(options.extraArgs ?? []))
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT })
    const peer = new NodePeer(child)
    child.stderr!.on('data', (d: Buffer) => {
      if (peer.log.length < 1_000_000) peer.log += d.toString()
      if (options.verbose) process.stderr.write(d)
    })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`concord did not start in ${START_TIMEOUT_MS} ms:\n${peer.log}`)), START_TIMEOUT_MS)
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /psql -h \S+ -p (\d+)/.exec(out)
        if (m && peer.pgPort === 0) {
          peer.pgPort = Number(m[1])
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`concord exited with ${code} before it was ready:\n${peer.log}`))
      })
    })
    const addrs = (await peer.query<{ address: string }>('SHOW concord.p2p_addresses')).rows.map((r) => r.address)
    const ws = addrs.find((a) => a.startsWith('/ip4/127.0.0.1/') && a.includes('/ws/') && !a.includes('/tls/'))
    if (!ws) throw new Error(`node has no 127.0.0.1 WebSocket address: ${addrs.join(' ')}`)
    peer.wsAddress = ws
    peer.wssAddress = addrs.find((a) => a.startsWith('/ip4/127.0.0.1/') && a.includes('/tls/ws/')) ?? ''
    return peer
  }

  get pgAddress(): string {
    return `127.0.0.1:${this.pgPort}`
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** One statement on a fresh node-postgres connection. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const c = new pg.Client({ host: '127.0.0.1', port: this.pgPort, user: 'concord', database: 'concord', connectionTimeoutMillis: 5000 })
    c.on('error', () => {})
    await c.connect()
    try {
      return await c.query<R>(sql, params)
    } finally {
      await c.end().catch(() => {})
    }
  }

  /** SIGTERM and wait (bounded); SIGKILL if it hangs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return
    this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    await this.exited
    clearTimeout(t)
  }
}
