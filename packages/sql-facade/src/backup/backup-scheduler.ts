/**
 * Scheduled backups: the node whose settings name a `backup_target` backs itself up
 * there every `backup_schedule`, or, without one, every `rpo_minutes` of the seed's
 * `disaster_recovery_config` table (the smallest of the rows that apply to this node:
 * those whose `backup_region` is empty or this node's region).
 *
 * Who runs it: the node the target is set on (ALTER SYSTEM is per node), each such node
 * into its own target. No election: an eventually consistent cluster has no single
 * leader to ask, and the operator picks the node that holds every table (or one per
 * region), as for `concord backup`. The replicated table `disaster_recovery_config`
 * gives the interval and the region; it never makes a node without a target back up.
 *
 * A run is due `interval` after the cut of the last backup to the target that succeeded
 * on this node (any trigger: a BACKUP statement counts), at once when there is none
 * (a node that starts with a schedule backs up first); a failed run is retried after
 * min(interval, RETRY_MS). Runs appear in concord_backups (trigger 'schedule') and feed
 * concord_backup_last_success_age_seconds like any backup. With backup_chain_length N, a
 * run is full once the target's latest chain holds N backups; with
 * backup_retention_chains K and/or backup_retention_age A, each good run is followed by
 * deleting the chains there beyond the newest K or last written more than A ago, never
 * the newest (backup-chains.ts).
 *
 * Invariants: time comes from the replica (clock, scheduler), so virtual time drives it;
 * one run at a time; between runs the plan is re-read at least every POLL_MS (a changed
 * table row takes effect within that) and at once when a backup setting of this node
 * changes.
 */
import type { Replica } from '@concord/core'
import { durationMillis } from '../settings/parameters.js'
import type { BackupScheduleStatus, BackupService } from './backup-service.js'
import { nodeSetting } from './backup-store-settings.js'

/** The schedule is re-read at least this often. */
export const POLL_MS = 30_000
/** A failed scheduled backup is tried again after at most this long. */
export const RETRY_MS = 60_000

/** One row of `disaster_recovery_config`, as far as scheduling reads it. */
export interface DisasterRecoveryRow {
  rpoMinutes: number | null
  backupRegion: string | null
}

export interface BackupSchedulerHost {
  replica: Replica
  backups: BackupService
  /** The rows of the user table disaster_recovery_config; null when there is no such table. */
  disasterRecoveryConfig(): Promise<DisasterRecoveryRow[] | null>
  warn(line: string): void
}

/** What this node's settings and the table ask for (pure). */
export function planSchedule(
  schedule: string | undefined,
  target: string | undefined,
  dr: DisasterRecoveryRow[] | null,
  region: string,
): Omit<BackupScheduleStatus, 'nextRun' | 'running'> {
  const off = (problem: string | null): Omit<BackupScheduleStatus, 'nextRun' | 'running'> => ({ source: null, intervalMs: null, target: target ?? null, problem })
  let source: BackupScheduleStatus['source'] = null
  let intervalMs = schedule === undefined ? 0 : durationMillis(schedule)
  if (intervalMs > 0) source = 'backup_schedule'
  else if (dr !== null && dr.length > 0) {
    const rows = dr.filter((r) => r.rpoMinutes !== null && r.rpoMinutes > 0)
    const mine = rows.filter((r) => r.backupRegion === null || r.backupRegion === '' || r.backupRegion === region)
    if (mine.length === 0) return off(null)
    intervalMs = Math.min(...mine.map((r) => r.rpoMinutes!)) * 60_000
    source = 'disaster_recovery_config'
  }
  if (source === null) return off(null)
  if (target === undefined) return { source, intervalMs, target: null, problem: `${source} asks for a backup every ${intervalMs / 1000} s but backup_target is not set on this node` }
  return { source, intervalMs, target, problem: null }
}

export class BackupScheduler {
  private readonly host: BackupSchedulerHost
  private cancelTimer: (() => void) | null = null
  private stopped = false
  /** A tick (plan, maybe a run) is under way; ticks never overlap. */
  private ticking = false
  /** Settings changed during a tick: plan again when it ends. */
  private replan = false
  /** When the last scheduled run failed (ms), per target. */
  private failedAt: { target: string; at: number; why: string } | null = null
  private lastWarning: string | null = null

  constructor(host: BackupSchedulerHost) {
    this.host = host
  }

  start(): void {
    this.arm(0)
  }

  /** This node's backup settings changed: plan again now rather than at the next poll. */
  settingsChanged(): void {
    if (this.ticking) this.replan = true
    else this.arm(0)
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.cancelTimer = null
  }

  private arm(ms: number): void {
    if (this.stopped) return
    this.cancelTimer?.()
    this.cancelTimer = this.host.replica.scheduler.setTimeout(ms, () => {
      this.cancelTimer = null
      void this.tick()
    })
  }

  /** The cut of the last backup to `target` this node took that succeeded. */
  private lastSuccess(target: string): number | null {
    const h = this.host.backups.history
    for (let i = h.length - 1; i >= 0; i--) if (h[i]!.url === target && h[i]!.status === 'succeeded') return h[i]!.started
    return null
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return
    this.ticking = true
    this.replan = false
    let next: number
    try {
      next = await this.plan()
    } catch (err) {
      // The schedule goes on whatever one tick ran into.
      this.host.warn(`backup schedule: ${err instanceof Error ? err.message : String(err)}`)
      next = POLL_MS
    } finally {
      this.ticking = false
    }
    this.arm(this.replan ? 0 : next)
  }

  /** Plans, runs a backup when one is due; resolves to the delay before the next tick. */
  private async plan(): Promise<number> {
    const { replica, backups } = this.host
    let dr: DisasterRecoveryRow[] | null = null
    let drProblem: string | null = null
    try {
      dr = await this.host.disasterRecoveryConfig()
    } catch (err) {
      drProblem = `disaster_recovery_config cannot be read: ${err instanceof Error ? err.message : String(err)}`
    }
    const plan = planSchedule(nodeSetting(replica, 'backup_schedule'), nodeSetting(replica, 'backup_target'), dr, replica.region)
    const problem = plan.problem ?? drProblem
    this.warnOnce(problem)
    if (plan.source === null || plan.target === null || plan.intervalMs === null) {
      backups.schedule = { ...plan, nextRun: null, problem, running: false }
      return POLL_MS
    }
    const now = replica.now()
    const last = this.lastSuccess(plan.target)
    let due = last === null ? now : last + plan.intervalMs
    const failed = this.failedAt
    let lastFailure: string | null = null
    if (failed !== null && failed.target === plan.target && (last === null || failed.at > last)) {
      due = Math.max(due, failed.at + Math.min(plan.intervalMs, RETRY_MS))
      lastFailure = `last scheduled backup failed: ${failed.why}`
    }
    backups.schedule = { ...plan, nextRun: due, problem: problem ?? lastFailure, running: false }
    if (due > now) return Math.min(due - now, POLL_MS)
    if (backups.openStore === null) {
      backups.schedule = { ...plan, nextRun: null, problem: 'this database has no backup storage (not a node server): no scheduled backups', running: false }
      this.warnOnce(backups.schedule.problem)
      return POLL_MS
    }
    backups.schedule.running = true
    try {
      return await this.run(plan.target)
    } finally {
      backups.schedule.running = false
    }
  }

  /** One scheduled run to `target`: full or incremental, then retention; resolves to the delay before the next tick. */
  private async run(target: string): Promise<number> {
    const { replica, backups } = this.host
    try {
      const chainLength = Number(nodeSetting(replica, 'backup_chain_length') ?? '0')
      // A store that cannot be listed fails the backup itself, which concord_backups then shows.
      const full = chainLength > 0 && (await backups.latestChainLength(target).catch(() => 0)) >= chainLength
      await backups.backup(target, 'schedule', full)
      this.failedAt = null
    } catch (err) {
      // BackupService logged it and keeps the failed row in concord_backups.
      this.failedAt = { target, at: replica.now(), why: err instanceof Error ? err.message : String(err) }
      return 0
    }
    const chains = Number(nodeSetting(replica, 'backup_retention_chains') ?? '0')
    const maxAgeMs = durationMillis(nodeSetting(replica, 'backup_retention_age') ?? '0')
    if (chains > 0 || maxAgeMs > 0) {
      try {
        await backups.prune(target, { chains, maxAgeMs })
      } catch (err) {
        // The backup stands; the next run prunes again.
        this.host.warn(`backup retention at ${target} failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
    return 0
  }

  private warnOnce(problem: string | null): void {
    if (problem !== null && problem !== this.lastWarning) this.host.warn(`backup schedule: ${problem}`)
    this.lastWarning = problem
  }
}
