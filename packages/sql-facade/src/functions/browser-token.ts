/**
 * concord_browser_token(tables text[], valid_seconds int [, read_only_tables text[]])
 * returns text: a scoped token for a browser replica (docs/security.md, "Scoped browser
 * replicas"). The node server makes it (MembershipHost.issueBrowserToken): a libp2p
 * identity the browser connects with, the tables it may read and write, the tables it may
 * only read, and an expiry; the node serves that identity only those tables and applies
 * its updates only to the first ones.
 *
 * Superusers only (42501): the token is a credential. Every table must exist (42P01), the
 * two lists name 1 to 256 tables together and no table twice (22023); valid_seconds is 1
 * to 30 days (22023). `tables` may be empty when read_only_tables is not.
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

/** The table names of an array argument, without a `public.` prefix. */
function tableNames(arg: unknown): string[] {
  if (!(arg instanceof SqlArray)) return []
  return [...new Set(arg.items.map((t) => String(t).replace(/^public\./, '')))]
}

function issue(tablesArg: unknown, secondsArg: unknown, readOnlyArg: unknown, ctx: ExecCtx): string {
  if (!ctx.role.superuser) throw new SqlError(SqlState.insufficientPrivilege, 'must be superuser to issue browser tokens')
  const host = ctx.membership
  if (host === undefined) throw new SqlError(SqlState.featureNotSupported, 'browser tokens are issued by a node that runs libp2p (a server node without --no-p2p)')
  const tables = tableNames(tablesArg)
  const readOnly = tableNames(readOnlyArg)
  if (tables.length + readOnly.length === 0 || tables.length + readOnly.length > MAX_TABLES) {
    throw new SqlError(SqlState.invalidParameterValue, `a browser token names 1 to ${MAX_TABLES} tables`)
  }
  const both = tables.find((t) => readOnly.includes(t))
  if (both !== undefined) throw new SqlError(SqlState.invalidParameterValue, `table "${both}" is named both writable and read-only`)
  for (const name of [...tables, ...readOnly]) {
    if (ctx.tx.table(name) === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  }
  const seconds = Number(secondsArg)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_VALID_SECONDS) {
    throw new SqlError(SqlState.invalidParameterValue, `valid_seconds must be between 1 and ${MAX_VALID_SECONDS}`)
  }
  return host.issueBrowserToken(tables, seconds, readOnly)
}

function revoke(tokenOrId: unknown, ctx: ExecCtx): boolean {
  if (!ctx.role.superuser) throw new SqlError(SqlState.insufficientPrivilege, 'must be superuser to revoke browser tokens')
  const host = ctx.membership
  if (host === undefined) throw new SqlError(SqlState.featureNotSupported, 'browser tokens are revoked on a node that runs libp2p (a server node without --no-p2p)')
  return host.revokeBrowserToken(String(tokenOrId))
}

export const BROWSER_TOKEN_FUNCTIONS: Record<string, ScalarResolver> = {
  concord_browser_token: (ts) => (ts.length === 2 || ts.length === 3 ? {
    args: ts.length === 2 ? [arrayOf(T.text), T.int4] : [arrayOf(T.text), T.int4, arrayOf(T.text)],
    result: T.text,
    volatile: true,
    fn: (a, ctx) => (a[0] === null || a[1] === null || a[2] === null ? null : issue(a[0], a[1], a[2], ctx)),
  } : null),
  concord_revoke_browser_token: (ts) => (ts.length === 1 ? {
    args: [T.text],
    result: T.bool,
    volatile: true,
    fn: (a, ctx) => (a[0] === null ? null : revoke(a[0], ctx)),
  } : null),
}
