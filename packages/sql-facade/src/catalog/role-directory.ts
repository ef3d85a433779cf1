/**
 * What the catalog says about roles at one moment: the roles (stored, the bootstrap
 * superuser, the predefined roles), who is a member of whom, table owners and table
 * grants, and so each role's privileges on a table. Built from a transaction (a
 * statement sees its own block's role changes) or from the replica (the session's
 * cached copy, rebuilt when a role kind changes: database.ts).
 *
 * Privileges follow PostgreSQL: a superuser has every privilege; a role has the
 * privileges granted to it, to PUBLIC, and (when it INHERITs) to every role it is a
 * member of, transitively; a table's owner has all of them; pg_read_all_data gives
 * SELECT and pg_write_all_data INSERT, UPDATE and DELETE on every table.
 */
import type { Json, TableInfo } from '@concord/core'
import { ALL_PRIVILEGES, aclLetters, type PrivilegeLetter } from './table-privilege.js'
import {
  BOOTSTRAP, BOOTSTRAP_NAMES, BOOTSTRAP_OID, decodeRole, PREDEFINED, PUBLIC_OID, READ_ALL_DATA, ROLE_KIND, ROLE_LOGIN_KIND,
  ROLE_LOGIN_MARKER, ROLE_MEMBER_KIND, SCHEMA_GRANT_KIND, TABLE_GRANT_KIND, TABLE_OWNER_KIND, WRITE_ALL_DATA, type RoleRecord,
} from './role-record.js'

/** Where the directory reads the catalog: a transaction or the replica. */
export interface RoleSource {
  listCatalog(kind: string): Array<[string, Json]>
}

/** A relation privileges are checked on: a table (its incarnation) or a view (incarnation 0). */
export interface GrantTarget {
  name: string
  incarnation: number
}

export interface Membership {
  role: number
  member: number
  admin: boolean
}

export interface TableGrant {
  table: string
  incarnation: number
  grantee: number
  privilege: PrivilegeLetter
  grantor: number
  /** The catalog key, for REVOKE. */
  key: string
  /** A privilege REVOKEd from the relation's owner (owners hold all until they revoke their own, as in PostgreSQL). */
  revoked?: boolean
  /** Granted WITH GRANT OPTION: the grantee may grant it on (its own grants name it as grantor). */
  grantOption?: boolean
  /** A column privilege (`GRANT SELECT (a) ON t`): of this column only. Absent: the whole table. */
  column?: string
}

const ANY_PRIVILEGE = new Set<string>([...ALL_PRIVILEGES, 'U'])

export class RoleDirectory {
  private readonly byName = new Map<string, RoleRecord>()
  private readonly byOid = new Map<number, RoleRecord>()
  readonly memberships: Membership[] = []
  private readonly grants = new Map<string, TableGrant[]>()
  private readonly owners = new Map<string, { owner: number; incarnation: number }>()
  /** Grantees of CREATE on schema public (PUBLIC: 0). */
  readonly schemaCreate = new Set<number>()
  /**
   * Whether a role that may log in was ever created (role-record.ts's marker) or exists:
   * then unknown user names are refused (auth/session-role.ts, the wire's login rule).
   */
  readonly loginRolesExist: boolean

  constructor(source: RoleSource) {
    for (const r of [BOOTSTRAP, ...PREDEFINED]) this.add(r)
    let login = false
    for (const [name, v] of source.listCatalog(ROLE_KIND)) {
      const r = decodeRole(name, v)
      if (r === null || this.byName.has(name) || BOOTSTRAP_NAMES.has(name)) continue
      this.add(r)
      login ||= r.login
    }
    this.loginRolesExist = login || source.listCatalog(ROLE_LOGIN_KIND).some(([name]) => name === ROLE_LOGIN_MARKER)
    for (const [, v] of source.listCatalog(ROLE_MEMBER_KIND)) {
      const o = record(v)
      if (typeof o['role'] === 'number' && typeof o['member'] === 'number') this.memberships.push({ role: o['role'], member: o['member'], admin: o['admin'] === true })
    }
    for (const [key, v] of source.listCatalog(TABLE_GRANT_KIND)) {
      const o = record(v)
      const { table, incarnation, grantee, privilege, grantor } = o
      if (typeof table !== 'string' || typeof incarnation !== 'number' || typeof grantee !== 'number' || typeof privilege !== 'string') continue
      if (!ANY_PRIVILEGE.has(privilege)) continue
      const list = this.grants.get(table) ?? []
      list.push({
        table, incarnation, grantee, privilege: privilege as PrivilegeLetter, grantor: typeof grantor === 'number' ? grantor : BOOTSTRAP_OID, key,
        ...(o['revoked'] === true ? { revoked: true } : {}), ...(o['grantOption'] === true ? { grantOption: true } : {}),
        ...(typeof o['column'] === 'string' ? { column: o['column'] } : {}),
      })
      this.grants.set(table, list)
    }
    for (const [, v] of source.listCatalog(SCHEMA_GRANT_KIND)) {
      const o = record(v)
      if (typeof o['grantee'] === 'number') this.schemaCreate.add(o['grantee'])
    }
    for (const [table, v] of source.listCatalog(TABLE_OWNER_KIND)) {
      const o = record(v)
      if (typeof o['owner'] === 'number' && typeof o['incarnation'] === 'number') this.owners.set(table, { owner: o['owner'], incarnation: o['incarnation'] })
    }
  }

  private add(r: RoleRecord): void {
    this.byName.set(r.name, r)
    this.byOid.set(r.oid, r)
  }

  /** A role by name (`postgres` is the bootstrap superuser's other name). */
  role(name: string): RoleRecord | undefined {
    return BOOTSTRAP_NAMES.has(name) ? BOOTSTRAP : this.byName.get(name)
  }

  roleByOid(oid: number): RoleRecord | undefined {
    return this.byOid.get(oid)
  }

  /** Every role, by name. */
  roles(): RoleRecord[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** The name of a role OID as PostgreSQL prints an owner or grantor (PUBLIC: ''). */
  nameOf(oid: number): string {
    if (oid === PUBLIC_OID) return ''
    return this.byOid.get(oid)?.name ?? `unknown (OID=${oid})`
  }

  /**
   * Roles `member` belongs to, directly or through other roles (itself excluded). With
   * `inheritingOnly`, the roles whose privileges it has: none for a NOINHERIT role, and
   * a chain stops at a NOINHERIT role in between, as in PostgreSQL.
   */
  memberOf(member: number, inheritingOnly = false): Set<number> {
    const out = new Set<number>()
    if (inheritingOnly && this.byOid.get(member)?.inherit === false) return out
    const queue = [member]
    // Each role is expanded once, so this ends after at most one pass per membership.
    while (queue.length > 0) {
      const m = queue.pop()!
      for (const e of this.memberships) {
        if (e.member !== m || out.has(e.role) || e.role === member) continue
        out.add(e.role)
        if (!inheritingOnly || this.byOid.get(e.role)?.inherit !== false) queue.push(e.role)
      }
    }
    return out
  }

  /** The table's owner: the role that created it, or the bootstrap superuser for tables older than roles. */
  ownerOf(target: GrantTarget): number {
    const o = this.owners.get(target.name)
    return o !== undefined && o.incarnation === target.incarnation ? o.owner : BOOTSTRAP_OID
  }

  /** The grants on this incarnation of a relation. */
  grantsOn(target: GrantTarget): TableGrant[] {
    return (this.grants.get(target.name) ?? []).filter((g) => g.incarnation === target.incarnation && g.revoked !== true && g.column === undefined)
  }

  /** The column privileges granted on this incarnation of a relation. */
  columnGrantsOn(target: GrantTarget): TableGrant[] {
    return (this.grants.get(target.name) ?? []).filter((g) => g.incarnation === target.incarnation && g.column !== undefined)
  }

  /** The columns of the relation on which `role` holds `letter` by column privileges (its own, inherited, PUBLIC's). */
  columnPrivileges(role: number, target: GrantTarget, letter: PrivilegeLetter): Set<string> {
    const roles = this.memberOf(role, true)
    roles.add(role)
    const out = new Set<string>()
    for (const g of this.columnGrantsOn(target)) if (g.privilege === letter && (g.grantee === PUBLIC_OID || roles.has(g.grantee))) out.add(g.column!)
    return out
  }

  /** One aclitem per grantee and grantor, as PostgreSQL keeps them; `*` after a letter granted WITH GRANT OPTION. */
  private aclItems(grants: readonly TableGrant[]): string[] {
    const byGrantee = new Map<string, { grantee: number; grantor: number; letters: PrivilegeLetter[]; options: PrivilegeLetter[] }>()
    for (const g of grants) {
      const k = `${g.grantee}/${g.grantor}`
      const e = byGrantee.get(k) ?? { grantee: g.grantee, grantor: g.grantor, letters: [], options: [] }
      e.letters.push(g.privilege)
      if (g.grantOption === true) e.options.push(g.privilege)
      byGrantee.set(k, e)
    }
    return [...byGrantee.values()].map((e) => `${aclName(this.nameOf(e.grantee))}=${aclLetters(e.letters, e.options)}/${aclName(this.nameOf(e.grantor))}`)
  }

  /** pg_attribute.attacl of one column, as aclitem text: null without column privileges. */
  columnAcl(target: GrantTarget, column: string): string[] | null {
    const items = this.aclItems(this.columnGrantsOn(target).filter((g) => g.column === column))
    return items.length === 0 ? null : items
  }

  /** The privileges the relation's owner revoked from itself. */
  revokedFromOwner(target: GrantTarget): Set<PrivilegeLetter> {
    const owner = this.ownerOf(target)
    return new Set((this.grants.get(target.name) ?? []).filter((g) => g.incarnation === target.incarnation && g.revoked === true && g.grantee === owner && g.column === undefined).map((g) => g.privilege))
  }

  /** Every stored grant of a name, whatever its incarnation (DROP removes them all). */
  grantsNamed(table: string): TableGrant[] {
    return this.grants.get(table) ?? []
  }

  /** Grants to the role (any table, any incarnation): DROP ROLE refuses while there are some. */
  grantsTo(grantee: number): TableGrant[] {
    return [...this.grants.values()].flat().filter((g) => g.grantee === grantee)
  }

  /** Tables (names) the role owns, of those given. */
  owned(role: number, tables: GrantTarget[]): string[] {
    return tables.filter((t) => this.ownerOf(t) === role).map((t) => t.name)
  }

  /** Whether `role` may create relations in schema public: superusers, and grantees of CREATE (PUBLIC, itself, a role it inherits). */
  mayCreate(role: number): boolean {
    if (this.byOid.get(role)?.superuser) return true
    if (this.schemaCreate.has(PUBLIC_OID) || this.schemaCreate.has(role)) return true
    return [...this.memberOf(role, true)].some((r) => this.schemaCreate.has(r))
  }

  /** The privileges `role` holds on the relation. */
  privileges(role: number, target: GrantTarget): Set<PrivilegeLetter> {
    const r = this.byOid.get(role)
    if (r?.superuser) return new Set([...ALL_PRIVILEGES, 'U'])
    const roles = this.memberOf(role, true)
    roles.add(role)
    const out = new Set<PrivilegeLetter>()
    if ([...roles].includes(this.ownerOf(target))) {
      const revoked = this.revokedFromOwner(target)
      for (const l of [...ALL_PRIVILEGES, 'U'] as PrivilegeLetter[]) if (!revoked.has(l)) out.add(l)
    }
    for (const g of this.grantsOn(target)) if (g.grantee === PUBLIC_OID || roles.has(g.grantee)) out.add(g.privilege)
    const read = this.byName.get(READ_ALL_DATA)!.oid
    const write = this.byName.get(WRITE_ALL_DATA)!.oid
    if (roles.has(read)) out.add('r')
    if (roles.has(write)) for (const l of ['a', 'w', 'd'] as const) out.add(l)
    return out
  }

  /** Whether `role` acts as the relation's owner: a superuser, the owner, or a member of the owning role. */
  actsAsOwner(role: number, target: GrantTarget): boolean {
    const owner = this.ownerOf(target)
    return this.byOid.get(role)?.superuser === true || role === owner || this.memberOf(role).has(owner)
  }

  /**
   * The role whose grant option lets `role` grant (or revoke what it granted of) `letter`
   * on the relation: `role` itself when it holds the option, else a role it inherits from
   * that does (PostgreSQL records that role as the grantor); undefined when none does.
   * Owners are not asked here (they grant as the owner: `actsAsOwner`).
   */
  grantOptionHolder(role: number, target: GrantTarget, letter: PrivilegeLetter): number | undefined {
    const holders = new Set(this.grantsOn(target).filter((g) => g.grantOption === true && g.privilege === letter).map((g) => g.grantee))
    if (holders.has(role)) return role
    for (const r of this.memberOf(role, true)) if (holders.has(r)) return r
    return undefined
  }

  /**
   * The role whose grant option lets `role` grant `letter` on one column (or revoke what it
   * granted of it): a grant option on the column (its own or inherited), else one on the
   * whole relation, as PostgreSQL merges the two ACLs when it picks the grantor.
   */
  columnGrantOptionHolder(role: number, target: GrantTarget, letter: PrivilegeLetter, column: string): number | undefined {
    const holders = new Set(this.columnGrantsOn(target).filter((g) => g.grantOption === true && g.privilege === letter && g.column === column).map((g) => g.grantee))
    if (holders.has(role)) return role
    for (const r of this.memberOf(role, true)) if (holders.has(r)) return r
    return this.grantOptionHolder(role, target, letter)
  }

  /**
   * Whether `role` holds anything a column can hold (SELECT, INSERT, UPDATE, REFERENCES) on
   * the relation or on this column: a GRANT of a column privilege it cannot grant is then a
   * warning, not 42501, as in PostgreSQL.
   */
  holdsOnColumn(role: number, target: GrantTarget, column: string): boolean {
    const table = this.privileges(role, target)
    if ((['r', 'a', 'w', 'x'] as const).some((l) => table.has(l))) return true
    const roles = this.memberOf(role, true)
    roles.add(role)
    return this.columnGrantsOn(target).some((g) => g.column === column && (g.grantee === PUBLIC_OID || roles.has(g.grantee)))
  }

  /** Whether `role` may grant `letter` on the column (has_column_privilege(.., 'x WITH GRANT OPTION')). */
  columnGrantable(role: number, target: GrantTarget, letter: PrivilegeLetter, column: string): boolean {
    if (this.actsAsOwner(role, target)) return !this.revokedFromOwner(target).has(letter)
    return this.columnGrantOptionHolder(role, target, letter, column) !== undefined
  }

  /** The privileges `role` may grant on the relation (has_table_privilege(.., 'x WITH GRANT OPTION')). */
  grantable(role: number, target: GrantTarget): Set<PrivilegeLetter> {
    if (this.actsAsOwner(role, target)) {
      const revoked = this.revokedFromOwner(target)
      return new Set(([...ALL_PRIVILEGES, 'U'] as PrivilegeLetter[]).filter((l) => !revoked.has(l)))
    }
    return new Set(([...ALL_PRIVILEGES, 'U'] as PrivilegeLetter[]).filter((l) => this.grantOptionHolder(role, target, l) !== undefined))
  }

  /**
   * pg_class.relacl as PostgreSQL's aclitem text: null while nobody was granted anything
   * (the default: the owner has all), else the owner's entry and one per grantee
   * (`{concord=arwdDxt/concord,alice=r/concord,=r/concord}`).
   */
  acl(target: GrantTarget, all: readonly PrivilegeLetter[] = ALL_PRIVILEGES): string[] | null {
    const grants = this.grantsOn(target)
    const revoked = this.revokedFromOwner(target)
    if (grants.length === 0 && revoked.size === 0) return null
    const ownerOid = this.ownerOf(target)
    const owner = this.nameOf(ownerOid)
    const own = all.filter((l) => !revoked.has(l) && !grants.some((g) => g.grantee === ownerOid && g.privilege === l))
    const items = own.length > 0 ? [`${aclName(owner)}=${aclLetters(own)}/${aclName(owner)}`] : []
    items.push(...this.aclItems(grants))
    return items
  }
}

/** A role name inside an aclitem: quoted when it has characters aclitem syntax uses. */
function aclName(name: string): string {
  return /^[A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`
}

function record(v: Json): Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : {}
}

/** A table as a grant target. */
export function tableTarget(t: Pick<TableInfo, 'name' | 'incarnation'>): GrantTarget {
  return { name: t.name, incarnation: t.incarnation }
}
