/**
 * concord_backups: the backups this node ran since it started, oldest first (url, id,
 * started, finished, bytes, kind, status, trigger). A running backup shows status
 * 'running' and no id yet; a failed one keeps its row with status 'failed'; trigger is
 * 'statement' (BACKUP DATABASE, concord backup) or 'schedule'.
 */
import { view, type SystemView } from '../runtime/system-view.js'
import { T } from '../types/sql-type.js'
import type { BackupService } from './backup-service.js'

export function backupsView(service: BackupService): SystemView {
  return view(
    [['url', T.text], ['id', T.text], ['started', T.timestamptz], ['finished', T.timestamptz], ['bytes', T.int8], ['kind', T.text], ['status', T.text], ['trigger', T.text]],
    () => service.history.map((r) => [r.url, r.id, r.started * 1000, r.finished === null ? null : r.finished * 1000, BigInt(r.bytes), r.kind, r.status, r.trigger]),
  )
}

/**
 * pg_stat_progress_backup: one row per backup running on this node: its URL, id, phase
 * ('writing', 'writing manifest'), shards written of the total, and bytes written.
 */
export function backupProgressView(service: BackupService): SystemView {
  return view(
    [['url', T.text], ['id', T.text], ['phase', T.text], ['shards_total', T.int8], ['shards_done', T.int8], ['bytes_done', T.int8], ['started', T.timestamptz]],
    () =>
      service.history
        .filter((r) => r.status === 'running')
        .map((r) => {
          const p = r.progress
          return [r.url, r.id, p?.phase ?? 'taking cut', BigInt(p?.shardsTotal ?? 0), BigInt(p?.shardsDone ?? 0), BigInt(p?.bytesDone ?? 0), r.started * 1000]
        }),
  )
}

/**
 * concord_backup_schedule: one row, this node's backup schedule as last planned: where
 * the interval comes from ('backup_schedule', 'disaster_recovery_config', or null: none),
 * the interval in seconds, the target, the next run, whether a scheduled run is under
 * way, and why nothing is planned or what
 * the last scheduled run failed on (null when all is well).
 */
export function backupScheduleView(service: BackupService): SystemView {
  return view(
    [['source', T.text], ['interval_seconds', T.int8], ['target', T.text], ['next_run', T.timestamptz], ['running', T.bool], ['problem', T.text]],
    () => {
      const s = service.schedule
      return [[s.source, s.intervalMs === null ? null : BigInt(Math.round(s.intervalMs / 1000)), s.target, s.nextRun === null ? null : s.nextRun * 1000, s.running, s.problem]]
    },
  )
}
