/**
 * Who may connect, and how they prove it: the node's pg_hba, one fixed rule.
 *
 *   1. Once a role that may log in exists in the catalog (CREATE ROLE .. LOGIN), the user
 *      must be a role (28000 `role "x" does not exist`; 28000 `role "x" is not permitted
 *      to log in` for NOLOGIN), and the database one the node serves: concord, postgres
 *      or template1 (3D000 `database "x" does not exist`). Before that, as before roles
 *      existed, any user and database name is accepted, as the bootstrap superuser.
 *   2. A role with a password (its SCRAM-SHA-256 verifier) authenticates with SCRAM
 *      against it, from anywhere, loopback included.
 *   3. The bootstrap superuser `concord` (also `postgres`; and, before any LOGIN role exists, every user
 *      name) authenticates with SCRAM against the node's --password when one is set.
 *   4. Otherwise (no password for the role): trusted on loopback when the node has no
 *      --password (today's development default), refused beyond loopback (28000 `no
 *      pg_hba.conf entry ..`); when the node has a --password, a role without one cannot
 *      log in (its SCRAM exchange fails against a random verifier, so a client learns
 *      nothing about the role from the attempt).
 *   0. Before all of these, the node's TLS requirement (--require-tls, PostgreSQL's
 *      `hostssl` lines): 'remote' refuses a connection from beyond loopback that does not
 *      run over TLS, 'all' every such connection (28000 `no pg_hba.conf entry .., no
 *      encryption`, as PostgreSQL answers where only hostssl lines match); 'cert' also
 *      wants a client certificate that verified against the node's client CA (28000
 *      `connection requires a valid client certificate`).
 *   1b. A client certificate that verified (--tls-client-ca, PostgreSQL's `cert` method)
 *      logs in the user its common name names, with no password; naming another user is
 *      28000 `certificate authentication failed for user "x"`. After rule 1 (the role must
 *      exist and may log in).
 *
 * Invariants: nothing here reads a password in clear; a decision is made from the
 * startup packet before any authentication message is sent.
 */
import { createScramSha256Data, type ScramSha256Data } from 'pg-gateway'
import { BOOTSTRAP_NAMES, SqlState } from '@concord/sql-facade'

/** What authentication needs to know of one role. */
export interface LoginRole {
  login: boolean
  superuser: boolean
  /** The role's SCRAM-SHA-256 secret, or null when it has no password. */
  scram: ScramSha256Data | null
}

/** The roles the catalog holds (the node's SQL engine provides it). */
export interface LoginDirectory {
  /** Whether any stored role may log in: then unknown users and databases are refused. */
  rolesEnforced(): boolean
  /** A stored role (the bootstrap superuser excluded: it is the node's). */
  role(name: string): LoginRole | undefined
}

export type AuthDecision =
  | { method: 'trust'; superuser: boolean }
  | { method: 'scram'; data: () => Promise<ScramSha256Data>; superuser: boolean }
  | { method: 'refuse'; code: string; message: string }

export interface AuthRequest {
  user: string
  database: string
  /** The client's IP address as the socket reports it (no port). */
  remoteAddress: string
  /** Whether the connection runs over TLS. */
  tls?: boolean
  /** The common name of a client certificate that verified against the node's client CA; absent without one. */
  certificateUser?: string | undefined
}

/** Database names a node answers to once roles exist. */
export const DATABASES: ReadonlySet<string> = new Set(['concord', 'postgres', 'template1'])

export function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)
}

/** Which connections must run over TLS: none, those from beyond loopback, all, or all with a client certificate. */
export type TlsRequirement = 'off' | 'remote' | 'all' | 'cert'

export class ClientAuthentication {
  private readonly nodeScram?: Promise<ScramSha256Data>
  private readonly directory?: LoginDirectory
  private readonly requireTls: TlsRequirement

  /**
   * `password`: the node's --password (the bootstrap superuser's); `directory`: the
   * catalog's roles, absent for a server without roles; `requireTls`: rule 0 above.
   */
  constructor(password: string | undefined, directory: LoginDirectory | undefined, requireTls: TlsRequirement = 'off') {
    if (password !== undefined) this.nodeScram = createScramSha256Data(password)
    this.directory = directory
    this.requireTls = requireTls
  }

  decide(req: AuthRequest): AuthDecision {
    if (req.tls !== true && (this.requireTls === 'all' || this.requireTls === 'cert' || (this.requireTls === 'remote' && !isLoopback(req.remoteAddress)))) {
      return refuse(noEntry(req))
    }
    if (this.requireTls === 'cert' && req.certificateUser === undefined) return refuse('connection requires a valid client certificate')
    const enforced = this.directory?.rolesEnforced() ?? false
    const bootstrap = BOOTSTRAP_NAMES.has(req.user)
    const stored = bootstrap ? undefined : this.directory?.role(req.user)
    if (enforced) {
      if (!bootstrap && stored === undefined) return refuse(`role "${req.user}" does not exist`)
      if (stored && !stored.login) return refuse(`role "${req.user}" is not permitted to log in`)
      if (!DATABASES.has(req.database)) return { method: 'refuse', code: SqlState.invalidCatalogName, message: `database "${req.database}" does not exist` }
    }
    const superuser = stored?.superuser ?? true
    if (req.certificateUser !== undefined) {
      const named = req.certificateUser === req.user || (bootstrap && BOOTSTRAP_NAMES.has(req.certificateUser))
      return named ? { method: 'trust', superuser } : refuse(`certificate authentication failed for user "${req.user}"`)
    }
    if (stored?.scram) {
      const data = stored.scram
      return { method: 'scram', data: () => Promise.resolve(data), superuser }
    }
    const nodeScram = this.nodeScram
    if (stored === undefined && nodeScram) return { method: 'scram', data: () => nodeScram, superuser }
    if (nodeScram) return { method: 'scram', data: () => createScramSha256Data(randomSecret()), superuser }
    if (isLoopback(req.remoteAddress)) return { method: 'trust', superuser }
    return refuse(noEntry(req))
  }
}

/** PostgreSQL's words when no pg_hba.conf line lets the connection in. */
function noEntry(req: AuthRequest): string {
  return `no pg_hba.conf entry for host "${req.remoteAddress}", user "${req.user}", database "${req.database}", ${req.tls === true ? 'SSL encryption' : 'no encryption'}`
}

function refuse(message: string): AuthDecision {
  return { method: 'refuse', code: SqlState.invalidAuthorizationSpecification, message }
}

function randomSecret(): string {
  return [...globalThis.crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, '0')).join('')
}
