/**
 * Transaction characteristics (`BEGIN ISOLATION LEVEL .. READ ONLY`, `SET TRANSACTION`,
 * `SET SESSION CHARACTERISTICS AS TRANSACTION`). Concord runs every block READ COMMITTED
 * (see docs/compatibility.md); a stronger isolation level is refused rather than quietly
 * weakened. READ ONLY is enforced: a statement that would write fails with 25006.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { Statement } from '../parser/statement.js'
import { refuseStrongerIsolation } from '../settings/parameters.js'

export interface TransactionMode {
  readOnly: boolean
}

function constText(n: Node | undefined): string {
  if (n && 'A_Const' in n) return n.A_Const.sval?.sval ?? String(n.A_Const.ival?.ival ?? (n.A_Const.boolval?.boolval ? 1 : 0))
  return ''
}

/** Applies `options` (DefElems of BEGIN / SET TRANSACTION) to `mode`. */
export function applyTransactionOptions(mode: TransactionMode, options: Node[] | undefined): TransactionMode {
  const out = { ...mode }
  for (const o of options ?? []) {
    if (!('DefElem' in o)) continue
    const name = o.DefElem.defname ?? ''
    const value = constText(o.DefElem.arg).toLowerCase()
    if (name === 'transaction_isolation') refuseStrongerIsolation(value)
    else if (name === 'transaction_read_only') {
      out.readOnly = value === '1' || value === 'true' || value === 'on'
    } else if (name === 'transaction_deferrable') {
      // DEFERRABLE only matters to SERIALIZABLE READ ONLY transactions, refused above.
    }
  }
  return out
}

const WRITES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'])
/** What waits for a sliced commit beside writes: a SELECT that locks rows. */
const WRITES_OR_LOCKS = new Set([...WRITES, 'lockingClause'])
const READS = new Set(['SelectStmt', 'VariableShowStmt', 'VariableSetStmt', 'ExplainStmt', 'TransactionStmt', 'DiscardStmt', 'ConstraintsSetStmt'])

/** True when a node of the tree has one of `keys` (a data-modifying statement, say). */
function containsKey(node: unknown, keys: ReadonlySet<string>): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((n) => containsKey(n, keys))
  for (const [k, v] of Object.entries(node)) {
    if (keys.has(k) || containsKey(v, keys)) return true
  }
  return false
}

/**
 * True unless `stmt` only reads: what waits for a sliced commit applying
 * (docs/decisions/0038-sliced-commits.md). Transaction statements count (COMMIT applies a
 * block's writes), and so does a SELECT that locks rows.
 */
export function mayWrite(stmt: Statement): boolean {
  if (stmt.kind !== 'pg') return true
  const kind = Object.keys(stmt.node)[0]!
  if (kind === 'TransactionStmt') return true
  return !READS.has(kind) || containsKey(stmt.node, WRITES_OR_LOCKS)
}

/** Throws 25006 when `stmt` would write and the block is READ ONLY, as PostgreSQL does. */
export function assertWritable(mode: TransactionMode, stmt: Statement): void {
  if (!mode.readOnly) return
  const kind = stmt.kind === 'pg' ? Object.keys(stmt.node)[0]! : stmt.kind
  if (READS.has(kind) && !containsKey(stmt.kind === 'pg' ? stmt.node : null, WRITES)) return
  const verb = stmt.text.trim().split(/\s+/).slice(0, kind === 'CreateStmt' || kind === 'DropStmt' || kind === 'AlterTableStmt' ? 2 : 1).join(' ').toUpperCase()
  throw new SqlError(SqlState.readOnlySqlTransaction, `cannot execute ${verb} in a read-only transaction`)
}
