/**
 * The cluster benchmark's dependency floor (issue 13: "which part of a goal is bounded by
 * a dependency"): raw Yjs in bare Node processes (yjs-floor-child.mjs) doing the least
 * a node must do for three of the measures, on the benchmark's rows, in the same run:
 *
 * - holding ROWS rows: the resident memory of a process holding them in one Y.Doc (after a
 *   collection: a lower bound);
 * - a new process catching up ROWS rows: from its spawn until it has applied the holder's
 *   state, read over one plain TCP connection; its CPU seconds and resident memory then;
 * - start to first answer, empty: from spawn until the process answers a TCP connection;
 * - replicated throughput: a writer process making the rows in transactions of 1,000, each
 *   one's update sent over plain TCP to a follower process that applies it, timed until the
 *   follower holds them all (no storage, no client, no waiting between transactions: the
 *   least both sides must do per row).
 *
 * Every wait is bounded in time; a child that fails or stays silent fails the measure.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./yjs-floor-child.mjs', import.meta.url))
const LINE_DEADLINE_MS = 120_000

interface Spawned {
  child: ChildProcess
  /** The child's first line of output, parsed; rejects if it exits first or stays silent. */
  line: Promise<Record<string, number>>
}

function run(args: string[], nodeArgs: string[] = []): Spawned {
  // No loader and no NODE_OPTIONS: the floor is bare Node (the benchmark itself runs under tsx).
  const { NODE_OPTIONS: _, ...env } = process.env
  const child = spawn(process.execPath, [...nodeArgs, CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env })
  let out = ''
  let err = ''
  const line = new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`yjs floor ${args[0]}: no answer in ${LINE_DEADLINE_MS} ms`))
    }, LINE_DEADLINE_MS)
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const nl = out.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      resolve(JSON.parse(out.slice(0, nl)) as Record<string, number>)
    })
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`yjs floor ${args[0]} exited (${code}) before answering: ${err.trim().slice(-400)}`))
    })
  })
  return { child, line }
}

/** A process holding `rows` rows; serves their state to joiners until `stop`. */
export interface YjsHolder {
  port: number
  /** Its resident memory once the rows were built and collected, bytes. */
  rss: number
  stop(): void
}

export async function startYjsHolder(rows: number, payload: string): Promise<YjsHolder> {
  const { child, line } = run(['serve', String(rows), payload], ['--expose-gc'])
  const { port, rss } = await line
  return { port: port!, rss: rss!, stop: () => child.stdin!.end() }
}

export interface YjsCatchUp {
  seconds: number
  cpu: number
  rss: number
}

/** A new process takes the holder's `rows` rows over TCP: timed from its spawn. */
export async function yjsCatchUp(holder: YjsHolder, rows: number): Promise<YjsCatchUp> {
  const t0 = performance.now()
  const { rss, cpu } = await run(['join', String(holder.port), String(rows)]).line
  return { seconds: (performance.now() - t0) / 1000, cpu: cpu!, rss: rss! }
}

/** A new bare Node process answering its first TCP connection: seconds from its spawn. */
export async function bareStart(): Promise<number> {
  const t0 = performance.now()
  const { port } = await run(['start']).line
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port!, '127.0.0.1')
    socket.on('data', () => socket.end())
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
  return (performance.now() - t0) / 1000
}

export interface YjsThroughput {
  rowsPerSecond: number
  /** CPU seconds of the writer from its first transaction until the follower held every row. */
  writerCpu: number
}

/** Rows a second from a raw Yjs writer to a raw Yjs follower over TCP (see the header). */
export async function yjsThroughput(rows: number, payload: string): Promise<YjsThroughput> {
  const follower = run(['follow', String(rows)])
  const { port } = await follower.line
  const { seconds, cpu } = await run(['write', String(port), String(rows), payload]).line
  return { rowsPerSecond: rows / seconds!, writerCpu: cpu! }
}
