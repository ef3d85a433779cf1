/**
 * Says what replication is doing in the node's log: a progress line every interval
 * while a large amount of remote data is arriving (a node catching up after being
 * away, or a new node filling up), and a summary when it settles.
 *
 * Counts remote row changes (the replica's `change` events with origin 'remote') and
 * anti-entropy bytes (`repairBytes`); it never touches the data itself.
 */
import type { Replica } from '@concord/core'
import type { Logger } from '../log/logger.js'

export interface CatchUpLogOptions {
  /** Milliseconds between checks; default 1000. */
  intervalMs?: number
  /** Rows per interval above which a sync counts as large; default 1000. */
  minRows?: number
}

export class CatchUpLog {
  private rows = 0
  private lastRows = 0
  private lastBytes = 0
  private active: { startedAt: number; rows: number; bytes: number } | null = null
  private readonly timer: ReturnType<typeof setInterval>
  private readonly unsubscribe: () => void

  private readonly replica: Replica
  private readonly log: Logger

  constructor(replica: Replica, log: Logger, options: CatchUpLogOptions = {}) {
    this.replica = replica
    this.log = log
    const minRows = options.minRows ?? 1000
    const interval = options.intervalMs ?? 1000
    this.unsubscribe = replica.on('change', (changes) => {
      for (const c of changes) if (c.origin === 'remote') this.rows++
    })
    this.lastBytes = replica.stats().repairBytes
    this.timer = setInterval(() => this.tick(minRows, interval), interval)
    this.timer.unref()
  }

  private tick(minRows: number, interval: number): void {
    const bytes = this.replica.stats().repairBytes
    const dRows = this.rows - this.lastRows
    const dBytes = bytes - this.lastBytes
    this.lastRows = this.rows
    this.lastBytes = bytes
    if (dRows >= minRows || (this.active && dRows > 0)) {
      if (!this.active) this.active = { startedAt: Date.now() - interval, rows: 0, bytes: 0 }
      this.active.rows += dRows
      this.active.bytes += dBytes
      this.log.info(`catching up: ${this.active.rows.toLocaleString('en-US')} rows (${mb(this.active.bytes)}) received from peers, ${Math.round((dRows * 1000) / interval).toLocaleString('en-US')} rows/s, ${this.replica.replicator.knownPeers().length} peer(s)`)
      return
    }
    if (this.active) {
      const s = (Date.now() - this.active.startedAt) / 1000
      this.log.info(`caught up: ${this.active.rows.toLocaleString('en-US')} rows (${mb(this.active.bytes)}) in ${s.toFixed(1)} s`)
      this.active = null
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.unsubscribe()
  }
}

function mb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`
}
