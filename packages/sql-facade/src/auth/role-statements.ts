/**
 * CREATE ROLE / USER, ALTER ROLE, ALTER ROLE .. RENAME TO, DROP ROLE, GRANT / REVOKE of
 * table privileges and of role membership, ALTER TABLE .. OWNER TO: each checks who may
 * run it as PostgreSQL does, then writes the catalog objects catalog/role-record.ts describes in
 * the statement's transaction, so they replicate with the rest of the catalog. A role's
 * password verifier goes to the secrets shard instead (catalog/role-secret.ts).
 *
 * GRANT / REVOKE CREATE ON SCHEMA public lets a role create tables, views, sequences and
 * functions (which it then owns). WITH GRANT OPTION lets a grantee grant the privilege
 * on (recorded with itself as grantor); REVOKE [GRANT OPTION FOR] .. CASCADE takes back
 * what was granted from it, RESTRICT refuses while such grants exist (2BP01). Column
 * privileges (`GRANT SELECT (a) ON t`, on tables and views, also WITH GRANT OPTION) follow
 * the same rules (auth/column-grants.ts).
 * Refused with 0A000 rather than accepted and ignored: REPLICATION and BYPASSRLS, role-level settings,
 * MD5 verifiers, altering the bootstrap superuser (its password is the node's
 * --password), and REVOKE of privileges Concord does not check (USAGE on schema public,
 * CONNECT on the database, sequences: every role has them, so GRANT of them is accepted
 * and changes nothing).
 */
import type {
  AlterRoleStmt, CreateRoleStmt, DefElem, DropRoleStmt, GrantRoleStmt, GrantStmt, Node, RenameStmt, RoleSpec,
} from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { utility, type StatementResult } from '../runtime/result.js'
import type { CatalogTransaction } from '../runtime/context.js'
import { listViews, readView } from '../catalog/view-def.js'
import { COLUMN_PRIVILEGES, ColumnGrants } from './column-grants.js'
import { grantTarget, isSequence } from '../catalog/grant-target.js'
import { SEQUENCE_KIND } from '../sequences/sequence-definition.js'
import { RoleDirectory, type GrantTarget, type TableGrant } from '../catalog/role-directory.js'
import {
  BOOTSTRAP_OID, grantKey, memberKey, newRoleOid, PREDEFINED, PUBLIC_OID, ROLE_LOGIN_KIND, ROLE_LOGIN_MARKER, ROLE_MEMBER_KIND, SCHEMA_GRANT_KIND, schemaCreateKey, TABLE_GRANT_KIND,
  type RoleRecord,
} from '../catalog/role-record.js'
import { deleteRole, storeRole } from '../catalog/role-secret.js'
import { recordOwner } from './relation-ownership.js'
import { looksLikeVerifier, parseScramVerifier, scramVerifier } from './scram-verifier.js'
import { ALL_PRIVILEGES, privilegeLetter, privilegeName, SEQUENCE_PRIVILEGES, type PrivilegeLetter } from '../catalog/table-privilege.js'

/** What a role statement runs with: the transaction and the role running it. */
export interface RoleStatementCtx {
  tx: CatalogTransaction
  current: RoleRecord
}

const denied = (message: string, detail?: string): SqlError =>
  new SqlError(SqlState.insufficientPrivilege, message, detail ? { detail } : {})

function optionValue(d: DefElem): Node | undefined {
  return d.arg
}

function boolOption(d: DefElem): boolean {
  const a = optionValue(d)
  return a !== undefined && 'Boolean' in a ? !!a.Boolean.boolval : true
}

/** The role names of a `ROLE a, b` / `IN ROLE a` option. */
function roleNames(n: Node | undefined): string[] {
  if (n === undefined || !('List' in n)) return []
  return (n.List.items ?? []).map((i) => ('RoleSpec' in i ? i.RoleSpec.rolename ?? '' : ''))
}

interface RoleOptions {
  patch: Partial<RoleRecord>
  inRoles: string[]
  members: string[]
  notices: string[]
}

function readOptions(options: Node[] | undefined, verb: 'CREATE' | 'ALTER'): RoleOptions {
  const out: RoleOptions = { patch: {}, inRoles: [], members: [], notices: [] }
  const seen = new Set<string>()
  for (const o of options ?? []) {
    if (!('DefElem' in o)) continue
    const d = o.DefElem
    const name = d.defname ?? ''
    if (seen.has(name)) throw new SqlError(SqlState.syntaxError, 'conflicting or redundant options')
    seen.add(name)
    switch (name) {
      case 'canlogin': out.patch.login = boolOption(d); break
      case 'superuser': out.patch.superuser = boolOption(d); break
      case 'createrole': out.patch.createrole = boolOption(d); break
      case 'createdb': out.patch.createdb = boolOption(d); break
      case 'inherit': out.patch.inherit = boolOption(d); break
      case 'connectionlimit': {
        const a = optionValue(d)
        const n = a !== undefined && 'Integer' in a ? a.Integer.ival ?? 0 : -1
        if (n < -1) throw new SqlError(SqlState.invalidParameterValue, `invalid connection limit: ${n}`)
        out.patch.connlimit = n
        break
      }
      case 'validUntil': {
        const a = optionValue(d)
        out.patch.validUntil = a !== undefined && 'String' in a ? a.String.sval ?? null : null
        break
      }
      case 'password': {
        const a = optionValue(d)
        const text = a !== undefined && 'String' in a ? a.String.sval ?? '' : null
        out.patch.password = passwordVerifier(text, out.notices)
        break
      }
      case 'addroleto': out.inRoles = roleNames(optionValue(d)); break
      case 'rolemembers': out.members = roleNames(optionValue(d)); break
      case 'sysid': out.notices.push('SYSID can no longer be specified'); break
      case 'isreplication': case 'bypassrls': case 'adminmembers':
        if (name === 'adminmembers' || boolOption(d)) throw new SqlError(SqlState.featureNotSupported, `${verb} ROLE .. ${name === 'isreplication' ? 'REPLICATION' : name === 'bypassrls' ? 'BYPASSRLS' : 'ADMIN'} is not supported`)
        break
      default:
        throw new SqlError(SqlState.syntaxError, `option "${name}" not recognized`)
    }
  }
  return out
}

/** The verifier stored for a PASSWORD option (null: NULL or the empty string, no password). */
function passwordVerifier(text: string | null, notices: string[]): string | null {
  if (text === null) return null
  if (text === '') {
    notices.push('empty string is not a valid password, clearing password')
    return null
  }
  if (looksLikeVerifier(text)) {
    if (parseScramVerifier(text) === null) throw new SqlError(SqlState.invalidParameterValue, 'invalid SCRAM-SHA-256 verifier')
    return text
  }
  if (/^md5[0-9a-f]{32}$/.test(text)) throw new SqlError(SqlState.featureNotSupported, 'MD5 password verifiers are not supported; give the password or a SCRAM-SHA-256 verifier')
  return scramVerifier(text)
}

function checkNewName(name: string): void {
  if (name === 'public' || name === 'none') throw new SqlError(SqlState.reservedName, `role name "${name}" is reserved`)
  if (name.startsWith('pg_')) throw new SqlError(SqlState.reservedName, `role name "${name}" is reserved`, { detail: 'Role names starting with "pg_" are reserved.' })
}

function mustFind(dir: RoleDirectory, name: string): RoleRecord {
  const r = dir.role(name)
  if (!r) throw new SqlError(SqlState.undefinedObject, `role "${name}" does not exist`)
  return r
}

/** A RoleSpec (name, PUBLIC, CURRENT_USER ..) as an OID; PUBLIC only where `allowPublic`. */
function roleSpecOid(spec: RoleSpec, dir: RoleDirectory, current: RoleRecord, allowPublic: boolean): number {
  switch (spec.roletype) {
    case 'ROLESPEC_PUBLIC':
      if (!allowPublic) throw new SqlError(SqlState.undefinedObject, 'role "public" does not exist')
      return PUBLIC_OID
    case 'ROLESPEC_CURRENT_USER': case 'ROLESPEC_SESSION_USER': case 'ROLESPEC_CURRENT_ROLE':
      return current.oid
    default:
      return mustFind(dir, spec.rolename ?? '').oid
  }
}

function writeRole(tx: CatalogTransaction, r: RoleRecord): void {
  storeRole(tx, r)
  if (r.login && tx.getCatalog(ROLE_LOGIN_KIND, ROLE_LOGIN_MARKER) === undefined) tx.setCatalog(ROLE_LOGIN_KIND, ROLE_LOGIN_MARKER, true)
}

function addMember(tx: CatalogTransaction, dir: RoleDirectory, role: RoleRecord, member: RoleRecord, admin: boolean): void {
  if (role.oid === member.oid || dir.memberOf(role.oid).has(member.oid)) {
    throw new SqlError(SqlState.invalidGrantOperation, `role "${member.name}" is a member of role "${role.name}"`)
  }
  tx.setCatalog(ROLE_MEMBER_KIND, memberKey(role.oid, member.oid), { role: role.oid, member: member.oid, admin })
}

/** CREATE ROLE / CREATE USER / CREATE GROUP. */
export function execCreateRole(stmt: CreateRoleStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const name = stmt.role ?? ''
  const opts = readOptions(stmt.options, 'CREATE')
  if (!current.superuser && !current.createrole) throw denied('permission denied to create role', 'Only roles with the CREATEROLE attribute may create roles.')
  if (opts.patch.superuser && !current.superuser) throw denied('permission denied to create role', 'Only roles with the SUPERUSER attribute may create roles with the SUPERUSER attribute.')
  checkNewName(name)
  const dir = new RoleDirectory(tx)
  if (dir.role(name)) throw new SqlError(SqlState.duplicateObject, `role "${name}" already exists`)
  const role: RoleRecord = {
    oid: newRoleOid(name), name, superuser: false, inherit: true, createrole: false, createdb: false,
    login: stmt.stmt_type === 'ROLESTMT_USER', connlimit: -1, password: null, validUntil: null, ...opts.patch,
  }
  writeRole(tx, role)
  const after = new RoleDirectory(tx)
  for (const r of opts.inRoles) addMember(tx, after, mustFind(after, r), role, false)
  for (const m of opts.members) addMember(tx, after, role, mustFind(after, m), false)
  return utility('CREATE ROLE', opts.notices.length ? opts.notices : undefined)
}

/** Whether `current` may change `target`'s attributes (own password aside). */
function mayAdminister(current: RoleRecord, target: RoleRecord): boolean {
  if (current.superuser) return true
  return current.createrole && !target.superuser
}

function refuseBuiltin(target: RoleRecord, verb: string): void {
  if (target.oid === BOOTSTRAP_OID) {
    throw new SqlError(SqlState.featureNotSupported, `cannot ${verb} role "${target.name}": the bootstrap superuser is configured by the node (its password is --password)`)
  }
  if (PREDEFINED.some((p) => p.oid === target.oid)) throw new SqlError(SqlState.insufficientPrivilege, `cannot ${verb} reserved role "${target.name}"`)
}

/** ALTER ROLE / ALTER USER name [WITH] options. */
export function execAlterRole(stmt: AlterRoleStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const dir = new RoleDirectory(tx)
  const target = dir.roleByOid(roleSpecOid(stmt.role ?? {}, dir, current, false))!
  refuseBuiltin(target, 'alter')
  const opts = readOptions(stmt.options, 'ALTER')
  const onlyPassword = Object.keys(opts.patch).every((k) => k === 'password') && opts.inRoles.length === 0 && opts.members.length === 0
  // A role may change its own password, as in PostgreSQL.
  if (!(onlyPassword && target.oid === current.oid) && !mayAdminister(current, target)) {
    throw denied(`permission denied to alter role "${target.name}"`, 'Only roles with the CREATEROLE attribute may alter roles.')
  }
  if (opts.patch.superuser !== undefined && !current.superuser) {
    throw denied(`permission denied to alter role "${target.name}"`, 'Only roles with the SUPERUSER attribute may change the SUPERUSER attribute.')
  }
  writeRole(tx, { ...target, ...opts.patch })
  return utility('ALTER ROLE', opts.notices.length ? opts.notices : undefined)
}

/** ALTER ROLE name RENAME TO new. */
export function execRenameRole(stmt: RenameStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const dir = new RoleDirectory(tx)
  const target = mustFind(dir, stmt.subname ?? '')
  const newName = stmt.newname ?? ''
  refuseBuiltin(target, 'rename')
  if (target.oid === current.oid) throw new SqlError(SqlState.featureNotSupported, 'session user cannot be renamed')
  if (!mayAdminister(current, target)) throw denied('permission denied to rename role', 'Only roles with the CREATEROLE attribute may rename roles.')
  checkNewName(newName)
  if (dir.role(newName)) throw new SqlError(SqlState.duplicateObject, `role "${newName}" already exists`)
  deleteRole(tx, target.name)
  writeRole(tx, { ...target, name: newName })
  return utility('ALTER ROLE')
}

/** DROP ROLE [IF EXISTS] a, b: refused while a role owns tables or holds grants (2BP01), as PostgreSQL. */
export function execDropRole(stmt: DropRoleStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const dir = new RoleDirectory(tx)
  const notices: string[] = []
  const tables: GrantTarget[] = [...tx.tables().map((t) => ({ name: t.name, incarnation: t.incarnation })), ...listViews(tx).map((v) => ({ name: v.name, incarnation: 0 }))]
  for (const n of stmt.roles ?? []) {
    const name = 'RoleSpec' in n ? n.RoleSpec.rolename ?? '' : ''
    const target = dir.role(name)
    if (!target) {
      if (stmt.missing_ok) {
        notices.push(`role "${name}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.undefinedObject, `role "${name}" does not exist`)
    }
    if (target.oid === BOOTSTRAP_OID || PREDEFINED.some((p) => p.oid === target.oid)) {
      throw new SqlError(SqlState.objectInUse, `cannot drop role ${name} because it is required by the database system`)
    }
    if (target.oid === current.oid) throw new SqlError(SqlState.objectInUse, 'current user cannot be dropped')
    if (!mayAdminister(current, target)) throw denied(`permission denied to drop role "${name}"`, 'Only roles with the CREATEROLE attribute may drop roles.')
    const depends = [
      ...dir.owned(target.oid, tables).map((t) => `owner of table ${t}`),
      ...dir.grantsTo(target.oid).filter((g) => tables.some((t) => t.name === g.table && t.incarnation === g.incarnation)).map((g) => `privileges for table ${g.table}`),
    ]
    if (depends.length > 0) {
      throw new SqlError(SqlState.dependentObjectsStillExist, `role "${name}" cannot be dropped because some objects depend on it`, { detail: [...new Set(depends)].join('\n') })
    }
    // Stale grants (of dropped incarnations) and memberships go with the role, as in PostgreSQL.
    for (const g of dir.grantsTo(target.oid)) tx.setCatalog(TABLE_GRANT_KIND, g.key, null)
    if (dir.schemaCreate.has(target.oid)) tx.setCatalog(SCHEMA_GRANT_KIND, schemaCreateKey(target.oid), null)
    for (const m of dir.memberships) if (m.role === target.oid || m.member === target.oid) tx.setCatalog(ROLE_MEMBER_KIND, memberKey(m.role, m.member), null)
    deleteRole(tx, target.name, target.oid)
  }
  return utility('DROP ROLE', notices.length ? notices : undefined)
}

/** Privileges every role already has on these objects: GRANT of them changes nothing. */
const IMPLICIT: Partial<Record<string, Set<string>>> = {
  OBJECT_SCHEMA: new Set(['usage']),
  OBJECT_DATABASE: new Set(['connect', 'temporary', 'temp']),
}

/** GRANT / REVOKE privileges ON [TABLE] t, .. | ALL TABLES IN SCHEMA public TO / FROM roles. */
export function execGrant(stmt: GrantStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const verb = stmt.is_grant ? 'GRANT' : 'REVOKE'
  const objtype = stmt.objtype ?? 'OBJECT_TABLE'
  const privNames = (stmt.privileges ?? []).map((p) => ('AccessPriv' in p ? p.AccessPriv : {}))
  // GRANT ALL on a schema is CREATE and USAGE: it must grant CREATE (it was once taken as USAGE alone, granting nothing).
  const allOnSchema = objtype === 'OBJECT_SCHEMA' && stmt.is_grant && privNames.length === 0
  if (objtype === 'OBJECT_SCHEMA' && (allOnSchema || privNames.some((p) => (p.priv_name ?? '').toLowerCase() === 'create'))) return schemaGrant(stmt, ctx)
  if (objtype !== 'OBJECT_TABLE' && objtype !== 'OBJECT_SEQUENCE') {
    const implicit = IMPLICIT[objtype]
    const all = privNames.length === 0
    if (stmt.is_grant && implicit && !stmt.grant_option && (all || privNames.every((p) => implicit.has((p.priv_name ?? '').toLowerCase())))) return utility(verb)
    throw new SqlError(SqlState.featureNotSupported, `${verb} on ${objtype.slice(7).toLowerCase()} objects is not supported (only table privileges are checked)`)
  }
  const columnPrivs = privNames.filter((p) => (p.cols?.length ?? 0) > 0)
  const tablePrivs = privNames.filter((p) => (p.cols?.length ?? 0) === 0)
  const named: PrivilegeLetter[] | null = privNames.length === 0 ? null : tablePrivs.map((p) => privilegeLetter(p.priv_name ?? ''))
  const notices: string[] = []
  // ALL is every privilege of the object's kind; a sequence has USAGE, SELECT and UPDATE, a table no USAGE.
  const lettersFor = (t: GrantTarget): PrivilegeLetter[] => {
    const sequence = isSequence(tx, t.name)
    if (objtype === 'OBJECT_SEQUENCE' && !sequence) throw new SqlError(SqlState.wrongObjectType, `"${t.name}" is not a sequence`)
    if (!sequence) {
      if (named?.includes('U')) throw new SqlError(SqlState.invalidGrantOperation, 'invalid privilege type USAGE for table')
      return named ?? [...ALL_PRIVILEGES]
    }
    if (named === null) return [...SEQUENCE_PRIVILEGES]
    const other = named.find((l) => !SEQUENCE_PRIVILEGES.includes(l))
    if (other === undefined) return named
    if (objtype === 'OBJECT_SEQUENCE') throw new SqlError(SqlState.invalidGrantOperation, `invalid privilege type ${privilegeName(other)} for sequence`)
    // ON TABLE syntax naming a sequence: PostgreSQL warns and grants what applies.
    notices.push(`sequence "${t.name}" only supports USAGE, SELECT, and UPDATE privileges`)
    return named.filter((l) => SEQUENCE_PRIVILEGES.includes(l))
  }
  const dir = new RoleDirectory(tx)
  let targets: GrantTarget[]
  if (stmt.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') {
    for (const s of stmt.objects ?? []) {
      const schema = 'String' in s ? s.String.sval ?? '' : ''
      if (schema !== 'public') throw new SqlError(SqlState.invalidSchemaName, `schema "${schema}" does not exist`)
    }
    targets = objtype === 'OBJECT_SEQUENCE'
      ? tx.listCatalog(SEQUENCE_KIND).map(([name]) => ({ name, incarnation: 0 }))
      : [...tx.tables().map((t) => ({ name: t.name, incarnation: t.incarnation })), ...listViews(tx).map((v) => ({ name: v.name, incarnation: 0 }))]
  } else {
    targets = (stmt.objects ?? []).map((o) => {
      const rv = 'RangeVar' in o ? o.RangeVar : {}
      const name = rv.relname ?? ''
      if (rv.schemaname !== undefined && rv.schemaname !== 'public') throw new SqlError(SqlState.featureNotSupported, `${verb} on ${rv.schemaname}.${name} is not supported`)
      const t = grantTarget(tx, name)
      if (!t) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
      return t
    })
  }
  const grantees = (stmt.grantees ?? []).map((g) => roleSpecOid('RoleSpec' in g ? g.RoleSpec : {}, dir, current, true))
  // GRANT .. WITH GRANT OPTION, or REVOKE GRANT OPTION FOR ..
  const option = stmt.grant_option === true
  if (option && stmt.is_grant && grantees.includes(PUBLIC_OID)) throw new SqlError(SqlState.invalidGrantOperation, 'grant options can only be granted to roles')
  for (const t of targets) {
    const sequence = isSequence(tx, t.name)
    const owner = dir.ownerOf(t)
    let letters = lettersFor(t)
    // The grantor: the owner when the current role acts as it; else the role whose grant option it uses, per privilege.
    const grantorOf = (l: PrivilegeLetter): number | undefined => (dir.actsAsOwner(current.oid, t) ? owner : dir.grantOptionHolder(current.oid, t, l))
    if (!dir.actsAsOwner(current.oid, t)) {
      const held = letters.filter((l) => grantorOf(l) !== undefined)
      // (A statement naming column privileges only asks nothing of the table here: letters is empty.)
      if (letters.length > 0 && held.length === 0 && dir.privileges(current.oid, t).size === 0) throw denied(`permission denied for ${sequence ? 'sequence' : 'table'} ${t.name}`)
      // As PostgreSQL: privileges held without the grant option are skipped with a warning, not an error.
      if (held.length < letters.length) {
        const none = held.length === 0
        notices.push(stmt.is_grant
          ? `${none ? 'no' : 'not all'} privileges were granted for "${t.name}"`
          : `${none ? 'no' : 'not all'} privileges could be revoked for "${t.name}"`)
      }
      letters = held
    }
    const live = dir.grantsOn(t).map((g) => ({ ...g }))
    const columns = new ColumnGrants(tx, dir, t, live)
    const write = (g: Omit<TableGrant, 'key'>, value: 'grant' | 'delete' | 'revoked-from-owner'): void => {
      const key = g.grantor === owner ? grantKey(t.name, g.grantee, g.privilege) : `${grantKey(t.name, g.grantee, g.privilege)}/${g.grantor}`
      const record = { table: t.name, incarnation: t.incarnation, grantee: g.grantee, privilege: g.privilege, grantor: g.grantor, ...(g.grantOption === true ? { grantOption: true } : {}) }
      tx.setCatalog(TABLE_GRANT_KIND, key, value === 'grant' ? record : value === 'revoked-from-owner' ? { ...record, revoked: true } : null)
      const i = live.findIndex((x) => x.grantee === g.grantee && x.privilege === g.privilege && x.grantor === g.grantor)
      if (i >= 0) live.splice(i, 1)
      if (value === 'grant') live.push({ ...g, key })
    }
    for (const grantee of grantees) {
      for (const l of letters) {
        const grantor = grantorOf(l)!
        const existing = live.find((g) => g.grantee === grantee && g.privilege === l && g.grantor === grantor)
        if (stmt.is_grant) {
          // A grant without the option keeps an option granted before, as in PostgreSQL.
          write({ table: t.name, incarnation: t.incarnation, grantee, privilege: l, grantor, grantOption: option || existing?.grantOption === true }, 'grant')
          continue
        }
        if (option) {
          if (existing?.grantOption === true) write({ ...existing, grantOption: false }, 'grant')
        } else if (grantee === owner && grantor === owner) {
          // REVOKE from the owner takes the privilege from it (recorded: owners hold all by default), as in PostgreSQL.
          write({ table: t.name, incarnation: t.incarnation, grantee, privilege: l, grantor }, 'revoked-from-owner')
        } else if (existing !== undefined) {
          write(existing, 'delete')
        }
        revokeDependents(owner, grantee, l, live, stmt.behavior === 'DROP_CASCADE', (g) => write(g, 'delete'))
        // REVOKE of a table privilege takes the grantee's column privileges of that kind too, as in PostgreSQL.
        if (COLUMN_PRIVILEGES.includes(l)) columns.revokeWithTable(grantee, l, grantor, option, stmt.behavior === 'DROP_CASCADE')
      }
    }
    if (columnPrivs.length > 0) {
      const names = relationColumns(tx, t)
      if (names === undefined) throw new SqlError(SqlState.featureNotSupported, `column privileges are supported on tables and views only ("${t.name}" is neither)`)
      notices.push(...columns.change(columnPrivs, names, {
        isGrant: stmt.is_grant === true, option, cascade: stmt.behavior === 'DROP_CASCADE', current: current.oid, grantees,
      }))
    }
  }
  return utility(verb, notices)
}

/** The column names of a table or view; undefined for a sequence. */
function relationColumns(tx: CatalogTransaction, t: GrantTarget): string[] | undefined {
  if (isSequence(tx, t.name)) return undefined
  const table = tx.table(t.name)
  if (table !== undefined) return table.columns.map((c) => c.name)
  return readView(tx, t.name)?.columns.map((c) => c.name)
}

/**
 * After `grantee` lost a grant option (or the privilege) for `letter`: the grants it made
 * with that option, when it no longer holds the option from anyone. With CASCADE they are
 * revoked, and theirs in turn; without, their existence is 2BP01 and nothing is revoked
 * (the statement's transaction rolls back), as in PostgreSQL.
 */
function revokeDependents(
  owner: number, grantee: number, letter: PrivilegeLetter, live: TableGrant[], cascade: boolean, remove: (g: TableGrant) => void,
): void {
  if (grantee === owner || live.some((g) => g.grantee === grantee && g.privilege === letter && g.grantOption === true)) return
  const dependents = live.filter((g) => g.grantor === grantee && g.privilege === letter)
  if (dependents.length === 0) return
  if (!cascade) throw new SqlError(SqlState.dependentObjectsStillExist, 'dependent privileges exist', { hint: 'Use CASCADE to revoke them too.' })
  for (const d of dependents) {
    remove(d)
    revokeDependents(owner, d.grantee, letter, live, cascade, remove)
  }
}

/** GRANT / REVOKE CREATE [, USAGE] ON SCHEMA public TO / FROM roles: superusers only (the bootstrap superuser owns public). */
function schemaGrant(stmt: GrantStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const verb = stmt.is_grant ? 'GRANT' : 'REVOKE'
  for (const s of stmt.objects ?? []) {
    const schema = 'String' in s ? s.String.sval ?? '' : ''
    if (schema !== 'public') throw new SqlError(SqlState.invalidSchemaName, `schema "${schema}" does not exist`)
  }
  const names = (stmt.privileges ?? []).map((p) => ('AccessPriv' in p ? (p.AccessPriv.priv_name ?? '').toLowerCase() : ''))
  if (names.some((n) => n !== 'create' && n !== 'usage') || (!stmt.is_grant && names.includes('usage')) || stmt.grant_option) {
    throw new SqlError(SqlState.featureNotSupported, `${verb} on schema public supports CREATE (and GRANT USAGE, which every role has) only`)
  }
  if (!current.superuser) throw denied('permission denied for schema public')
  const dir = new RoleDirectory(tx)
  for (const g of stmt.grantees ?? []) {
    const grantee = roleSpecOid('RoleSpec' in g ? g.RoleSpec : {}, dir, current, true)
    tx.setCatalog(SCHEMA_GRANT_KIND, schemaCreateKey(grantee), stmt.is_grant ? { grantee, grantor: BOOTSTRAP_OID } : null)
  }
  return utility(verb)
}

/** GRANT role TO member [WITH ADMIN OPTION] / REVOKE role FROM member. */
export function execGrantRole(stmt: GrantRoleStmt, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const verb = stmt.is_grant ? 'GRANT ROLE' : 'REVOKE ROLE'
  const dir = new RoleDirectory(tx)
  const admin = (stmt.opt ?? []).some((o) => 'DefElem' in o && o.DefElem.defname === 'admin' && boolOption(o.DefElem))
  if (!stmt.is_grant && (stmt.opt ?? []).length > 0) throw new SqlError(SqlState.featureNotSupported, 'REVOKE .. OPTION FOR is not supported')
  const roles = (stmt.granted_roles ?? []).map((r) => mustFind(dir, 'AccessPriv' in r ? r.AccessPriv.priv_name ?? '' : ''))
  const members = (stmt.grantee_roles ?? []).map((m) => dir.roleByOid(roleSpecOid('RoleSpec' in m ? m.RoleSpec : {}, dir, current, false))!)
  for (const role of roles) {
    const isAdmin = dir.memberships.some((m) => m.role === role.oid && m.member === current.oid && m.admin)
    if (!current.superuser && !(current.createrole && !role.superuser) && !isAdmin) {
      throw denied(`permission denied to ${stmt.is_grant ? 'grant' : 'revoke'} role "${role.name}"`, `Only roles with the ADMIN option on role "${role.name}" may ${stmt.is_grant ? 'grant' : 'revoke'} this role.`)
    }
    for (const member of members) {
      if (stmt.is_grant) addMember(tx, new RoleDirectory(tx), role, member, admin)
      else tx.setCatalog(ROLE_MEMBER_KIND, memberKey(role.oid, member.oid), null)
    }
  }
  return utility(verb)
}

/** ALTER TABLE / VIEW name OWNER TO role (superusers only: Concord has no CREATE on schemas to hand out). */
export function execChangeOwner(table: string, newOwner: RoleSpec, ctx: RoleStatementCtx): StatementResult {
  const { tx, current } = ctx
  const dir = new RoleDirectory(tx)
  const t = grantTarget(tx, table)
  if (!t) throw new SqlError(SqlState.undefinedTable, `relation "${table}" does not exist`)
  if (!current.superuser) throw denied(`must be owner of table ${table}`)
  const owner = roleSpecOid(newOwner, dir, current, false)
  recordOwner(tx, t, owner)
  return utility('ALTER TABLE')
}
