/**
 * Says what replication is doing in the node's log: a progress line every interval
 * while a large amount of remote data is arriving, and a summary when it settles.
 *
 * The words follow the replica's catch-up state, not the volume: "catching up" and
 * "caught up" only while (and once) some table this node's region holds is not caught up
 * (placement/catch-up.ts, join-catch-up.ts: a new node filling up, a node given a shard);
 * any other burst (a peer's bulk load, rows re-resolved after a generation switch) is
 * "receiving from peers". An operator read "caught up: 145,719 rows" on a node that had
 * never been behind, for a table of 20,000 rows.
 *
 * Counts remote row changes (the replica's `change` events with origin 'remote') and
 * anti-entropy bytes (`repairBytes`); it never touches the data itself.
 */
import { holdsTable, type Replica } from '@concord/core'
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
  /** The burst being logged; `behind`: some table was not caught up during it. */
  private active: { startedAt: number; rows: number; bytes: number; behind: boolean } | null = null
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
      if (!this.active) this.active = { startedAt: Date.now() - interval, rows: 0, bytes: 0, behind: false }
      this.active.rows += dRows
      this.active.bytes += dBytes
      const behind = this.tablesBehind()
      if (behind > 0) this.active.behind = true
      const what = `${this.active.rows.toLocaleString('en-US')} row changes (${mb(this.active.bytes)}) received from peers, ${Math.round((dRows * 1000) / interval).toLocaleString('en-US')}/s, ${this.replica.replicator.knownPeers().length} peer(s)`
      this.log.info(behind > 0 ? `catching up: ${what}; ${behind} table(s) not caught up` : `receiving from peers: ${what}`)
      return
    }
    if (this.active) {
      const s = (Date.now() - this.active.startedAt) / 1000
      const what = `${this.active.rows.toLocaleString('en-US')} row changes (${mb(this.active.bytes)}) in ${s.toFixed(1)} s`
      const behind = this.tablesBehind()
      if (behind > 0) this.log.info(`received from peers: ${what}; ${behind} table(s) still catching up`)
      else this.log.info(this.active.behind ? `caught up: ${what}` : `received from peers: ${what}`)
      this.active = null
    }
  }

  /** Tables this node's region holds that it has not caught up on. */
  private tablesBehind(): number {
    let n = 0
    for (const info of this.replica.tables()) if (holdsTable(this.replica.region, info) && !this.replica.caughtUp(info)) n++
    return n
  }

  stop(): void {
    clearInterval(this.timer)
    this.unsubscribe()
  }
}

function mb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`
}
