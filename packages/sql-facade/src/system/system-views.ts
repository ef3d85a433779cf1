/**
 * The registry of system views: which relation a name in pg_catalog or
 * information_schema is, and the catalog model the catalog views and functions share.
 *
 * Name resolution: a name qualified with `pg_catalog` or `information_schema` is looked
 * up in that schema only; an unqualified name that is not a table is looked up in
 * pg_catalog, then information_schema (PostgreSQL would not search the latter; Concord
 * always has, so `SELECT * FROM columns` keeps working).
 *
 * Invariants: the list of views, hence their OIDs (catalog-model.ts), is fixed by this
 * file's order, the same on every node.
 */
import type { Replica } from '@concord/core'
import type { BackupService } from '../backup/backup-service.js'
import { backupProgressView, backupScheduleView, backupsView } from '../backup/backups-view.js'
import type { ConflictLog } from '../conflicts/conflict-log.js'
import { conflictsView } from '../conflicts/conflicts-view.js'
import type { ExecCtx } from '../runtime/context.js'
import type { Relation } from '../relation/relation.js'
import { REPLICATION_VIEWS } from '../replication/replication-views.js'
import { buildCatalogModel, type CatalogModel, type CatalogSource, type Namespace, type SystemRelationInfo } from '../catalog/catalog-model.js'
import { CLUSTER_VIEWS } from './cluster-views.js'
import { failoverHistoryView } from '../failover/failover-history-view.js'
import { clusterMembersView } from './cluster-members-view.js'
import { browserGrantsView } from './browser-grants-view.js'
import { INFORMATION_SCHEMA_VIEWS } from './information-schema-views.js'
import { PG_CATALOG_VIEWS } from './pg-catalog-views.js'
import { mayRead, ROLE_CATALOG_VIEWS } from '../auth/role-views.js'
import { PRIVILEGE_INFORMATION_SCHEMA_VIEWS } from '../auth/privilege-views.js'
import { informationSchemaSequences, pgSequence, pgSequences } from './sequence-views.js'
import { pgCursors, pgPreparedStatements } from './session-views.js'
import { pgLocks } from './lock-views.js'
import { queryResultCacheView } from './result-cache-view.js'
import { RESULT_CACHE_VIEW } from '../placement/result-cache.js'
import type { RowLocks } from '../runtime/row-locks.js'
import type { SystemView, ViewCtx } from '../runtime/system-view.js'

/** What the views read beyond the statement's own context. */
export interface SystemViewHost {
  readonly replica: Replica
  readonly conflicts: ConflictLog
  readonly backups: BackupService
  /** The node's row locks (pg_locks); absent where no session locks rows. */
  readonly rowLocks?: RowLocks
}

function schemas(host: SystemViewHost): Record<'pg_catalog' | 'information_schema', Record<string, SystemView>> {
  return {
    pg_catalog: {
      ...PG_CATALOG_VIEWS,
      ...ROLE_CATALOG_VIEWS,
      ...CLUSTER_VIEWS,
      ...REPLICATION_VIEWS,
      pg_sequence: pgSequence,
      pg_sequences: pgSequences,
      pg_prepared_statements: pgPreparedStatements,
      pg_cursors: pgCursors,
      concord_conflicts: (ctx) => conflictsView(host.conflicts, (table) => mayRead(ctx.exec, table)),
      concord_failover_history: failoverHistoryView,
      concord_cluster_members: clusterMembersView,
      concord_browser_grants: browserGrantsView,
      concord_backups: backupsView(host.backups),
      pg_stat_progress_backup: backupProgressView(host.backups),
      concord_backup_schedule: backupScheduleView(host.backups),
      pg_locks: pgLocks(host.rowLocks),
      [RESULT_CACHE_VIEW]: queryResultCacheView,
    },
    information_schema: { ...INFORMATION_SCHEMA_VIEWS, ...PRIVILEGE_INFORMATION_SCHEMA_VIEWS, sequences: informationSchemaSequences },
  }
}

/** The system views of one database: resolves names, lists views, builds the catalog model. */
export class SystemCatalog {
  private readonly views: ReturnType<typeof schemas>
  private listed: SystemRelationInfo[] | null = null

  private readonly host: SystemViewHost

  constructor(host: SystemViewHost) {
    this.host = host
    this.views = schemas(host)
  }

  /** The view `name` (in `schema` when given), or null when there is none. */
  view(schema: string | null, name: string, exec: ExecCtx): Relation | null {
    const ctx: ViewCtx = { exec, replica: this.host.replica }
    const found = this.schemaOf(schema, name)
    return found === null ? null : this.views[found][name]!(ctx)
  }

  /** The schema the view `name` (in `schema` when given) is found in, as `view` resolves it; null when there is none. */
  schemaOf(schema: string | null, name: string): 'pg_catalog' | 'information_schema' | null {
    if (schema === 'pg_catalog' || schema === 'information_schema') return Object.hasOwn(this.views[schema], name) ? schema : null
    if (Object.hasOwn(this.views.pg_catalog, name)) return 'pg_catalog'
    return Object.hasOwn(this.views.information_schema, name) ? 'information_schema' : null
  }

  /** Every view with its columns, in registry order (pg_class, pg_attribute list them). Columns never change, so listed once. */
  relations(exec: ExecCtx): SystemRelationInfo[] {
    if (this.listed) return this.listed
    const ctx: ViewCtx = { exec, replica: this.host.replica }
    const out: SystemRelationInfo[] = []
    for (const namespace of ['pg_catalog', 'information_schema'] as const satisfies readonly Namespace[]) {
      for (const [name, v] of Object.entries(this.views[namespace])) {
        out.push({ namespace, name, columns: v(ctx).columns.map((c) => ({ name: c.name, type: c.type })) })
      }
    }
    this.listed = out
    return out
  }

  /** The catalog model `source` holds (a statement's transaction, or the replica). */
  model(source: CatalogSource, exec: ExecCtx): CatalogModel {
    return buildCatalogModel(source, this.relations(exec))
  }
}
