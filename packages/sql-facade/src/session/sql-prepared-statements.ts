/**
 * SQL-level prepared statements of one session: PREPARE name [(types)] AS statement,
 * EXECUTE name [(args)], DEALLOCATE [PREPARE] {name | ALL}, and what
 * pg_prepared_statements lists. Only the statements PostgreSQL allows are prepared
 * (SELECT, VALUES, INSERT, UPDATE, DELETE, MERGE); the statement is kept parsed and
 * planned afresh at each EXECUTE, so it always sees the current catalog.
 *
 * EXECUTE's arguments are expressions, evaluated in the executing statement's
 * transaction: cast to the declared type when PREPARE gave one, else passed with the
 * type they have (a quoted literal stays unknown and takes its type from where `$n`
 * stands, as an unknown parameter does).
 */
import type { Node, PrepareStmt, TypeName } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { rootPlanCtx } from '../exec/plan-root.js'
import type { Statement } from '../parser/statement.js'
import { maxParam } from './prepared-statement.js'
import { planSelect } from '../plan/select.js'
import { typeFromTypeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

export interface SqlPrepared {
  name: string
  statement: Statement
  /** Declared parameter types (PREPARE name (types)); empty when none were given. */
  declared: TypeName[]
  /** The PREPARE statement's text, as pg_prepared_statements shows it. */
  text: string
  /** Epoch microseconds of the PREPARE. */
  preparedAt: number
}

const PREPARABLE = ['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']


export class SqlPreparedStatements {
  private readonly byName = new Map<string, SqlPrepared>()

  list(): SqlPrepared[] {
    return [...this.byName.values()]
  }

  prepare(stmt: PrepareStmt, text: string, nowMicros: number): void {
    const name = stmt.name ?? ''
    if (this.byName.has(name)) throw new SqlError(SqlState.duplicatePreparedStatement, `prepared statement "${name}" already exists`)
    const query = stmt.query
    const kind = query ? Object.keys(query)[0]! : ''
    if (!query || !PREPARABLE.includes(kind)) throw new SqlError(SqlState.syntaxError, `syntax error: ${kind} cannot be prepared`)
    const declared = (stmt.argtypes ?? []).map((t) => (t as { TypeName: TypeName }).TypeName)
    for (const t of declared) typeFromTypeName(t)
    this.byName.set(name, { name, statement: { kind: 'pg', node: query, text }, declared, text, preparedAt: nowMicros })
  }

  get(name: string): SqlPrepared {
    const p = this.byName.get(name)
    if (!p) throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${name}" does not exist`)
    return p
  }

  deallocate(name: string | null): void {
    if (name === null) {
      this.byName.clear()
      return
    }
    if (!this.byName.delete(name)) throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${name}" does not exist`)
  }

  /** The declared parameter types (none when PREPARE gave none). */
  static declaredTypes(p: SqlPrepared): SqlType[] {
    return p.declared.map((t) => typeFromTypeName(t))
  }

  /** EXECUTE's argument values and types, evaluated in `ctx`'s transaction. */
  static bindArguments(p: SqlPrepared, args: Node[], ctx: ExecCtx): { values: RtValue[]; types: SqlType[] } {
    const expected = Math.max(p.declared.length, p.statement.kind === 'pg' ? maxParam(p.statement.node) : 0)
    if (args.length !== expected) {
      throw new SqlError(SqlState.syntaxError, `wrong number of parameters for prepared statement "${p.name}"`, {
        detail: `Expected ${expected} parameters but got ${args.length}.`,
      })
    }
    if (args.length === 0) return { values: [], types: [] }
    const targetList = args.map((a, i) => {
      const t = p.declared[i]
      return { ResTarget: { val: t ? { TypeCast: { arg: a, typeName: t } } : a } }
    })
    const rel = planSelect({ targetList, limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } as never, rootPlanCtx(ctx), null)
    const row = rel.rows(null)[0]!
    return { values: row, types: rel.columns.map((c) => c.type) }
  }
}
