/**
 * Roles as the replicated catalog keeps them. Every role is one catalog object of kind
 * `role`, named by the role name, whose value is a `RoleRecord`; memberships (`GRANT
 * role TO member`), table privileges and table owners are catalog objects of their own
 * kinds, keyed so that two nodes granting different things concurrently write different
 * keys and both grants survive (the catalog is last-writer-wins per key):
 *   role_member  `<role oid>/<member oid>`            { role, member, admin }
 *   table_grant  `<table>/<grantee oid>/<letter>[/<grantor oid>]`
 *                                                     { table, incarnation, grantee, privilege, grantor, grantOption? }
 *                (the grantor's OID in the key when it is not the owner: a grantee granting on WITH GRANT OPTION)
 *                `<table>/<grantee oid>/<letter>[/<grantor oid>]/col:<column>`
 *                                                     { table, incarnation, grantee, privilege, grantor, column, grantOption? }:
 *                a column privilege of a table or view (the grantor's OID in the key as above)
 *   table_owner  `<table>`                            { owner, incarnation }
 *   schema_grant `public/<grantee oid>/C`             { grantee, grantor }: CREATE on schema public
 * Memberships, grants and owners name roles by OID, so renaming a role rewrites only its
 * own entry. A grant or owner of an older incarnation of a table (a table dropped and
 * created again with the name) does not apply.
 *
 * Invariants: a role's OID is fixed when it is created (a function of its first name,
 * the same on every node); `password` is a SCRAM-SHA-256 verifier or null, never a
 * plaintext password, and as stored, the placeholder saying the verifier is in the
 * secrets shard (catalog/role-secret.ts), except in records of earlier versions. Roles built in and never stored: the bootstrap superuser `concord`
 * (OID 10, PostgreSQL's bootstrap OID; also named `postgres`), and the predefined roles
 * pg_read_all_data and pg_write_all_data (PostgreSQL's OIDs).
 */
import type { Json } from '@concord/core'
import { objectOid, OWNER_OID } from './catalog-model.js'

export const ROLE_KIND = 'role'
export const ROLE_MEMBER_KIND = 'role_member'
export const TABLE_GRANT_KIND = 'table_grant'
export const TABLE_OWNER_KIND = 'table_owner'
export const SCHEMA_GRANT_KIND = 'schema_grant'
/**
 * The marker (`role_login` / `enabled`) written when a role that may log in is first
 * created or given LOGIN, and never removed: from then on unknown user names are refused,
 * even after that role is dropped, so removing roles never reopens a node.
 */
export const ROLE_LOGIN_KIND = 'role_login'
export const ROLE_LOGIN_MARKER = 'enabled'
/** Every catalog kind the roles model keeps (a change to one invalidates cached role state). */
export const ROLE_KINDS: ReadonlySet<string> = new Set([ROLE_KIND, ROLE_MEMBER_KIND, TABLE_GRANT_KIND, TABLE_OWNER_KIND, ROLE_LOGIN_KIND, SCHEMA_GRANT_KIND])

/** The superuser every node has: clients connecting as it authenticate with the node's --password. */
export const BOOTSTRAP_ROLE = 'concord'
/**
 * Names the bootstrap superuser also answers to: `postgres`, what PostgreSQL's tools and
 * test suites connect as by default. It is the same role (OID 10, the same password).
 */
export const BOOTSTRAP_NAMES: ReadonlySet<string> = new Set([BOOTSTRAP_ROLE, 'postgres'])
export const BOOTSTRAP_OID = OWNER_OID
/** The grantee PUBLIC (every role), as PostgreSQL's aclitem writes it: OID 0. */
export const PUBLIC_OID = 0
export const READ_ALL_DATA = 'pg_read_all_data'
export const WRITE_ALL_DATA = 'pg_write_all_data'

export interface RoleRecord {
  oid: number
  name: string
  superuser: boolean
  inherit: boolean
  createrole: boolean
  createdb: boolean
  login: boolean
  /** -1: no limit. */
  connlimit: number
  /** SCRAM-SHA-256 verifier, or null (no password); as stored, role-secret.ts VERIFIER_ELSEWHERE (use `roleVerifier`). */
  password: string | null
  /** VALID UNTIL as given (text), or null. */
  validUntil: string | null
}

const builtin = (oid: number, name: string, superuser: boolean): RoleRecord => ({
  oid, name, superuser, inherit: true, createrole: superuser, createdb: superuser, login: superuser, connlimit: -1, password: null, validUntil: null,
})

export const BOOTSTRAP: RoleRecord = builtin(BOOTSTRAP_OID, BOOTSTRAP_ROLE, true)
/** PostgreSQL's predefined roles Concord has (their OIDs are PostgreSQL's). */
export const PREDEFINED: readonly RoleRecord[] = [builtin(6181, READ_ALL_DATA, false), builtin(6182, WRITE_ALL_DATA, false)]

/** A new role's OID: a function of its name, so every node that creates it agrees. */
export function newRoleOid(name: string): number {
  return objectOid('role', name)
}

export function roleJson(r: RoleRecord): Json {
  return { ...r }
}

/** A stored role, or null when the value is malformed (a broken peer's write is skipped). */
export function decodeRole(name: string, v: Json): RoleRecord | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const o = v as Record<string, Json>
  if (typeof o['oid'] !== 'number') return null
  const flag = (k: string, d: boolean): boolean => (typeof o[k] === 'boolean' ? (o[k] as boolean) : d)
  return {
    oid: o['oid'],
    name,
    superuser: flag('superuser', false),
    inherit: flag('inherit', true),
    createrole: flag('createrole', false),
    createdb: flag('createdb', false),
    login: flag('login', false),
    connlimit: typeof o['connlimit'] === 'number' ? o['connlimit'] : -1,
    password: typeof o['password'] === 'string' ? o['password'] : null,
    validUntil: typeof o['validUntil'] === 'string' ? o['validUntil'] : null,
  }
}

export const memberKey = (role: number, member: number): string => `${role}/${member}`
export const grantKey = (table: string, grantee: number, letter: string): string => `${table}/${grantee}/${letter}`
/** A column privilege's key; `grantor` only when it is not the owner (a grantee granting on WITH GRANT OPTION). */
export const columnGrantKey = (table: string, grantee: number, letter: string, column: string, grantor?: number): string =>
  `${grantKey(table, grantee, letter)}${grantor === undefined ? '' : `/${grantor}`}/col:${column}`
export const schemaCreateKey = (grantee: number): string => `public/${grantee}/C`
