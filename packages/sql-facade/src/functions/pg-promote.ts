/**
 * pg_promote(): a standby records itself as the primary with the next epoch, in the
 * statement's own transaction (so the term replicates like any catalog write). The old
 * primary demotes itself when the new term reaches it (cluster/node-role.ts). Where PostgreSQL
 * would answer "recovery is not in progress" (the node is already a primary, or no node
 * is a standby: multi_master mode) this fails the same way, 55000.
 */
import type { ExecCtx } from '../runtime/context.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { haMode, mayBePrimary } from '../cluster/node-role.js'
import { nextTermWrites, PRIMARY_TERM_KIND } from '../cluster/primary-term.js'

export function promoteStandby(ctx: ExecCtx): boolean {
  if (haMode(ctx.settings.show('high_availability_mode')) !== 'active_passive') {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, 'recovery is not in progress', {
      hint: "high_availability_mode is multi_master: every node accepts writes. SET high_availability_mode = 'active_passive' to have one primary.",
    })
  }
  if (ctx.replication().role === 'primary') {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, 'recovery is not in progress', { hint: `${ctx.nodeId} is already the primary.` })
  }
  if (!mayBePrimary(ctx.tx.getCatalog('region', ctx.region))) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, `node ${ctx.nodeId} cannot be promoted: region "${ctx.region}" has no PRIMARY role`)
  }
  const { writes } = nextTermWrites(ctx.tx.listCatalog(PRIMARY_TERM_KIND), ctx.nodeId, 'promote', Math.floor(ctx.clockMicros() / 1000))
  for (const w of writes) ctx.tx.setCatalog(w.kind, w.name, w.value)
  return true
}
