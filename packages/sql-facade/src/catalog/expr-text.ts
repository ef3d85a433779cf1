/**
 * SQL text of the expressions the SQL layer keeps as parse trees (DEFAULT, GENERATED,
 * CHECK; see sql-facade's catalog/table-meta.ts), for `pg_get_expr`-style output in
 * psql's `\d`. Covers the node types such expressions use; anything else prints as
 * `(expression)` rather than failing the catalog query.
 */

type Tree = unknown

function obj(v: Tree): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
}

function names(list: unknown): string[] {
  if (!Array.isArray(list)) return []
  return list.map((n) => {
    const o = obj(n)
    const s = obj(o?.['String'])
    if (s && typeof s['sval'] === 'string') return s['sval']
    if (o && 'A_Star' in o) return '*'
    return '?'
  })
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

function constText(c: Record<string, unknown>): string {
  if (c['isnull']) return 'NULL'
  const ival = obj(c['ival'])
  if (ival) return String(ival['ival'] ?? 0)
  const fval = obj(c['fval'])
  if (fval) return String(fval['fval'] ?? '0')
  const sval = obj(c['sval'])
  if (sval) return quoteLiteral(String(sval['sval'] ?? ''))
  const bval = obj(c['boolval'])
  if (bval) return bval['boolval'] ? 'true' : 'false'
  const bs = obj(c['bsval'])
  if (bs) return `B'${String(bs['bsval'] ?? '').replace(/^b/, '')}'`
  return 'NULL'
}

function typeNameText(t: unknown): string {
  const o = obj(t)
  if (!o) return '?'
  const n = names(o['names']).filter((x) => x !== 'pg_catalog')
  const mods = Array.isArray(o['typmods']) ? `(${o['typmods'].map((m) => exprText(m, 0)).join(',')})` : ''
  const arr = Array.isArray(o['arrayBounds']) ? '[]' : ''
  return `${n.join('.')}${mods}${arr}`
}

const SVF: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'CURRENT_DATE',
  SVFOP_CURRENT_TIME: 'CURRENT_TIME',
  SVFOP_CURRENT_TIME_N: 'CURRENT_TIME',
  SVFOP_CURRENT_TIMESTAMP: 'CURRENT_TIMESTAMP',
  SVFOP_CURRENT_TIMESTAMP_N: 'CURRENT_TIMESTAMP',
  SVFOP_LOCALTIME: 'LOCALTIME',
  SVFOP_LOCALTIME_N: 'LOCALTIME',
  SVFOP_LOCALTIMESTAMP: 'LOCALTIMESTAMP',
  SVFOP_LOCALTIMESTAMP_N: 'LOCALTIMESTAMP',
  SVFOP_CURRENT_ROLE: 'CURRENT_ROLE',
  SVFOP_CURRENT_USER: 'CURRENT_USER',
  SVFOP_USER: 'USER',
  SVFOP_SESSION_USER: 'SESSION_USER',
  SVFOP_CURRENT_CATALOG: 'CURRENT_CATALOG',
  SVFOP_CURRENT_SCHEMA: 'CURRENT_SCHEMA',
}

/** Text of one expression; `depth` > 0 parenthesizes operator expressions, as PostgreSQL does. */
export function exprText(tree: Tree, depth = 0): string {
  const o = obj(tree)
  if (!o) return '(expression)'
  const [kind] = Object.keys(o)
  const n = obj(o[kind!])
  if (!kind || !n) return '(expression)'
  const wrap = (s: string): string => (depth > 0 ? `(${s})` : s)
  switch (kind) {
    case 'A_Const':
      return constText(n)
    case 'ColumnRef':
      return names(n['fields']).join('.')
    case 'ParamRef':
      return `$${String(n['number'] ?? '?')}`
    case 'TypeCast':
      return `${exprText(n['arg'], 1)}::${typeNameText(n['typeName'])}`
    case 'FuncCall': {
      const fname = names(n['funcname']).filter((x) => x !== 'pg_catalog').join('.')
      const args = n['agg_star'] ? '*' : Array.isArray(n['args']) ? n['args'].map((a) => exprText(a, 0)).join(', ') : ''
      return `${fname}(${args})`
    }
    case 'SQLValueFunction':
      return SVF[String(n['op'])] ?? 'CURRENT_TIMESTAMP'
    case 'BoolExpr': {
      const args = Array.isArray(n['args']) ? n['args'].map((a) => exprText(a, 1)) : []
      if (n['boolop'] === 'NOT_EXPR') return `NOT ${args[0] ?? ''}`
      return wrap(args.join(n['boolop'] === 'OR_EXPR' ? ' OR ' : ' AND '))
    }
    case 'NullTest':
      return wrap(`${exprText(n['arg'], 1)} IS ${n['nulltesttype'] === 'IS_NOT_NULL' ? 'NOT ' : ''}NULL`)
    case 'A_Expr': {
      const op = names(n['name']).join('.')
      const l = n['lexpr'] === undefined ? '' : exprText(n['lexpr'], 1)
      const r = n['rexpr']
      switch (n['kind']) {
        case 'AEXPR_IN':
          return wrap(`${l} ${op === '<>' ? 'NOT IN' : 'IN'} (${Array.isArray(r) ? r.map((x) => exprText(x, 0)).join(', ') : exprText(r, 0)})`)
        case 'AEXPR_LIKE':
          return wrap(`${l} ${op === '!~~' ? 'NOT LIKE' : 'LIKE'} ${exprText(r, 1)}`)
        case 'AEXPR_ILIKE':
          return wrap(`${l} ${op === '!~~*' ? 'NOT ILIKE' : 'ILIKE'} ${exprText(r, 1)}`)
        case 'AEXPR_BETWEEN':
        case 'AEXPR_NOT_BETWEEN': {
          const [lo, hi] = Array.isArray(r) ? r : []
          return wrap(`${l} ${n['kind'] === 'AEXPR_NOT_BETWEEN' ? 'NOT BETWEEN' : 'BETWEEN'} ${exprText(lo, 1)} AND ${exprText(hi, 1)}`)
        }
        default:
          return wrap(l === '' ? `${op} ${exprText(r, 1)}` : `${l} ${op} ${exprText(r, 1)}`)
      }
    }
    case 'CaseExpr': {
      const whens = Array.isArray(n['args'])
        ? n['args'].map((w) => {
            const c = obj(obj(w)?.['CaseWhen'])
            return `WHEN ${exprText(c?.['expr'], 0)} THEN ${exprText(c?.['result'], 0)}`
          })
        : []
      const arg = n['arg'] === undefined ? '' : ` ${exprText(n['arg'], 1)}`
      const def = n['defresult'] === undefined ? '' : ` ELSE ${exprText(n['defresult'], 0)}`
      return `CASE${arg} ${whens.join(' ')}${def} END`
    }
    case 'CoalesceExpr':
      return `COALESCE(${Array.isArray(n['args']) ? n['args'].map((a) => exprText(a, 0)).join(', ') : ''})`
    case 'A_ArrayExpr':
      return `ARRAY[${Array.isArray(n['elements']) ? n['elements'].map((a) => exprText(a, 0)).join(', ') : ''}]`
    default:
      return '(expression)'
  }
}

/** The text pg_get_indexdef prints for an index's expression key: a function call as is, anything else parenthesized. */
export function indexKeyText(expr: Tree): string {
  const o = obj(expr)
  return o !== null && 'FuncCall' in o ? exprText(expr, 0) : `(${exprText(expr, 1)})`
}
