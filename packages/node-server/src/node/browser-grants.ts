/**
 * Scoped browser replicas on a node: the grants behind the tokens `concord_browser_token`
 * issues (the token codec is @concord/p2p node/browser-token.ts).
 *
 * Issuing a token creates a fresh libp2p identity and records, under its PeerId, the
 * tables it may read and write and the expiry. A peer connecting as that PeerId is then:
 * admitted even when the member list is on (until the expiry; refused after), kept out
 * of gossip both ways (libp2p-transport.ts `restrictedPeer`), and served and heard only
 * through the replica's peer scope (core replication/peer-scope.ts): rows of its tables
 * and the catalog (table definitions) out, updates to its tables in; anything else it
 * sends is dropped and logged.
 *
 * Invariants: grants live in this process's memory (a token works on the node that issued
 * it, until that node restarts or the token expires); at most MAX_GRANTS are kept, expired
 * ones first to go; a PeerId that ever held a grant stays restricted (refused once
 * expired), never promoted to a full peer.
 */
import { generateKeyPairSync } from 'node:crypto'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { CATALOG_SHARD, parseShardId, type PeerScope } from '@concord/core'
import { encodeBrowserToken } from '@concord/p2p'

const MAX_GRANTS = 10_000

interface Grant {
  tables: ReadonlySet<string>
  expires: number
}

export class BrowserGrants {
  private readonly grants = new Map<string, Grant>()
  private readonly now: () => number

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  /** A token for a new browser identity limited to `tables` for `validSeconds`. */
  issue(tables: string[], validSeconds: number): string {
    const key = newEd25519Key()
    const expires = this.now() + validSeconds * 1000
    this.makeRoom()
    this.grants.set(key.publicKey.toString(), { tables: new Set(tables), expires })
    return encodeBrowserToken(key, tables, expires)
  }

  /** Whether this PeerId holds (or held) a grant: a restricted peer, never a full one. */
  restricted(peerId: string): boolean {
    return this.grants.has(peerId)
  }

  /** Whether this PeerId may connect now (a grant not expired). */
  admits(peerId: string): boolean {
    const g = this.grants.get(peerId)
    return g !== undefined && g.expires > this.now()
  }

  /** The replica-level scope of a granted PeerId (nothing at all once expired); undefined when it holds no grant. */
  scopeOf(peerId: string): PeerScope | undefined {
    const g = this.grants.get(peerId)
    if (g === undefined) return undefined
    const live = (): boolean => g.expires > this.now()
    const ofTable = (shard: string): boolean => live() && g.tables.has(parseShardId(shard)?.table ?? '')
    return {
      reads: (shard) => ofTable(shard) || (live() && shard === CATALOG_SHARD),
      writes: ofTable,
      readsTable: (table) => live() && g.tables.has(table),
    }
  }

  private makeRoom(): void {
    if (this.grants.size < MAX_GRANTS) return
    const now = this.now()
    for (const [id, g] of this.grants) if (g.expires <= now) this.grants.delete(id)
    // Still full of live grants: the oldest goes (Map order is issue order).
    while (this.grants.size >= MAX_GRANTS) this.grants.delete(this.grants.keys().next().value!)
  }
}

/** A libp2p Ed25519 key, made synchronously (a SQL function cannot wait). */
function newEd25519Key(): ReturnType<typeof privateKeyFromRaw> {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  const seed = Buffer.from(jwk.d!, 'base64url')
  const pub = Buffer.from(jwk.x!, 'base64url')
  return privateKeyFromRaw(Buffer.concat([seed, pub]))
}
