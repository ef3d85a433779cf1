/**
 * One `concord start` process for the multi-process suites and the cluster benchmark:
 * spawned directly under tsx (not through bin/concord.js, so kill -9 hits the node and
 * not a wrapper), on 127.0.0.1 with free ports, with its log kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const CLI = fileURLToPath(new URL('../../packages/node-server/src/cli.ts', import.meta.url))
// The `concord` command as users run it: the built bundle (`npm run build` first), no loader.
const BIN = fileURLToPath(new URL('../../packages/node-server/bin/concord.js', import.meta.url))
// tsx by its file, so a process started in another working directory (`cwd`) finds it.
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const NODE_FLAGS = [...(Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : []), '--no-warnings=ExperimentalWarning', '--import', TSX]
// Generous: a loaded 2-core CI machine starts a node in seconds, but not always.
const START_TIMEOUT_MS = Number(process.env.CONCORD_START_TIMEOUT_MS ?? 90_000)

export interface ConcordProcessOptions {
  /** Passed as --data-dir; left out when undefined (the CLI's default, under `cwd`). */
  dataDir?: string
  /** Working directory of the process; default the repository root. */
  cwd?: string
  nodeId?: string
  join?: string[]
  clusterKey?: string
  httpPort?: boolean
  /** Address of the libp2p listeners (default 127.0.0.1). */
  p2pHost?: string
  /** Clients' password: passed as CONCORD_PASSWORD (not on the command line), used by `client()`. */
  password?: string
  /** Give the node its password with --password-file <this file> (holding `password`) instead. */
  passwordFile?: string
  extraArgs?: string[]
  env?: Record<string, string>
  /** Run bin/concord.js on the built bundle instead of the sources under tsx (benchmarks: start-up as users see it). */
  built?: boolean
  /** Another build's bin/concord.js to run (implies `built`): benchmarks compare two builds in one run. */
  bin?: string
  /** Flags for Node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[]
}

export class ConcordProcess {
  pgPort = 0
  httpPort: number | undefined
  p2pAddress = ''
  log = ''
  /** What the node printed on stdout (its banner: connection strings, join command). */
  out = ''
  private exited: Promise<number | null>

  readonly options: ConcordProcessOptions
  readonly child: ChildProcess

  private constructor(options: ConcordProcessOptions, child: ChildProcess) {
    this.options = options
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    child.stderr!.on('data', (d: Buffer) => {
      if (this.log.length < 4_000_000) this.log += d.toString()
    })
  }

  static async start(options: ConcordProcessOptions): Promise<ConcordProcess> {
    const entry = options.bin ? [options.bin] : options.built ? [BIN] : [...NODE_FLAGS, CLI]
    const args = [
      ...(options.nodeArgs ?? []), ...entry, 'start', ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : []),
      '--pg-port', '0', '--p2p-host', options.p2pHost ?? '127.0.0.1',
    ]
    if (options.nodeId) args.push('--node-id', options.nodeId)
    for (const j of options.join ?? []) args.push('--join', j)
    if (options.clusterKey) args.push('--cluster-key', options.clusterKey)
    if (options.httpPort) args.push('--http-port', '0')
    if (options.passwordFile) args.push('--password-file', options.passwordFile)
    args.push(...(options.extraArgs ?? []))
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, ...(options.password !== undefined && !options.passwordFile ? { CONCORD_PASSWORD: options.password } : {}) }
    // The source condition would make the bin load the sources through tsx again.
    if (options.built || options.bin) delete env['NODE_OPTIONS']
    const cwd = options.cwd ?? fileURLToPath(new URL('../..', import.meta.url))
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd, env })
    const p = new ConcordProcess(options, child)
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`concord ${options.nodeId ?? ''} did not start in ${START_TIMEOUT_MS} ms:\n${p.log}`)), START_TIMEOUT_MS)
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        p.out = out
        const pgm = /psql -h \S+ -p (\d+)/.exec(out)
        const p2p = /libp2p:\s+(\S+)/.exec(out)
        if (pgm && p2p) {
          p.pgPort = Number(pgm[1])
          p.p2pAddress = p2p[1]!
          const http = /HTTP:\s+http:\/\/[^:]+:(\d+)/.exec(out)
          if (http) p.httpPort = Number(http[1])
          if (!options.httpPort || http) {
            clearTimeout(timer)
            resolve()
          }
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`concord ${options.nodeId ?? ''} exited with ${code} before it was ready:\n${p.log}`))
      })
    })
    return p
  }

  get pgAddress(): string {
    return `127.0.0.1:${this.pgPort}`
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  async client(): Promise<pg.Client> {
    const c = new pg.Client({ host: '127.0.0.1', port: this.pgPort, user: 'concord', database: 'concord', password: this.options.password, connectionTimeoutMillis: 5000 })
    c.on('error', () => {})
    await c.connect()
    return c
  }

  /** Runs one statement on a fresh connection. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const c = await this.client()
    try {
      return await c.query<R>(sql, params)
    } finally {
      await c.end().catch(() => {})
    }
  }

  /** SIGKILL: no shutdown code runs. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM and wait for a clean exit (bounded); SIGKILL if it hangs. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode
    this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    const code = await this.exited
    clearTimeout(t)
    return code
  }
}

/** Polls `cond` (sync or async) every `stepMs` until it holds; fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string, stepMs = 100): Promise<void> {
  const deadline = Date.now() + ms
  let lastError: unknown
  for (let i = 0; i < Math.ceil(ms / stepMs) + 1; i++) {
    try {
      if (await cond()) return
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, stepMs))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`)
}
