/**
 * Table and view owners, kept beside the tables (catalog kind table_owner): the role
 * that creates a relation owns that incarnation of it; DROP forgets its owner and its
 * grants, so a relation created again with the name starts with no grants, as in
 * PostgreSQL. Relations the bootstrap superuser creates record nothing: it owns every
 * relation without an owner entry (tables created before roles existed included).
 */
import type { Node } from 'libpg-query'
import type { Statement } from '../parser/statement.js'
import type { CatalogTransaction } from '../runtime/context.js'
import { grantTarget } from '../catalog/grant-target.js'
import { RoleDirectory, type GrantTarget } from '../catalog/role-directory.js'
import { BOOTSTRAP_OID, TABLE_GRANT_KIND, TABLE_OWNER_KIND } from '../catalog/role-record.js'

/** Makes `owner` the owner of this incarnation of the relation. */
export function recordOwner(tx: CatalogTransaction, target: GrantTarget, owner: number): void {
  tx.setCatalog(TABLE_OWNER_KIND, target.name, { owner, incarnation: target.incarnation })
}

/** Forgets the owner and grants of a relation that no longer exists. */
export function forgetRelation(tx: CatalogTransaction, name: string): void {
  const dir = new RoleDirectory(tx)
  for (const g of dir.grantsNamed(name)) tx.setCatalog(TABLE_GRANT_KIND, g.key, null)
  if (tx.getCatalog(TABLE_OWNER_KIND, name) !== undefined) tx.setCatalog(TABLE_OWNER_KIND, name, null)
}

/** The relation a CREATE statement makes, if it is one. */
function createdRelation(node: Node): string | undefined {
  if ('CreateStmt' in node) return node.CreateStmt.relation?.relname
  if ('ViewStmt' in node) return node.ViewStmt.view?.relname
  if ('CreateTableAsStmt' in node) return node.CreateTableAsStmt.into?.rel?.relname
  if ('SelectStmt' in node) return node.SelectStmt.intoClause?.rel?.relname
  if ('CreateSeqStmt' in node) return node.CreateSeqStmt.sequence?.relname
  return undefined
}

/** After a statement ran in `tx`: records the owner of what it created, forgets what it dropped. */
export function trackOwnership(stmt: Statement, tx: CatalogTransaction, owner: number): void {
  if (stmt.kind !== 'pg') return
  const node = stmt.node
  const created = createdRelation(node)
  if (created !== undefined) {
    const t = grantTarget(tx, created)
    if (t && owner !== BOOTSTRAP_OID) recordOwner(tx, t, owner)
    return
  }
  if ('DropStmt' in node && (node.DropStmt.removeType === 'OBJECT_TABLE' || node.DropStmt.removeType === 'OBJECT_VIEW' || node.DropStmt.removeType === 'OBJECT_SEQUENCE')) {
    for (const o of node.DropStmt.objects ?? []) {
      const names = 'List' in o ? (o.List.items ?? []).map((i) => ('String' in i ? i.String.sval ?? '' : '')) : []
      const name = names[names.length - 1]
      if (name !== undefined && grantTarget(tx, name) === undefined) forgetRelation(tx, name)
    }
  }
}
