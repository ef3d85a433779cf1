/**
 * Where a role's SCRAM-SHA-256 verifier lives: in the secrets shard (core
 * `Transaction.setSecret`, kind `role_secret`, named by the role's OID), never in its
 * catalog record, which scoped browser replicas receive
 * (docs/decisions/0034-role-secrets-off-browsers.md).
 *
 * A role record's `password` is then one of:
 * - null: no password;
 * - `VERIFIER_ELSEWHERE`: the verifier is the role's secret. It is itself a well-formed
 *   verifier that no password matches (its keys are hashes of a sentence, not of a salted
 *   password), so a node of an earlier version, which reads `password` as the verifier,
 *   refuses every password for the role instead of taking it as a role without one; and
 *   so does this version while the secret has not arrived;
 * - any other verifier: written by an earlier version (or one still running in the
 *   cluster). It is used as it is, and moved to the secrets shard by the next write of
 *   the role or by `moveRoleVerifiers` (run when a node that may write roles starts).
 *
 * Role records are written with `replaceCatalog`: the catalog keeps one entry per (object,
 * writing node), and an entry another node wrote earlier (an older password's verifier,
 * from an earlier version) would otherwise stay in the catalog's state, sent to browsers,
 * whatever the record resolves to now.
 *
 * Invariants: a record written here never holds a real verifier; a role's secret is
 * written or deleted in the same transaction as its record, so both reach peers together.
 */
import type { Json } from '@concord/core'
import { decodeRole, ROLE_KIND, roleJson, type RoleRecord } from './role-record.js'

export const ROLE_SECRET_KIND = 'role_secret'

/** `SCRAM-SHA-256$4096:base64("concord: secrets")$sha256(..StoredKey..):sha256(..ServerKey..)`. */
export const VERIFIER_ELSEWHERE =
  'SCRAM-SHA-256$4096:Y29uY29yZDogc2VjcmV0cw==$ZseiqYKOEzfXfGOcrAPiA5rjnAY+48V7A8++K6xrQSI=:xTPG3A/PRdPnUcvk+K3jhd75jHb77pR3tyR+SErez1k='

/** What reading a role's secret needs: a transaction or the replica. */
export interface SecretSource {
  getSecret(kind: string, name: string): string | undefined
}

/** What writing a role needs of a transaction. */
export interface RoleWriter {
  replaceCatalog(kind: string, name: string, value: Json | null): void
  setSecret(kind: string, name: string, value: string | null): void
}

const secretName = (oid: number): string => String(oid)

/**
 * Writes a role's record; a verifier in `r.password` goes to the secrets shard and the
 * record keeps `VERIFIER_ELSEWHERE`; a null password deletes the secret.
 */
export function storeRole(tx: RoleWriter, r: RoleRecord): void {
  if (r.password !== VERIFIER_ELSEWHERE) tx.setSecret(ROLE_SECRET_KIND, secretName(r.oid), r.password)
  tx.replaceCatalog(ROLE_KIND, r.name, roleJson({ ...r, password: r.password === null ? null : VERIFIER_ELSEWHERE }))
}

/** Deletes a role's record under `name` (DROP ROLE, or the old name of a rename); `oid`: its secret too. */
export function deleteRole(tx: RoleWriter, name: string, oid?: number): void {
  tx.replaceCatalog(ROLE_KIND, name, null)
  if (oid !== undefined) tx.setSecret(ROLE_SECRET_KIND, secretName(oid), null)
}

/**
 * The verifier a role authenticates against; null when it has no password. A secret not
 * held here (not arrived yet, or a scoped browser replica, which never has one) gives
 * `VERIFIER_ELSEWHERE`, which no password matches.
 */
export function roleVerifier(source: SecretSource, r: RoleRecord): string | null {
  if (r.password !== VERIFIER_ELSEWHERE) return r.password
  return source.getSecret(ROLE_SECRET_KIND, secretName(r.oid)) ?? VERIFIER_ELSEWHERE
}

/** Whether a stored role value holds a real verifier (an earlier version's record). */
function holdsVerifier(name: string, v: Json): boolean {
  const p = decodeRole(name, v)?.password
  return p !== undefined && p !== null && p !== VERIFIER_ELSEWHERE
}

/**
 * Moves every verifier still kept in the catalog to the secrets shard; returns the names
 * of the role records rewritten. `entries` (Replica.catalogEntryValues of `role`): every
 * node's value of each role record, dead ones included; with it, records whose older
 * entries hold a verifier are rewritten too, which deletes those entries.
 */
export function moveRoleVerifiers(tx: RoleWriter & { listCatalog(kind: string): Array<[string, Json]> }, entries: Array<[string, Json[]]> = []): string[] {
  const moved: string[] = []
  const live = new Map(tx.listCatalog(ROLE_KIND))
  const stale = new Set(entries.filter(([name, values]) => values.some((v) => holdsVerifier(name, v))).map(([name]) => name))
  for (const [name, v] of live) {
    const r = decodeRole(name, v)
    if (r === null || !(holdsVerifier(name, v) || stale.has(name))) continue
    storeRole(tx, r)
    moved.push(name)
  }
  // Roles dropped while an entry of theirs held a verifier: the record stays deleted, without it.
  for (const name of stale) {
    if (live.has(name)) continue
    deleteRole(tx, name)
    moved.push(name)
  }
  return moved
}
