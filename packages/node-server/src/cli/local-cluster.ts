/**
 * `concord cluster`: several `concord start` processes on this machine, joined into one
 * cluster, for trying Concord out (`npm run cluster`). The first node listens on the
 * PostgreSQL port asked for (or the next free one); the others join it by its
 * PostgreSQL address, as a user would. Ctrl-C (or SIGTERM) stops every node cleanly.
 *
 * Invariants: every child is started with its own data directory and is signalled and
 * awaited on shutdown; a child that dies takes the whole cluster down, so nothing keeps
 * running half-started.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from './start-options.js'

export interface LocalClusterOptions {
  nodes: number
  dataDir: string
  pgPort: number
  host: string
  clusterKey?: string
}

const MAX_NODES = 32
/**
 * How long one node may take to print its banner. Generous: nodes start one after the
 * other, each joining all the earlier ones, and on a busy 2-core machine the seventh of
 * ten took more than 60 s (the limit before, which stopped the whole cluster).
 */
const READY_TIMEOUT_MS = 300_000

export function parseClusterOptions(argv: string[]): LocalClusterOptions {
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' },
        'data-dir': { type: 'string' },
        'pg-port': { type: 'string' },
        host: { type: 'string' },
        'cluster-key': { type: 'string' },
      },
    }).values as Record<string, string | undefined>
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''))
  }
  const nodes = Number(values['nodes'] ?? '3')
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new UsageError(`--nodes: expected 1 to ${MAX_NODES}`)
  const pgPort = Number(values['pg-port'] ?? '5432')
  if (!Number.isInteger(pgPort) || pgPort < 1 || pgPort > 65535) {
    throw new UsageError(`--pg-port: '${values['pg-port']}' is not a port number`)
  }
  return {
    nodes,
    dataDir: values['data-dir'] ?? './cluster-data',
    pgPort,
    host: values['host'] ?? '127.0.0.1',
    clusterKey: values['cluster-key'],
  }
}

export function clusterHelp(): string {
  return [
    `${'  --nodes <n>'.padEnd(28)} how many nodes [3]`,
    `${'  --data-dir <dir>'.padEnd(28)} parent directory; node i keeps its data in <dir>/node<i> [./cluster-data]`,
    `${'  --pg-port <port>'.padEnd(28)} PostgreSQL port of the first node; the others take the next free ones [5432]`,
    `${'  --host <addr>'.padEnd(28)} address of the PostgreSQL listeners [127.0.0.1]`,
    `${'  --cluster-key <file>'.padEnd(28)} give every node this cluster key`,
  ].join('\n')
}

interface Child {
  name: string
  process: ChildProcess
  pgPort?: number
}

/** Runs the cluster until SIGINT/SIGTERM or a node exits; resolves to the exit code. */
export async function runLocalCluster(options: LocalClusterOptions): Promise<number> {
  const bin = fileURLToPath(new URL('../../bin/concord.js', import.meta.url))
  const children: Child[] = []
  let stopping = false
  let exitCode = 0
  let resolveDone!: () => void
  const done = new Promise<void>((r) => (resolveDone = r))

  const stopAll = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    process.stderr.write(`stopping ${children.length} node(s)...\n`)
    for (const c of children) if (c.process.exitCode === null) c.process.kill(signal)
  }
  const onSignal = (signal: NodeJS.Signals): void => stopAll(signal)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const startNode = (i: number, joinAddr: string | undefined, pgPort: number): Promise<Child> => {
    const name = `node${i + 1}`
    const args = [bin, 'start', '--data-dir', join(options.dataDir, name), '--pg-port', String(pgPort)]
    args.push('--host', options.host, '--p2p-host', '127.0.0.1')
    if (joinAddr) args.push('--join', joinAddr)
    if (options.clusterKey) args.push('--cluster-key', options.clusterKey)
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const child: Child = { name, process: proc }
    children.push(child)
    proc.stderr!.on('data', (d: Buffer) => prefixLines(name, d.toString(), process.stderr))
    proc.on('exit', (code, signal) => {
      if (!stopping) {
        process.stderr.write(`${name} exited (${signal ?? code}); stopping the cluster\n`)
        exitCode = 1
        stopAll('SIGTERM')
      }
      if (children.every((c) => c.process.exitCode !== null || c.process.signalCode !== null)) resolveDone()
    })
    const startedAt = Date.now()
    return new Promise((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS)
      proc.stdout!.on('data', (d: Buffer) => {
        if (child.pgPort !== undefined) return
        out += d.toString()
        const m = /psql -h \S+ -p (\d+)/.exec(out)
        if (m) {
          child.pgPort = Number(m[1])
          clearTimeout(timer)
          process.stderr.write(`${name} ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`)
          resolve(child)
        }
      })
      proc.on('exit', () => {
        clearTimeout(timer)
        reject(new Error(`${name} exited before it was ready`))
      })
    })
  }

  try {
    const first = await startNode(0, undefined, options.pgPort)
    const seed = `${options.host}:${first.pgPort}`
    let next = first.pgPort! + 1
    for (let i = 1; i < options.nodes; i++) {
      const c = await startNode(i, seed, next)
      next = c.pgPort! + 1
    }
  } catch (err) {
    process.stderr.write(`concord cluster: ${(err as Error).message}\n`)
    stopAll('SIGTERM')
    await done
    cleanup()
    return 1
  }

  process.stdout.write(
    [
      `Concord cluster of ${children.length} node(s) is running (data under ${options.dataDir}):`,
      ...children.map((c) => `  ${c.name}: psql -h ${options.host} -p ${c.pgPort} -U concord concord    postgresql://concord@${options.host}:${c.pgPort}/concord`),
      'Every node accepts writes; rows written on one appear on the others. Ctrl-C stops all nodes.',
      '',
    ].join('\n'),
  )
  await done
  cleanup()
  return exitCode

  function cleanup(): void {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function prefixLines(name: string, text: string, out: NodeJS.WritableStream): void {
  for (const line of text.split('\n')) if (line) out.write(`[${name}] ${line}\n`)
}
