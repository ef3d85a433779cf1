/**
 * concord_backups: the backups this node ran since it started, oldest first (url, id,
 * started, finished, bytes, kind, status). A running backup shows status 'running' and
 * no id yet; a failed one keeps its row with status 'failed'.
 */
import { view, type SystemView } from '../system/system-view.js'
import { T } from '../types/sql-type.js'
import type { BackupService } from './backup-service.js'

export function backupsView(service: BackupService): SystemView {
  return view(
    [['url', T.text], ['id', T.text], ['started', T.timestamptz], ['finished', T.timestamptz], ['bytes', T.int8], ['kind', T.text], ['status', T.text]],
    () => service.history.map((r) => [r.url, r.id, r.started * 1000, r.finished === null ? null : r.finished * 1000, BigInt(r.bytes), r.kind, r.status]),
  )
}
