/**
 * concord_browser_token(tables text[], valid_seconds int [, read_only_tables text[] [,
 * regions text[] [, read_only_regions text[]]]]) returns text: a scoped token for a
 * browser replica (docs/security.md, "Scoped browser replicas"). The node server makes it
 * (MembershipHost.issueBrowserToken): a libp2p identity the browser connects with, the
 * tables it may read and write, the tables it may only read, the regions whose shards it
 * may read and write (core placement/region-scope.ts: a homed table's rows homed there,
 * tables placed only there), the regions whose shards it may only read, and an expiry;
 * the node serves that identity only those and applies its updates only to the writable
 * ones.
 *
 * Superusers only (42501): the token is a credential. Every table must exist (42P01), the
 * two table lists name at most 256 tables together and no table twice (22023); the two
 * region lists name at most 64 regions together, each a region of the cluster (pg_regions:
 * of a node or CREATE REGION; 22023 otherwise) and no region twice (22023); the token
 * names one table or region at least (22023); valid_seconds is 1 to 30 days (22023). NULL
 * for read_only_tables (or regions, before read_only_regions) means none.
 *
 * concord_revoke_browser_token(token_or_id text) returns boolean: revokes a token on every
 * node (the token itself, or its id: the browser identity's PeerId). True when a grant was
 * revoked, false when it was already revoked; 42704 when no node issued it. Superusers only.
 * Both write the cluster's catalog, so on a member without the admin right they are 42501.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { SqlArray } from '../types/array.js'
import { arrayOf, T } from '../types/sql-type.js'
import type { ScalarResolver } from './scalar-impl.js'

const MAX_VALID_SECONDS = 30 * 24 * 3600
const MAX_TABLES = 256
const MAX_REGIONS = 64

/** The table names of an array argument, without a `public.` prefix. */
function tableNames(arg: unknown): string[] {
  if (!(arg instanceof SqlArray)) return []
  return [...new Set(arg.items.map((t) => String(t).replace(/^public\./, '')))]
}

/** The regions the catalog names: of the nodes that registered, and those CREATE REGION made. */
function knownRegions(ctx: ExecCtx): Set<string> {
  const out = new Set(ctx.tx.listCatalog('region').map(([name]) => name))
  for (const [, v] of ctx.tx.listCatalog('node')) {
    const region = typeof v === 'object' && v !== null && !Array.isArray(v) ? v['region'] : undefined
    if (typeof region === 'string') out.add(region)
  }
  return out
}

/** The region names of an array argument (NULL elements left out). */
function regionNames(arg: unknown): string[] {
  return arg instanceof SqlArray ? [...new Set(arg.items.filter((r) => r !== null).map(String))] : []
}

function issue(tablesArg: unknown, secondsArg: unknown, readOnlyArg: unknown, regionsArg: unknown, readOnlyRegionsArg: unknown, ctx: ExecCtx): string {
  if (!ctx.role.superuser) throw new SqlError(SqlState.insufficientPrivilege, 'must be superuser to issue browser tokens')
  const host = ctx.membership
  if (host === undefined) throw new SqlError(SqlState.featureNotSupported, 'browser tokens are issued by a node that runs libp2p (a server node without --no-p2p)')
  const tables = tableNames(tablesArg)
  const readOnly = tableNames(readOnlyArg)
  const regions = regionNames(regionsArg)
  const readOnlyRegions = regionNames(readOnlyRegionsArg)
  const allRegions = [...regions, ...readOnlyRegions]
  if (tables.length + readOnly.length > MAX_TABLES) throw new SqlError(SqlState.invalidParameterValue, `a browser token names at most ${MAX_TABLES} tables`)
  if (allRegions.length > MAX_REGIONS) throw new SqlError(SqlState.invalidParameterValue, `a browser token names at most ${MAX_REGIONS} regions`)
  if (tables.length + readOnly.length + allRegions.length === 0) throw new SqlError(SqlState.invalidParameterValue, 'a browser token names one table or region at least')
  const known = allRegions.length > 0 ? knownRegions(ctx) : new Set<string>()
  const unknown = allRegions.find((r) => !known.has(r))
  if (unknown !== undefined) {
    throw new SqlError(SqlState.invalidParameterValue, `region "${unknown.slice(0, 256)}" is not a region of this cluster`, { hint: 'pg_regions lists them.' })
  }
  const bothRegions = regions.find((r) => readOnlyRegions.includes(r))
  if (bothRegions !== undefined) throw new SqlError(SqlState.invalidParameterValue, `region "${bothRegions.slice(0, 256)}" is named both read-write and read-only`)
  const both = tables.find((t) => readOnly.includes(t))
  if (both !== undefined) throw new SqlError(SqlState.invalidParameterValue, `table "${both}" is named both writable and read-only`)
  for (const name of [...tables, ...readOnly]) {
    if (ctx.tx.table(name) === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  }
  const seconds = Number(secondsArg)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_VALID_SECONDS) {
    throw new SqlError(SqlState.invalidParameterValue, `valid_seconds must be between 1 and ${MAX_VALID_SECONDS}`)
  }
  return host.issueBrowserToken(tables, seconds, readOnly, regions, readOnlyRegions)
}

function revoke(tokenOrId: unknown, ctx: ExecCtx): boolean {
  if (!ctx.role.superuser) throw new SqlError(SqlState.insufficientPrivilege, 'must be superuser to revoke browser tokens')
  const host = ctx.membership
  if (host === undefined) throw new SqlError(SqlState.featureNotSupported, 'browser tokens are revoked on a node that runs libp2p (a server node without --no-p2p)')
  return host.revokeBrowserToken(String(tokenOrId))
}

export const BROWSER_TOKEN_FUNCTIONS: Record<string, ScalarResolver> = {
  concord_browser_token: (ts) => (ts.length >= 2 && ts.length <= 5 ? {
    args: [arrayOf(T.text), T.int4, arrayOf(T.text), arrayOf(T.text), arrayOf(T.text)].slice(0, ts.length),
    result: T.text,
    volatile: true,
    nonStrict: true,
    // NULL tables, seconds or last list: NULL. A NULL list before the last is none, so later
    // lists can follow it (ARRAY['notes'], 600, NULL, ARRAY['eu']; ARRAY['notes'], 600, NULL, NULL, ARRAY['eu']).
    fn: (a, ctx) => (a[0] === null || a[1] === null || (ts.length >= 3 && a[ts.length - 1] === null) ? null : issue(a[0], a[1], a[2] ?? null, a[3] ?? null, a[4] ?? null, ctx)),
  } : null),
  concord_revoke_browser_token: (ts) => (ts.length === 1 ? {
    args: [T.text],
    result: T.bool,
    volatile: true,
    fn: (a, ctx) => (a[0] === null ? null : revoke(a[0], ctx)),
  } : null),
}
