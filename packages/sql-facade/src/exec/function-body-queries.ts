/**
 * The queries a user function's body runs, as parse trees, for the checks made before a
 * statement calling it runs: the privileges its reads need (auth/access-check.ts) and
 * whether the statement may move off the main thread (session/offload-eligibility.ts
 * walks them as it walks the statement).
 *
 * LANGUAGE sql: the body's statements (a SQL-standard body's SELECT); it only reads when
 * every one is a SELECT. LANGUAGE plpgsql: the body as PL/pgSQL's own parser reads it
 * (plpgsql-compile.ts): its SQL statements, and its expressions (variable defaults
 * included) each as the `SELECT <expr>` the interpreter evaluates. It only reads when its
 * statements are the control statements and the SQL statements that read (assignment,
 * IF, CASE, the loops, FOR over a query, EXIT / CONTINUE, RETURN [NEXT | QUERY], PERFORM,
 * SELECT .. INTO, GET DIAGNOSTICS, RAISE EXCEPTION), with no dynamic SQL (EXECUTE, FOR ..
 * IN EXECUTE, RETURN QUERY EXECUTE: its text is known only when it runs) and no RAISE
 * below EXCEPTION (a notice is sent to the client as the statement runs).
 *
 * Invariants: a body is parsed here exactly as the interpreter parses it (the same parser,
 * `SELECT <expr>` for an expression, the same split of an assignment), so a function or a
 * relation the body names is in a tree this returns, unless the text is dynamic (then
 * `readOnly` is false) or does not parse (the interpreter fails on it too); a failure to
 * parse is never an error here. Decision: docs/decisions/0031-statement-offload.md.
 */
import type { Node } from 'libpg-query'
import type { UserFunction } from '../catalog/function-def.js'
import { parseScript } from '../parser/parse.js'
import { assignmentParts, compilePlpgsql, plpgsqlSource, type PlNode } from './plpgsql-compile.js'

export interface BodyQueries {
  /** The SQL statements the body runs as statements (all of a SQL body's), each `{ SelectStmt: .. }`, `{ InsertStmt: .. }` ... */
  statements: Node[]
  /** PL/pgSQL's expressions, each a `{ SelectStmt: .. }` the interpreter plans and runs without running it as a statement. */
  expressions: Node[]
  /** The body only reads (see the header). */
  readOnly: boolean
}

/** PL/pgSQL statements that only compute, branch, loop, read or fail. */
const READING_STATEMENTS = new Set([
  'PLpgSQL_stmt_block', 'PLpgSQL_stmt_assign', 'PLpgSQL_stmt_if', 'PLpgSQL_stmt_case', 'PLpgSQL_stmt_loop', 'PLpgSQL_stmt_while',
  'PLpgSQL_stmt_fori', 'PLpgSQL_stmt_fors', 'PLpgSQL_stmt_exit', 'PLpgSQL_stmt_return', 'PLpgSQL_stmt_return_next',
  'PLpgSQL_stmt_return_query', 'PLpgSQL_stmt_raise', 'PLpgSQL_stmt_execsql', 'PLpgSQL_stmt_perform', 'PLpgSQL_stmt_getdiag',
])

/** PostgreSQL's elog level of RAISE EXCEPTION (ERROR); lower ones send a notice and go on. */
const RAISE_EXCEPTION_LEVEL = 21

/** How PL/pgSQL's parser tagged an expression's text (PostgreSQL's RawParseMode). */
const PARSE_STATEMENT = 0
const PARSE_EXPRESSION = 2
const PARSE_ASSIGNMENTS = new Set([3, 4, 5])

/** A function's body's queries; null when the body cannot be read (not SQL or PL/pgSQL, or it does not parse). */
export function bodyQueries(def: UserFunction): BodyQueries | null {
  try {
    if (def.language === 'sql') return sqlBody(def)
    if (def.language === 'plpgsql') return plpgsqlBody(def)
    return null
  } catch {
    return null
  }
}

/** Every query of a body that only reads, statements and expressions; null otherwise, and for trigger functions. */
export function readOnlyBodyQueries(def: UserFunction): Node[] | null {
  if (def.trigger === true) return null
  const body = bodyQueries(def)
  return body === null || !body.readOnly ? null : [...body.statements, ...body.expressions]
}

/**
 * The queries of a body checked for the calling role's privileges before the statement
 * calling it runs (auth/access-check.ts): a SQL body's statements (a SQL-standard body's
 * query included); a PL/pgSQL body's expressions, which the interpreter plans and runs
 * without running them as statements (its SQL statements are checked as each runs, as a
 * DO block's are). A body that does not parse is left to fail when it is called.
 */
export function privilegeCheckedQueries(def: UserFunction): Node[] {
  const body = bodyQueries(def)
  if (body === null) return []
  return def.language === 'plpgsql' ? body.expressions : body.statements
}

function sqlBody(def: UserFunction): BodyQueries {
  if (def.bodyTree !== undefined) return { statements: [{ SelectStmt: def.bodyTree } as unknown as Node], expressions: [], readOnly: true }
  const statements: Node[] = []
  let readOnly = true
  for (const st of parseScript(def.body)) {
    if (st.kind !== 'pg') {
      readOnly = false
      continue
    }
    if (!('SelectStmt' in st.node)) readOnly = false
    statements.push(st.node)
  }
  return { statements, expressions: [], readOnly: readOnly && statements.length > 0 }
}

function plpgsqlBody(def: UserFunction): BodyQueries {
  const fn = compilePlpgsql(plpgsqlSource(def))
  const out: BodyQueries = { statements: [], expressions: [], readOnly: true }
  const visit = (n: PlNode): void => {
    if (n === null || typeof n !== 'object') return
    if (Array.isArray(n)) {
      for (const v of n) visit(v)
      return
    }
    for (const [key, child] of Object.entries(n as Record<string, PlNode>)) {
      if (key.startsWith('PLpgSQL_stmt_') && !READING_STATEMENTS.has(key)) out.readOnly = false
      if (key === 'PLpgSQL_stmt_raise' && (child.elog_level ?? RAISE_EXCEPTION_LEVEL) < RAISE_EXCEPTION_LEVEL) out.readOnly = false
      if (key === 'PLpgSQL_stmt_return_query' && child.dynquery !== undefined) out.readOnly = false
      if (key === 'PLpgSQL_expr') add(out, child.query, child.parseMode)
      else visit(child)
    }
  }
  visit(fn.datums.map((d) => (d.defaultExpr === undefined ? null : { PLpgSQL_expr: { query: d.defaultExpr, parseMode: PARSE_EXPRESSION } })))
  visit(fn.action)
  return out
}

/** Adds one PL/pgSQL expression or statement, parsed as the interpreter parses it. */
function add(out: BodyQueries, query: unknown, mode: unknown): void {
  const statement = mode === PARSE_STATEMENT || mode === undefined
  let text: string | null = null
  if (typeof query !== 'string') text = null
  else if (statement) text = query
  else if (mode === PARSE_EXPRESSION) text = `SELECT ${query}`
  else if (PARSE_ASSIGNMENTS.has(mode as number)) {
    const parts = assignmentParts(query)
    text = parts === null || parts.subscript !== undefined ? null : `SELECT ${parts.expr}`
  }
  let stmts: ReturnType<typeof parseScript> = []
  try {
    stmts = text === null ? [] : parseScript(text)
  } catch {
    // The interpreter fails on it too, when it gets there.
  }
  const st = stmts.length === 1 ? stmts[0]! : undefined
  if (st === undefined || st.kind !== 'pg') {
    out.readOnly = false
    return
  }
  if (!('SelectStmt' in st.node)) out.readOnly = false
  ;(statement ? out.statements : out.expressions).push(st.node)
}
