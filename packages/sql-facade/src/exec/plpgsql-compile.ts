/**
 * PL/pgSQL's compile step: PostgreSQL's own PL/pgSQL parser (libpg-query) over a CREATE
 * FUNCTION / DO text, its datums read into `PlFunction`, and the refusal (0A000, naming
 * the construct) of statements the interpreter (plpgsql.ts) does not run. CREATE
 * FUNCTION calls `compilePlpgsql` so a body fails when it is created, as PostgreSQL's
 * check_function_bodies does.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parsePlpgsql } from '../parser/parse.js'
import { typeName } from '../types/sql-type.js'
import type { UserFunction } from '../runtime/context.js'

export type PlNode = any

export interface Datum {
  kind: 'var' | 'rec' | 'row' | 'recfield' | 'other'
  name: string
  typname?: string
  isconst?: boolean
  notnull?: boolean
  defaultExpr?: string
  fields?: Array<{ name: string; varno: number }>
}

export interface PlFunction {
  datums: Datum[]
  action: PlNode
  names: Map<string, number>
  /** Datums of the function's parameters (IN, INOUT, OUT), in declaration order. */
  params: number[]
  outParamVarno: number | null
}

const parsed = new Map<string, PlFunction>()

/** The unwrapped node of a one-key libpg-query JSON object ({ PLpgSQL_var: {..} } -> ['PLpgSQL_var', {..}]). */
export function unwrap(n: PlNode): [string, PlNode] {
  const k = Object.keys(n)[0]!
  return [k, n[k]]
}

export function exprText(e: PlNode): string {
  return e?.PLpgSQL_expr?.query ?? ''
}

/**
 * An assignment statement's text (`target [subscript] := expr`, as PL/pgSQL's parser keeps
 * it) split into its parts; null when it is not one. `target` keeps its quotes.
 */
export function assignmentParts(text: string): { target: string; subscript: string | undefined; expr: string } | null {
  const m = /^\s*((?:"[^"]*"|[^\s.:=[\]"]+)(?:\s*\.\s*(?:"[^"]*"|[^\s.:=[\]"]+))*)\s*(\[[\s\S]*?\])?\s*(?::=|=)\s*([\s\S]*)$/.exec(text)
  return m === null ? null : { target: m[1]!, subscript: m[2], expr: m[3]! }
}

/** Parses (and caches) a PL/pgSQL function from its CREATE FUNCTION or DO text. */
export function compilePlpgsql(source: string): PlFunction {
  const hit = parsed.get(source)
  if (hit) return hit
  const tree = parsePlpgsql(source) as { plpgsql_funcs?: PlNode[] }
  const fn = tree.plpgsql_funcs?.[0]?.PLpgSQL_function
  if (!fn) throw new SqlError(SqlState.syntaxError, 'PL/pgSQL function body could not be parsed')
  const datums: Datum[] = (fn.datums ?? []).map((d: PlNode): Datum => {
    const [k, v] = unwrap(d)
    const typname = v.datatype?.PLpgSQL_type?.typname as string | undefined
    if (k === 'PLpgSQL_var') {
      return { kind: 'var', name: v.refname, ...(typname !== undefined ? { typname } : {}), isconst: !!v.isconst, notnull: !!v.notnull, ...(v.default_val ? { defaultExpr: exprText(v.default_val) } : {}) }
    }
    if (k === 'PLpgSQL_rec') return { kind: 'rec', name: v.refname, ...(typname !== undefined ? { typname } : {}), ...(v.default_val ? { defaultExpr: exprText(v.default_val) } : {}) }
    if (k === 'PLpgSQL_row') return { kind: 'row', name: v.refname, fields: (v.fields ?? []).map((f: PlNode) => ({ name: f.name, varno: f.varno ?? 0 })) }
    if (k === 'PLpgSQL_recfield') return { kind: 'recfield', name: v.fieldname }
    return { kind: 'other', name: '' }
  })
  const names = new Map<string, number>()
  datums.forEach((d, i) => {
    if ((d.kind === 'var' || d.kind === 'rec' || (d.kind === 'row' && d.name !== '(unnamed row)')) && d.name) names.set(d.name, i)
  })
  const found = datums.findIndex((d) => d.name === 'found')
  const params: number[] = []
  for (let i = 0; i < (found < 0 ? 0 : found); i++) if (datums[i]!.kind === 'var' && !datums[i]!.name.startsWith('tg_') && datums[i]!.name !== 'new' && datums[i]!.name !== 'old') params.push(i)
  const out: PlFunction = { datums, action: fn.action, names, params, outParamVarno: typeof fn.out_param_varno === 'number' ? fn.out_param_varno : null }
  checkSupported(out.action)
  if (parsed.size > 500) parsed.clear()
  parsed.set(source, out)
  return out
}

const SUPPORTED = new Set([
  'PLpgSQL_stmt_block', 'PLpgSQL_stmt_assign', 'PLpgSQL_stmt_if', 'PLpgSQL_stmt_case', 'PLpgSQL_stmt_loop', 'PLpgSQL_stmt_while',
  'PLpgSQL_stmt_fori', 'PLpgSQL_stmt_fors', 'PLpgSQL_stmt_dynfors', 'PLpgSQL_stmt_exit', 'PLpgSQL_stmt_return', 'PLpgSQL_stmt_return_next',
  'PLpgSQL_stmt_return_query', 'PLpgSQL_stmt_raise', 'PLpgSQL_stmt_execsql', 'PLpgSQL_stmt_dynexecute', 'PLpgSQL_stmt_perform',
  'PLpgSQL_stmt_getdiag',
])

export const CONSTRUCT: Record<string, string> = {
  PLpgSQL_stmt_foreach_a: 'FOREACH', PLpgSQL_stmt_open: 'OPEN (cursors)', PLpgSQL_stmt_fetch: 'FETCH (cursors)', PLpgSQL_stmt_close: 'CLOSE (cursors)',
  PLpgSQL_stmt_forc: 'FOR over a cursor', PLpgSQL_stmt_assert: 'ASSERT', PLpgSQL_stmt_call: 'CALL', PLpgSQL_stmt_commit: 'COMMIT', PLpgSQL_stmt_rollback: 'ROLLBACK',
}

/** Refuses a body using a statement the interpreter does not run (0A000 naming it). */
function checkSupported(n: PlNode): void {
  if (Array.isArray(n)) return n.forEach(checkSupported)
  if (n === null || typeof n !== 'object') return
  for (const [k, v] of Object.entries(n)) {
    if (k.startsWith('PLpgSQL_stmt_') && !SUPPORTED.has(k)) {
      throw new SqlError(SqlState.featureNotSupported, `PL/pgSQL ${CONSTRUCT[k] ?? k.slice('PLpgSQL_stmt_'.length).toUpperCase()} is not supported`)
    }
    if (k === 'PLpgSQL_stmt_getdiag') {
      for (const item of (v as PlNode).diag_items ?? []) {
        const kind = item.PLpgSQL_diag_item?.kind
        if (kind !== 'ROW_COUNT') throw new SqlError(SqlState.featureNotSupported, `GET DIAGNOSTICS ${kind} is not supported`)
      }
      if ((v as PlNode).is_stacked) throw new SqlError(SqlState.featureNotSupported, 'GET STACKED DIAGNOSTICS is not supported')
    }
    checkSupported(v)
  }
}

/** The text PL/pgSQL's parser reads for a stored function: a CREATE FUNCTION statement. */
export function plpgsqlSource(def: UserFunction): string {
  if (def.source !== undefined) return def.source
  let tag = '$plpgsql$'
  for (let i = 0; def.body.includes(tag); i++) tag = `$plpgsql${i}$`
  const args = def.args.map((a) => `${a.name ? `"${a.name}" ` : ''}${typeName(a.type)}`).join(', ')
  return `CREATE FUNCTION "${def.name}"(${args}) RETURNS ${def.trigger ? 'trigger' : 'void'} LANGUAGE plpgsql AS ${tag}${def.body}${tag}`
}

