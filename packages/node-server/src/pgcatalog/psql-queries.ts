/**
 * Answers the catalog queries psql sends for `\dt`, `\d`, `\d table`, `\d+ table`, `\di`,
 * `\l` and `\dn` (captured from psql 15 with `psql -E`), from the relations of
 * relations.ts. The SQL layer has no pg_catalog tables, and these queries lean on
 * PostgreSQL internals (regclass casts, pg_get_expr, OPERATOR(pg_catalog.~)), so they
 * are recognized by their shape rather than executed.
 *
 * Recognition is by fragments, not by exact text, so neighbouring psql versions (which
 * add or reorder select-list items) still match; a query that matches nothing returns
 * null and goes to the SQL layer.
 */
import type { QueryField, QueryResult } from '../pgwire/sql-session.js'
import { OID } from '../pgwire/pg-types.js'
import { constraintDef, indexDef, tableRelations, type CatalogSource, type TableRelation } from './relations.js'

export interface CatalogContext {
  source: CatalogSource
  user: string
  database: string
}

type Cell = string | null
const T = 't'
const F = 'f'

function result(fields: Array<[string, number]>, rows: Cell[][]): QueryResult {
  const f: QueryField[] = fields.map(([name, oid]) => ({ name, type: oid, oid }))
  return { command: 'SELECT', rowCount: rows.length, fields: f, rows }
}

/** Reads a psql `OPERATOR(pg_catalog.~) '<regex>'` filter on `column`; undefined if absent. */
function regexFilter(q: string, column: string): RegExp | null | undefined {
  const re = new RegExp(`${column.replace('.', '\\.')} OPERATOR\\(pg_catalog\\.~\\) '((?:[^']|'')*)'`)
  const m = re.exec(q)
  if (!m) return undefined
  try {
    return new RegExp(m[1]!.replace(/''/g, "'"))
  } catch {
    return null // a pattern JS cannot read matches nothing rather than everything
  }
}

function firstOid(q: string): number | null {
  const m = /'(\d{1,10})'/.exec(q)
  return m ? Number(m[1]) : null
}

function relkinds(q: string): Set<string> {
  const m = /c\.relkind IN \(([^)]*)\)/.exec(q)
  if (!m) return new Set(['r', 'p'])
  return new Set([...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!).filter((x) => x !== ''))
}

function aliases(q: string): string[] {
  const select = q.slice(0, q.search(/ FROM pg_catalog\./))
  return [...select.matchAll(/ (?:as|AS) "([^"]+)"/g)].map((m) => m[1]!)
}

const bool = (b: boolean): string => (b ? T : F)

/** Text storage strategy psql shows in `\d+` (plain for fixed-size types). */
function storage(type: string): string {
  return /^(integer|bigint|smallint|boolean|real|double precision|date|timestamp|time|uuid|interval)/.test(type) && !type.endsWith('[]') ? 'p' : type.startsWith('numeric') ? 'm' : 'x'
}

export function answerCatalogQuery(sql: string, ctx: CatalogContext): QueryResult | null {
  if (!/pg_catalog\./.test(sql)) return null
  const q = sql.replace(/\s+/g, ' ').trim().replace(/;$/, '')
  const tables = (): TableRelation[] => tableRelations(ctx.source)
  const byOid = (oid: number | null): TableRelation | undefined => (oid === null ? undefined : tables().find((t) => t.oid === oid))

  // \dt, \d, \di, \dt+ ...: list of relations.
  if (/^SELECT n\.nspname as "Schema", c\.relname as "Name"/.test(q) && q.includes('FROM pg_catalog.pg_class c')) {
    const kinds = relkinds(q)
    const name = regexFilter(q, 'c.relname')
    const schema = regexFilter(q, 'n.nspname')
    if (name === null || schema === null || (schema && !schema.test('public'))) return result(aliases(q).map((a) => [a, OID.text]), [])
    const cols = aliases(q)
    const rows: Cell[][] = []
    for (const t of tables()) {
      const rel = [{ name: t.name, kind: t.kind as string, table: t.name }, ...t.indexes.map((ix) => ({ name: ix.name, kind: t.kind === 'p' ? 'I' : 'i', table: t.name }))]
      for (const r of rel) {
        if (!kinds.has(r.kind) || (name && !name.test(r.name))) continue
        const value: Record<string, Cell> = {
          Schema: 'public',
          Name: r.name,
          Type: { r: 'table', p: 'partitioned table', i: 'index', I: 'partitioned index' }[r.kind] ?? 'table',
          Owner: ctx.user,
          Table: r.table,
          Persistence: 'permanent',
          'Access method': r.kind === 'p' || r.kind === 'I' ? null : r.kind === 'i' ? 'btree' : 'heap',
          Size: null,
          Description: null,
        }
        rows.push(cols.map((c) => value[c] ?? null))
      }
    }
    rows.sort((a, b) => (String(a[1]) < String(b[1]) ? -1 : String(a[1]) > String(b[1]) ? 1 : 0))
    return result(cols.map((a) => [a, OID.text]), rows)
  }

  // \l: databases.
  if (q.includes('FROM pg_catalog.pg_database d')) {
    const cols = aliases(q)
    const value: Record<string, Cell> = { Name: ctx.database, Owner: ctx.user, Encoding: 'UTF8', Collate: 'C', Ctype: 'C', 'ICU Locale': null, 'Locale Provider': 'libc', 'Access privileges': null }
    return result(cols.map((a) => [a, OID.text]), [cols.map((c) => value[c] ?? null)])
  }

  // \dn: schemas.
  if (/^SELECT n\.nspname AS "Name", pg_catalog\.pg_get_userbyid\(n\.nspowner\) AS "Owner" FROM pg_catalog\.pg_namespace n/.test(q)) {
    return result([['Name', OID.name], ['Owner', OID.name]], [['public', ctx.user]])
  }

  // \d name: which relations match the pattern.
  if (/^SELECT c\.oid, n\.nspname, c\.relname FROM pg_catalog\.pg_class c/.test(q)) {
    const name = regexFilter(q, 'c.relname')
    const schema = regexFilter(q, 'n.nspname')
    const rows: Cell[][] = []
    if (name !== null && schema !== null && (!schema || schema.test('public'))) {
      for (const t of tables()) if (!name || name.test(t.name)) rows.push([String(t.oid), 'public', t.name])
    }
    return result([['oid', OID.oid], ['nspname', OID.name], ['relname', OID.name]], rows)
  }

  // \d name: the relation's flags.
  if (/^SELECT c\.relchecks, c\.relkind, c\.relhasindex/.test(q)) {
    const t = byOid(firstOid(q))
    const fields: Array<[string, number]> = [
      ['relchecks', OID.int2], ['relkind', OID.char], ['relhasindex', OID.bool], ['relhasrules', OID.bool], ['relhastriggers', OID.bool],
      ['relrowsecurity', OID.bool], ['relforcerowsecurity', OID.bool], ['relhasoids', OID.bool], ['relispartition', OID.bool],
      ['reloptions', OID.text], ['reltablespace', OID.oid], ['reloftype', OID.text], ['relpersistence', OID.char], ['relreplident', OID.char], ['amname', OID.name],
    ]
    const rows: Cell[][] = t
      ? [[String(t.checks.length), t.kind, bool(t.indexes.length > 0), F, F, F, F, F, bool(t.partitionOf !== null), t.regions ? `replication_regions=${t.regions.join(',')}` : '', '0', '', 'p', 'd', t.kind === 'p' ? null : 'heap']]
      : []
    return result(fields, rows)
  }

  // \d name: columns.
  const attrs = /FROM pg_catalog\.pg_attribute a WHERE a\.attrelid = '(\d+)' AND a\.attnum > 0/.exec(q)
  if (attrs && q.startsWith('SELECT a.attname')) {
    const t = byOid(Number(attrs[1]))
    const select = q.slice(0, attrs.index)
    const items: Array<{ at: number; field: [string, number]; cell: (a: TableRelation['attributes'][number]) => Cell }> = []
    const add = (fragment: string, field: [string, number], cell: (a: TableRelation['attributes'][number]) => Cell): void => {
      const at = select.indexOf(fragment)
      if (at >= 0) items.push({ at, field, cell })
    }
    add('a.attname', ['attname', OID.name], (a) => a.name)
    add('pg_catalog.format_type(a.atttypid, a.atttypmod)', ['format_type', OID.text], (a) => a.type)
    add('pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)', ['pg_get_expr', OID.text], (a) => a.default)
    add('a.attnotnull,', ['attnotnull', OID.bool], (a) => bool(a.notNull))
    add('c.collname FROM pg_catalog.pg_collation', ['attcollation', OID.name], () => null)
    add('a.attidentity', ['attidentity', OID.char], () => '')
    add('a.attgenerated', ['attgenerated', OID.char], (a) => (a.generated ? 's' : ''))
    add('a.attstorage', ['attstorage', OID.char], (a) => storage(a.type))
    add('a.attcompression', ['attcompression', OID.char], () => '')
    add('AS attstattarget', ['attstattarget', OID.int4], () => null)
    add('pg_catalog.col_description(a.attrelid, a.attnum)', ['col_description', OID.text], () => null)
    items.sort((x, y) => x.at - y.at)
    return result(items.map((i) => i.field), t ? t.attributes.map((a) => items.map((i) => i.cell(a))) : [])
  }

  const partkey = /^SELECT pg_catalog\.pg_get_partkeydef\('(\d+)'/.exec(q)
  if (partkey) return result([['pg_get_partkeydef', OID.text]], [[byOid(Number(partkey[1]))?.partitionKey ?? null]])

  // \d name: indexes.
  if (q.includes('FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i')) {
    const t = byOid(firstOid(q))
    const fields: Array<[string, number]> = [
      ['relname', OID.name], ['indisprimary', OID.bool], ['indisunique', OID.bool], ['indisclustered', OID.bool], ['indisvalid', OID.bool],
      ['pg_get_indexdef', OID.text], ['pg_get_constraintdef', OID.text], ['contype', OID.char], ['condeferrable', OID.bool], ['condeferred', OID.bool],
      ['indisreplident', OID.bool], ['reltablespace', OID.oid],
    ]
    const ixs = t ? [...t.indexes].sort((a, b) => Number(b.primary) - Number(a.primary) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : []
    return result(fields, ixs.map((ix) => [ix.name, bool(ix.primary), bool(ix.unique), F, T, indexDef(t!, ix), constraintDef(ix), ix.constraint, ix.constraint ? F : null, ix.constraint ? F : null, F, '0']))
  }

  // \d name: check constraints.
  if (/FROM pg_catalog\.pg_constraint r WHERE r\.conrelid = '\d+' AND r\.contype = 'c'/.test(q)) {
    const t = byOid(firstOid(q))
    return result([['conname', OID.name], ['pg_get_constraintdef', OID.text]], (t?.checks ?? []).map((c) => [c.name, c.def]))
  }

  // \d partitioned: its partitions.
  if (/FROM pg_catalog\.pg_class c, pg_catalog\.pg_inherits i WHERE c\.oid = i\.inhrelid AND i\.inhparent = '\d+'/.test(q)) {
    const parent = byOid(firstOid(q))
    const children = parent ? tables().filter((t) => t.partitionOf === parent.name) : []
    return result(
      [['oid', OID.text], ['relkind', OID.char], ['inhdetachpending', OID.bool], ['pg_get_expr', OID.text]],
      children.map((c) => [c.name, c.kind, F, c.partitionBound]),
    )
  }

  // \d partition: its parent and bound.
  if (/^SELECT inhparent::pg_catalog\.regclass, pg_catalog\.pg_get_expr\(c\.relpartbound, c\.oid\)/.test(q)) {
    const t = byOid(firstOid(q))
    const verbose = q.includes('pg_get_partition_constraintdef')
    const fields: Array<[string, number]> = [['inhparent', OID.text], ['pg_get_expr', OID.text], ['inhdetachpending', OID.bool]]
    if (verbose) fields.push(['pg_get_partition_constraintdef', OID.text])
    const row: Cell[] = t?.partitionOf ? [t.partitionOf, t.partitionBound, F] : []
    if (verbose && row.length) row.push(null)
    return result(fields, row.length ? [row] : [])
  }

  // Things Concord does not have: inheritance parents, foreign keys, row security policies,
  // extended statistics, publications by table. psql only loops over their rows.
  if (
    /FROM pg_catalog\.pg_class c, pg_catalog\.pg_inherits i WHERE c\.oid = i\.inhparent/.test(q) ||
    /contype = 'f'/.test(q) ||
    q.includes('FROM pg_catalog.pg_policy pol') ||
    q.includes('FROM pg_catalog.pg_statistic_ext') ||
    (q.includes('FROM pg_catalog.pg_publication p') && q.includes('pg_relation_is_publishable')) ||
    q.includes('FROM pg_catalog.pg_trigger t') ||
    q.includes('FROM pg_catalog.pg_rewrite r')
  ) {
    return result([], [])
  }
  return null
}
