/**
 * The TCP ports a process listens on, read from Linux's /proc: the socket inodes among
 * the process's open files, matched against the LISTEN entries of /proc/net/tcp{,6}.
 * Answers undefined where /proc is not there (other systems), so a test can say it
 * cannot check instead of passing blindly.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'

const TCP_LISTEN = '0A'

export function listeningPorts(pid: number): number[] | undefined {
  if (!existsSync(`/proc/${pid}/fd`)) return undefined
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // The descriptor closed while we read the directory.
    }
  }
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10 || cols[3] !== TCP_LISTEN || !inodes.has(cols[9]!)) continue
      ports.add(parseInt(cols[1]!.split(':')[1]!, 16))
    }
  }
  return [...ports].sort((a, b) => a - b)
}
