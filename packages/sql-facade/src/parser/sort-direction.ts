/**
 * The direction of an ORDER BY item: DESC, or `USING >` (PostgreSQL sorts by the btree
 * ordering the operator belongs to: `<` ascending, `>` descending). Another operator is
 * refused with PostgreSQL's 42809.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from './name-list.js'

export function sortDescending(sb: { sortby_dir?: string; useOp?: Node[] }): boolean {
  if (sb.sortby_dir === 'SORTBY_DESC') return true
  if (sb.sortby_dir !== 'SORTBY_USING') return false
  const op = nameList(sb.useOp).pop() ?? ''
  if (op === '<' || op === '<=' || op === '~<~') return false
  if (op === '>' || op === '>=' || op === '~>~') return true
  throw new SqlError(SqlState.wrongObjectType, `operator ${op} is not a valid ordering operator`, { hint: 'Ordering operators must be "<" or ">" members of btree operator families.' })
}

/** Whether NULLs come first: as written, else PostgreSQL's default (first when descending). */
export function sortNullsFirst(sb: { sortby_nulls?: string }, desc: boolean): boolean {
  return sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc
}
