/**
 * A statement prepared by the extended query protocol's Parse: parsed once, its
 * parameters counted from the parse tree (the highest `$n`), at most one statement.
 * `describeShape` tells how Describe learns the rows it returns without running it.
 *
 * Invariants: a prepared statement holds zero statements (an empty query string) or
 * one; `paramTypes` has one OID per parameter, the client's where it declared one, else
 * the type its context gives it (param-types.ts), else text; execution binds every
 * parameter as text of unknown type whatever is reported.
 */
import type { TableInfo } from '@concord/core'
import type { Node, SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseScript } from '../parser/parse.js'
import { sharedNode } from '../parser/literal-template.js'
import type { Statement } from '../parser/statement.js'
import { OIDS } from '../types/sql-type.js'
import { inferParamTypes } from './param-types.js'

/** PostgreSQL's limit on parameters of one statement. */
const MAX_PARAMS = 65535

export interface PreparedStatement {
  readonly sql: string
  /** Null for an empty query string. */
  readonly statement: Statement | null
  /** One type OID per parameter. */
  readonly paramTypes: number[]
}

/** `maxParam` of trees by their template's (literal-template.ts `sharedNode`): literals are never parameters. */
const maxParams = new WeakMap<object, number>()

/** The highest parameter number `$n` of a statement's tree, memoized per shared tree (a bulk INSERT's is walked once per shape). */
function statementMaxParam(tree: object): number {
  const key = sharedNode(tree)
  let n = maxParams.get(key)
  if (n === undefined) maxParams.set(key, (n = maxParam(tree)))
  return n
}

/** The highest parameter number `$n` in a parse tree. */
export function maxParam(node: unknown): number {
  if (!node || typeof node !== 'object') return 0
  if (Array.isArray(node)) return node.reduce((m: number, x) => Math.max(m, maxParam(x)), 0)
  const o = node as Record<string, unknown>
  const ref = o['ParamRef'] as { number?: number } | undefined
  let max = ref ? ref.number ?? 0 : 0
  for (const v of Object.values(o)) max = Math.max(max, maxParam(v))
  return max
}

type TableLookup = (name: string) => TableInfo | undefined

/** Parameter types inferred for a shared tree: valid while the client declares the same and each table looked up is the same object. */
interface Inferred {
  declared: string
  /** Each name inference looked up, and what it found (catalog TableInfos are replaced on change, never edited). */
  lookups: Array<[string, TableInfo | undefined]>
  types: readonly number[]
}

/**
 * Inferred parameter types by shared tree (literal-template.ts `sharedNode`): a client
 * that sends the same Parse before every execution (node-postgres for each query with
 * parameters) walks the tree and builds column maps once, not per query.
 */
const inferred = new WeakMap<object, Inferred>()

/** `table` looks tables up to infer the types of parameters the client left unspecified (param-types.ts). */
export function prepareStatement(sql: string, declared: number[] = [], table?: TableLookup): PreparedStatement {
  const stmts = parseScript(sql)
  if (stmts.length > 1) throw new SqlError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement')
  const statement = stmts[0] ?? null
  const count = Math.min(MAX_PARAMS, Math.max(declared.length, statement?.kind === 'pg' ? statementMaxParam(statement.node) : 0))
  return { sql, statement, paramTypes: paramTypesOf(statement, declared, count, table) }
}

/** One OID per parameter: the declared one, else the inferred one (param-types.ts), else text. */
function paramTypesOf(statement: Statement | null, declared: number[], count: number, table: TableLookup | undefined): number[] {
  const key = table !== undefined && count > 0 && statement?.kind === 'pg' ? sharedNode(statement.node) : null
  // With the tree the same, the declared types decide the count too.
  const declaredKey = key !== null ? declared.join(',') : ''
  if (key !== null) {
    const hit = inferred.get(key)
    if (hit !== undefined && hit.declared === declaredKey && hit.lookups.every(([name, t]) => table!(name) === t)) return hit.types.slice()
  }
  const paramTypes = Array.from({ length: count }, (_, i) => declared[i] ?? 0)
  const lookups: Array<[string, TableInfo | undefined]> = []
  if (table) {
    inferParamTypes(statement, paramTypes, (name) => {
      const t = table(name)
      lookups.push([name, t])
      return t
    })
  }
  for (let i = 0; i < count; i++) paramTypes[i] ||= OIDS.text
  if (key !== null) inferred.set(key, { declared: declaredKey, lookups, types: paramTypes.slice() })
  return paramTypes
}

/**
 * How Describe learns a statement's row shape: a query is planned and its columns read;
 * SHOW builds its relation; null means no rows are described (NoData), either because
 * the statement returns none or because learning its shape would run it (a
 * data-modifying CTE runs while the statement is planned).
 */
export type DescribeShape = { kind: 'plan'; node: Node; select: SelectStmt } | { kind: 'show'; name: string } | null

export function describeShape(statement: Statement | null): DescribeShape {
  if (statement?.kind !== 'pg') return null
  const node = statement.node
  if ('VariableShowStmt' in node) return { kind: 'show', name: node.VariableShowStmt.name ?? '' }
  if ('InsertStmt' in node || 'UpdateStmt' in node || 'DeleteStmt' in node) return returningShape(node)
  if (!('SelectStmt' in node)) return null
  if (node.SelectStmt.intoClause || modifies(node.SelectStmt.withClause)) return null
  return { kind: 'plan', node, select: node.SelectStmt }
}

/**
 * INSERT / UPDATE / DELETE .. RETURNING: its rows have the shape of a SELECT of the
 * returning list from the target table (and UPDATE's FROM, DELETE's USING), which is
 * planned without running the write.
 */
function returningShape(node: Node): DescribeShape {
  const stmt = 'InsertStmt' in node ? node.InsertStmt : 'UpdateStmt' in node ? node.UpdateStmt : 'DeleteStmt' in node ? node.DeleteStmt : null
  const list = returningList(stmt)
  if (!stmt?.relation || list.length === 0 || modifies(stmt.withClause)) return null
  const more = 'UpdateStmt' in node ? node.UpdateStmt.fromClause ?? [] : 'DeleteStmt' in node ? node.DeleteStmt.usingClause ?? [] : []
  const select: SelectStmt = {
    targetList: list,
    fromClause: [{ RangeVar: stmt.relation }, ...more],
    ...(stmt.withClause ? { withClause: stmt.withClause } : {}),
    limitOption: 'LIMIT_OPTION_DEFAULT',
    op: 'SETOP_NONE',
  }
  return { kind: 'plan', node: { SelectStmt: select }, select }
}

/** The RETURNING expressions, under either name the parser's versions give them. */
function returningList(stmt: { returningClause?: { exprs?: Node[] }; returningList?: Node[] } | null): Node[] {
  return stmt?.returningClause?.exprs ?? stmt?.returningList ?? []
}

function modifies(w: { ctes?: Node[] } | undefined): boolean {
  return (w?.ctes ?? []).some((c) => {
    const q = 'CommonTableExpr' in c ? c.CommonTableExpr.ctequery : undefined
    return !!q && ('InsertStmt' in q || 'UpdateStmt' in q || 'DeleteStmt' in q)
  })
}
