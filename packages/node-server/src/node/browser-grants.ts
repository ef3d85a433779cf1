/**
 * Scoped browser replicas on a node: the grants behind the tokens `concord_browser_token`
 * issues (the token codec is @concord/p2p node/browser-token.ts).
 *
 * Issuing a token creates a fresh libp2p identity and records, under its PeerId, the
 * tables it may read and write (or only read), the regions whose shards it may read and
 * write (or only read), and the expiry. A peer connecting as that PeerId is then:
 * admitted even when the member list is on (until the expiry or a revocation; refused
 * after), kept out of gossip both ways (libp2p-transport.ts `restrictedPeer`), and served
 * and heard only through the replica's peer scope (core replication/peer-scope.ts): rows
 * of its tables, of the shards within its regions (core placement/region-scope.ts: a
 * homed table's shards of those home regions, tables whose regions all are among them)
 * and the catalog (table definitions) out, updates to those (not to read-only tables, nor
 * to shards within its read-only regions only: core region-scope.ts `regionAccess`) in;
 * anything else it sends is dropped and logged. The secrets shard (role verifiers) is
 * neither sent nor taken (docs/decisions/0034-role-secrets-off-browsers.md).
 *
 * Grants live in the replicated catalog (`('browser_grant', <browser PeerId>)`: tables,
 * read-only tables, regions, read-only regions, expiry, issuer PeerId, the issuer's
 * signature; browser-grant-signature.ts), so every
 * member node honours a token whichever member issued it, and they survive restarts with
 * the catalog. A grant counts only while its signature verifies against the issuer's
 * PeerId and the issuer is a live admin member (`issuerTrusted`): a grant written by
 * anyone else, or by a member since removed or demoted, admits nobody. Revoking rewrites
 * the entry with `revoked: true` (concord_revoke_browser_token), which reaches every node
 * like any catalog change; a node then refuses the identity and closes its connections.
 *
 * Invariants: the in-memory view is rebuilt from the catalog after every change of grants
 * or members, never edited by hand; a PeerId with any entry (valid, revoked, expired,
 * badly signed) stays restricted (never promoted to a full peer); a scope asks the current
 * view on every use, so an expiry or revocation empties open scopes at once. The catalog
 * never holds a browser's private key (only the token does).
 */
import { generateKeyPairSync } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { CATALOG_SHARD, parseShardId, regionAccess, tableWithinRegions, type Json, type PeerScope, type Replica } from '@concord/core'
import { decodeBrowserToken, encodeBrowserToken } from '@concord/p2p'
import { BROWSER_GRANT_KIND, SqlError, SqlState } from '@concord/sql-facade'
import { signGrant, verifyGrant, type SignedGrant } from './browser-grant-signature.js'
import type { Logger } from '../log/logger.js'

/** Grants read from the catalog at most (the newest expiries kept beyond it). */
const MAX_GRANTS = 10_000
/** Expired grants older than this are deleted from the catalog when a new one is issued. */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000
/** Expired grants deleted per issue, so one issue stays a small write. */
const PRUNE_PER_ISSUE = 64
const MAX_TABLE_NAME = 256
/** Regions a grant names at most, read-write and read-only together (as a token carries). */
const MAX_REGIONS = 64
/** Refused browser PeerIds logged per node. */
const MAX_LOGGED = 1024

interface Grant {
  tables: ReadonlySet<string>
  /** Tables it may read but not write. */
  readOnly: ReadonlySet<string>
  /** Regions whose shards it may read: its read-write and read-only regions (region-scope.ts `regionAccess`). */
  readsRegions: ReadonlySet<string>
  /** Regions whose shards it may also write. */
  writesRegions: ReadonlySet<string>
  expires: number
  /** Signed by a trusted issuer and not revoked. */
  valid: boolean
  revoked: boolean
}

/** What issuing needs of the node: its identity and who may issue. */
export interface GrantIssuer {
  peerId: string
  key: PrivateKey
  /** Whether grants signed by this PeerId count (a live admin member). */
  trusted(peerId: string): boolean
}

export class BrowserGrants {
  private grants = new Map<string, Grant>()
  private readonly now: () => number
  private replica: Replica | undefined
  private issuer: GrantIssuer | undefined
  private readonly logged = new Set<string>()
  /** Signature checks of the grants read last, by everything signed and the signature. */
  private verified = new Map<string, boolean>()

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  /** Starts reading grants from the replica's catalog (call `refresh` after changes of grants or members). */
  attach(replica: Replica, issuer: GrantIssuer): void {
    this.replica = replica
    this.issuer = issuer
    this.refresh()
  }

  refresh(): void {
    const replica = this.replica
    const issuer = this.issuer
    if (replica === undefined || issuer === undefined) return
    const next = new Map<string, Grant>()
    const entries = replica.listCatalog(BROWSER_GRANT_KIND)
    const verified = new Map<string, boolean>()
    const check = (g: SignedGrant, sig: string): boolean => {
      // A signature is verified once per signed content (a refresh follows every change of grants or members).
      const key = JSON.stringify([g.browser, g.issuer, g.expires, g.tables, g.readOnly ?? [], g.regions ?? [], g.readOnlyRegions ?? [], sig])
      let ok = this.verified.get(key)
      if (ok === undefined) ok = verifyGrant(g, sig)
      verified.set(key, ok)
      return ok
    }
    for (const [browser, v] of entries.length > MAX_GRANTS ? newest(entries) : entries) {
      const g = decodeGrant(browser, v, issuer.trusted, check)
      if (g !== null) next.set(browser, g)
    }
    this.grants = next
    this.verified = verified
  }

  /**
   * A token for a new browser identity limited to reading and writing `tables` and the
   * shards within `regions`, and reading `readOnly` and the shards within
   * `readOnlyRegions`, for `validSeconds`, recorded in the catalog.
   */
  issue(tables: string[], validSeconds: number, readOnly: string[] = [], regions: string[] = [], readOnlyRegions: string[] = []): string {
    const replica = this.replica
    const issuer = this.issuer
    if (replica === undefined || issuer === undefined) throw new SqlError(SqlState.objectNotInPrerequisiteState, 'this node issues no browser tokens (no libp2p identity)')
    const key = newEd25519Key()
    const browser = key.publicKey.toString()
    const expires = this.now() + validSeconds * 1000
    const sig = signGrant(issuer.key, { browser, tables, readOnly, regions, readOnlyRegions, expires, issuer: issuer.peerId })
    const now = this.now()
    replica.transact((tx) => {
      tx.setCatalog(BROWSER_GRANT_KIND, browser, {
        tables,
        ...(readOnly.length > 0 ? { readOnly } : {}),
        ...(regions.length > 0 ? { regions } : {}),
        ...(readOnlyRegions.length > 0 ? { readOnlyRegions } : {}),
        expires,
        issuer: issuer.peerId,
        sig,
      })
      let pruned = 0
      for (const [id, g] of this.grants) {
        if (pruned >= PRUNE_PER_ISSUE) break
        if (g.expires + KEEP_EXPIRED_MS < now) {
          tx.setCatalog(BROWSER_GRANT_KIND, id, null)
          pruned++
        }
      }
    })
    this.refresh()
    return encodeBrowserToken(key, tables, expires, readOnly, regions, readOnlyRegions)
  }

  /** Revokes the grant of a token (or of its id, the browser PeerId) on every node; false when already revoked, 42704 when unknown. */
  revoke(tokenOrId: string): boolean {
    const replica = this.replica
    if (replica === undefined) throw new SqlError(SqlState.objectNotInPrerequisiteState, 'this node has no browser grants (no libp2p identity)')
    let browser = tokenOrId
    if (tokenOrId.startsWith('concord-browser-')) {
      try {
        browser = decodeBrowserToken(tokenOrId).peerId
      } catch {
        throw new SqlError(SqlState.invalidParameterValue, 'not a valid browser token')
      }
    }
    const stored = replica.getCatalog(BROWSER_GRANT_KIND, browser)
    if (stored === undefined || typeof stored !== 'object' || stored === null || Array.isArray(stored)) {
      throw new SqlError(SqlState.undefinedObject, `browser token "${browser.slice(0, 80)}" was not issued in this cluster`)
    }
    if ((stored as Record<string, Json>)['revoked'] === true) return false
    replica.transact((tx) => tx.setCatalog(BROWSER_GRANT_KIND, browser, { ...(stored as Record<string, Json>), revoked: true }))
    this.refresh()
    return true
  }

  /** Whether this PeerId holds (or held) a grant: a restricted peer, never a full one. */
  restricted(peerId: string): boolean {
    return this.grants.has(peerId)
  }

  /** Whether this PeerId may connect now (a valid grant, not expired, not revoked). */
  admits(peerId: string): boolean {
    const g = this.grants.get(peerId)
    return g !== undefined && g.valid && g.expires > this.now()
  }

  /** `admits`, logging each refused PeerId once (a revoked or expired browser keeps redialing). */
  admitsOrLog(peerId: string, log: Logger): boolean {
    if (this.admits(peerId)) return true
    if (!this.logged.has(peerId) && this.logged.size < MAX_LOGGED) {
      this.logged.add(peerId)
      const g = this.grants.get(peerId)
      log.warn(`refused peer ${peerId}: its browser token ${g?.revoked ? 'was revoked' : g !== undefined && g.expires <= this.now() ? 'expired' : 'is not signed by an admin member'}`)
    }
    return false
  }

  /** The replica-level scope of a granted PeerId (nothing at all once expired or revoked); undefined when it holds no grant. */
  scopeOf(peerId: string): PeerScope | undefined {
    const g = this.grants.get(peerId)
    if (g === undefined) return undefined
    const current = (): Grant | undefined => (this.admits(peerId) ? this.grants.get(peerId) : undefined)
    const writesTable = (table: string): boolean => current()?.tables.has(table) === true
    const readsTable = (table: string): boolean => {
      const c = current()
      return c !== undefined && (c.tables.has(table) || c.readOnly.has(table))
    }
    // Shards within all its regions are read, those within its read-write ones written (region-scope.ts); none without regions.
    const inRegions = (shard: string, which: 'readsRegions' | 'writesRegions'): boolean => {
      const regions = current()?.[which]
      return regions !== undefined && regions.size > 0 && this.replica?.shardWithinRegions(shard, regions) === true
    }
    const regionTable = (table: string): boolean => {
      const regions = current()?.readsRegions
      const info = regions !== undefined && regions.size > 0 ? this.replica?.table(table) : undefined
      return info !== undefined && tableWithinRegions(info, regions!)
    }
    // Of the system shards only the catalog is read (table definitions, so its SQL layer
    // works); the secrets shard (role verifiers) never, and neither is ever written.
    const tableOf = (shard: string): string | undefined => parseShardId(shard)?.table
    return {
      reads: (shard) => (shard === CATALOG_SHARD ? current() !== undefined : tableOf(shard) !== undefined && (readsTable(tableOf(shard)!) || inRegions(shard, 'readsRegions'))),
      // A table the token names read-only stays read-only within its regions too.
      writes: (shard) => tableOf(shard) !== undefined && (writesTable(tableOf(shard)!) || (inRegions(shard, 'writesRegions') && current()?.readOnly.has(tableOf(shard)!) !== true)),
      readsTable: (table) => readsTable(table) || regionTable(table),
    }
  }
}

/** A stored grant; null when the entry is not one at all (then the PeerId is not even restricted). */
function decodeGrant(browser: string, v: Json, trusted: (peerId: string) => boolean, verify: (g: SignedGrant, sig: string) => boolean): Grant | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const o = v as Record<string, Json>
  const names = (x: Json | undefined): string[] => (Array.isArray(x) ? x.filter((t): t is string => typeof t === 'string' && t.length <= MAX_TABLE_NAME) : [])
  const tables = names(o['tables'])
  const readOnly = names(o['readOnly'])
  const regions = names(o['regions']).slice(0, MAX_REGIONS)
  const readOnlyRegions = names(o['readOnlyRegions']).slice(0, MAX_REGIONS - regions.length)
  const expires = typeof o['expires'] === 'number' ? o['expires'] : 0
  const issuer = typeof o['issuer'] === 'string' ? o['issuer'] : ''
  const sig = typeof o['sig'] === 'string' ? o['sig'] : ''
  const revoked = o['revoked'] === true
  const named = tables.length + readOnly.length + regions.length + readOnlyRegions.length
  const signed = named > 0 && trusted(issuer) && verify({ browser, tables, readOnly, regions, readOnlyRegions, expires, issuer }, sig)
  const access = regionAccess(regions, readOnlyRegions)
  return { tables: new Set(tables), readOnly: new Set(readOnly), readsRegions: access.reads, writesRegions: access.writes, expires, valid: signed && !revoked, revoked }
}

/** The MAX_GRANTS entries that expire last. */
function newest(entries: Array<[string, Json]>): Array<[string, Json]> {
  const expiry = (v: Json): number => (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v['expires'] === 'number' ? v['expires'] : 0)
  return [...entries].sort((a, b) => expiry(b[1]) - expiry(a[1])).slice(0, MAX_GRANTS)
}

/** A libp2p Ed25519 key, made synchronously (a SQL function cannot wait). */
function newEd25519Key(): ReturnType<typeof privateKeyFromRaw> {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  const seed = Buffer.from(jwk.d!, 'base64url')
  const pub = Buffer.from(jwk.x!, 'base64url')
  return privateKeyFromRaw(Buffer.concat([seed, pub]))
}
