/**
 * The `concord` command line: `concord start [flags]`, `concord gen-cluster-key <file>`,
 * `concord --help`. bin/concord.js runs the compiled form of this file (dist/cli.js) in
 * its own process.
 *
 * Invariants: only what a command needs is loaded, when it runs: `--help` and the
 * argument parsing load no libp2p, LMDB or SQL parser, so they answer at once; `start`
 * loads the node (and, on Node 20, a global WebSocket) after its flags are valid.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseStartOptions, startHelp, toNodeOptions, UsageError } from './cli/start-options.js'
import { clusterHelp, parseClusterOptions, runLocalCluster } from './cli/local-cluster.js'
import { ensureGlobalWebSocket } from './cli/global-websocket.js'
import { installGlobalNavigator } from './cli/global-navigator.js'
import { backupHelp, parseBackupOptions, parseRestoreOptions, runBackupCommand, runRestoreCommand } from './cli/backup-command.js'
import { admitHelp, parseAdmitOptions, runAdmitCommand } from './cli/admit-command.js'
import { consoleLogger, errorMessage } from './log/logger.js'
import { isLoopbackHost } from './transport/loopback-host.js'

const VERSION = '0.1.0'

export function usage(): string {
  return `concord ${VERSION}: an eventually consistent, multi-master SQL database

Usage:
  concord start [options]            run a node
  concord cluster [options]          run several local nodes joined together (npm run cluster)
  concord gen-cluster-key <file>     write a new cluster key (libp2p swarm key)
  concord admit <token | peer id>    put a node on the cluster's member list (see below)
  concord backup --to URL            back up a running node (see below)
  concord restore --from URL --data-dir DIR   restore a backup into a new data directory
  concord --help | --version

Options of start (flags override CONCORD_* variables, which override --config):
${startHelp()}

Options of cluster:
${clusterHelp()}

Backup and restore (docs/backup.md):
${backupHelp()}

Admitting nodes to the member list (docs/security.md, Membership):
${admitHelp()}

Examples:
  concord start --data-dir ./data --pg-port 5432
  concord start --data-dir ./d2 --region eu-central --pg-port 5442 --join 127.0.0.1:5432
  concord start --memory --no-p2p --pg-port 0     a throwaway node for a test: SQL only, nothing on disk
  psql -h 127.0.0.1 -p 5432 -U concord concord
`
}

/** Runs the CLI; resolves to the process exit code (start resolves only after shutdown). */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage())
    return command === undefined ? 1 : 0
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  try {
    switch (command) {
      case 'start':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(usage())
          return 0
        }
        return await start(rest, env)
      case 'cluster':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(usage())
          return 0
        }
        return await runLocalCluster(parseClusterOptions(rest))
      case 'backup':
        return await runBackupCommand(parseBackupOptions(rest), env, (line) => process.stdout.write(`${line}\n`))
      case 'restore':
        return await runRestoreCommand(parseRestoreOptions(rest), consoleLogger('concord'), (line) => process.stdout.write(`${line}\n`))
      case 'admit':
        return await runAdmitCommand(parseAdmitOptions(rest), env, (line) => process.stdout.write(`${line}\n`))
      case 'gen-cluster-key': {
        if (rest.length !== 1) throw new UsageError('gen-cluster-key takes exactly one argument: the file to write')
        const { writeClusterKey } = await import('./transport/cluster-key.js')
        writeClusterKey(rest[0]!)
        process.stdout.write(`wrote cluster key to ${rest[0]}; give it to every node with --cluster-key ${rest[0]}\n`)
        return 0
      }
      default:
        throw new UsageError(`unknown command '${command}'`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`concord: ${err.message}\nRun 'concord --help' for the options.\n`)
      return 2
    }
    process.stderr.write(`concord: ${errorMessage(err)}\n`)
    return 1
  }
}

async function start(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const settings = parseStartOptions(argv, env, (p) => readFileSync(p, 'utf8'))
  const log = consoleLogger('concord', { quiet: settings.quiet })
  if (argv.some((a) => a === '--password' || a.startsWith('--password='))) {
    log.warn('--password is visible to every user of this machine (ps); use --password-file or CONCORD_PASSWORD')
  }
  // A database server keeps serving: a promise some library left rejected and unhandled
  // is logged, not allowed to end the process (Node's default).
  process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${errorMessage(err)}`))
  // Node 20 lacks Node 21's navigator: without it, node-postgres (federated reads, --join) loads undici as it loads.
  installGlobalNavigator()
  // Both load modules only; loading them side by side overlaps their file reads.
  const [, { ConcordNode }] = await Promise.all([settings.p2p ? ensureGlobalWebSocket() : undefined, import('./node/concord-node.js')])
  const node = await ConcordNode.start({ ...toNodeOptions(settings), logger: log })
  const addrs = node.p2pAddresses()
  const key = node.peerPortKey
  // The join command carries what a peer needs: the cluster key, and the password when clients need one.
  const joinFlags = [
    ...(key.file !== undefined ? [`--cluster-key ${resolve(key.file)}`] : []),
    ...(settings.password !== undefined ? ['--password-file <file holding the password>'] : []),
    // One use: it puts the joiner on the cluster's member list (docs/security.md, "Membership").
    ...(node.joinToken !== undefined ? [`--join-token ${node.joinToken}`] : []),
  ]
  process.stdout.write(
    [
      `Concord node ${node.nodeId} (region ${node.region}) is running.`,
      `  PostgreSQL: psql -h ${settings.host} -p ${node.pgPort} -U concord concord`,
      `  data:       ${settings.memory ? 'in memory (--memory): nothing is written to disk; gone at exit' : settings.dataDir}`,
      ...(settings.p2p
        ? [
          ['  join it:    concord start --data-dir <other-dir>', `--join ${joinTarget(settings, node.pgPort, addrs)}`, ...joinFlags]
            .join(' '),
          `  libp2p:     ${addrs.find((a) => a.includes('/127.0.0.1/') && !a.includes('/ws')) ?? addrs[0] ?? '(none)'}`,
          ...(node.transport !== undefined
            ? [`  peer id:    ${node.transport.peerId} (a member admits it: concord admit <peer id> --pg-port <port>)`]
            : []),
        ]
        : ['  libp2p:     off (--no-p2p): no listeners, no peers']),
      ...(key.file !== undefined
        ? [`  cluster key: ${resolve(key.file)}${key.created ? ' (created now)' : ''}; peers without it cannot connect`]
        : []),
      ...(node.httpPort !== undefined ? [`  HTTP:       http://${settings.httpHost ?? settings.host}:${node.httpPort}/health  /metrics`] : []),
      '',
    ].join('\n'),
  )
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        // A second Ctrl-C while shutting down: leave now (LMDB keeps every committed write).
        log.warn(`${signal} again: exiting without waiting for shutdown`)
        process.exit(130)
      }
      stopping = true
      log.info(`${signal}: shutting down`)
      node.stop().then(resolve, (err: unknown) => {
        log.error(`shutdown: ${errorMessage(err)}`)
        resolve()
      })
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    // As PostgreSQL rereads its ssl_* files: a renewed certificate or CRL without a restart.
    // Only a node with TLS takes SIGHUP over; without, it keeps its default (ending the process).
    if (settings.tlsCert !== undefined || settings.tlsSelfSigned) {
      process.on('SIGHUP', () => {
        try {
          node.reloadTls()
        } catch (err) {
          log.error(`SIGHUP: the TLS files in use are kept: ${errorMessage(err)}`)
        }
      })
    }
  })
  return 0
}

/**
 * What a new node's --join names: this node's PostgreSQL address, unless only libp2p is
 * reachable from other machines (PostgreSQL on loopback, peers beyond it): then the
 * first libp2p TCP address that is not loopback.
 */
function joinTarget(settings: { host: string; p2pHost: string }, pgPort: number, p2pAddrs: string[]): string {
  if (isLoopbackHost(settings.host) && !isLoopbackHost(settings.p2pHost)) {
    const remote = p2pAddrs.find((a) => !a.includes('/ws') && !/^\/ip4\/127\./.test(a))
    if (remote !== undefined) return remote
  }
  return `${settings.host}:${pgPort}`
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`concord: ${errorMessage(err)}\n`)
      process.exit(1)
    },
  )
}
