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
 * Invariants: grants are kept by the node that issued them: in memory, and on disk in
 * `<data-dir>/browser-grants.json` (0600; rewritten whole, through a temporary file and a
 * rename, at every issue), so a token works on that node until it expires, across
 * restarts; a node in memory keeps them until it stops. The file holds PeerIds, tables and
 * expiries, never a browser's private key. Loading it trusts only well-formed entries (a
 * damaged file is logged and its grants are lost, never widened). At most MAX_GRANTS are
 * kept, expired ones first to go; a PeerId that ever held a grant stays restricted
 * (refused once expired), never promoted to a full peer, while its grant is kept.
 */
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Logger } from '../log/logger.js'
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
  private readonly file: string | undefined

  /** `file`: where grants are kept across restarts (loaded now); absent: in memory only. */
  constructor(now: () => number = Date.now, file?: string, log?: Logger) {
    this.now = now
    this.file = file
    if (file !== undefined) this.load(file, log)
  }

  /** A token for a new browser identity limited to `tables` for `validSeconds`. */
  issue(tables: string[], validSeconds: number): string {
    const key = newEd25519Key()
    const expires = this.now() + validSeconds * 1000
    this.makeRoom()
    this.grants.set(key.publicKey.toString(), { tables: new Set(tables), expires })
    this.save()
    return encodeBrowserToken(key, tables, expires)
  }

  private save(): void {
    if (this.file === undefined) return
    const entries = [...this.grants].map(([peerId, g]) => ({ peerId, tables: [...g.tables], expires: g.expires }))
    const tmp = `${this.file}.tmp`
    writeFileSync(tmp, JSON.stringify({ version: 1, grants: entries }), { mode: 0o600 })
    renameSync(tmp, this.file)
  }

  private load(file: string, log: Logger | undefined): void {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn(`cannot read ${file} (browser grants): ${(err as Error).message}`)
      return
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = null
    }
    const list = (body as { grants?: unknown } | null)?.grants
    if (!Array.isArray(list)) {
      log?.warn(`${file} is damaged: its browser grants are lost (tokens issued before must be issued again)`)
      return
    }
    let skipped = 0
    for (const e of list.slice(0, MAX_GRANTS) as unknown[]) {
      const o = e as { peerId?: unknown; tables?: unknown; expires?: unknown } | null
      const ok = typeof o?.peerId === 'string' && Array.isArray(o.tables) && o.tables.every((t) => typeof t === 'string') && typeof o.expires === 'number'
      if (!ok) {
        skipped++
        continue
      }
      this.grants.set(o.peerId as string, { tables: new Set(o.tables as string[]), expires: o.expires as number })
    }
    if (skipped > 0) log?.warn(`${file}: ${skipped} malformed browser grant(s) ignored`)
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
