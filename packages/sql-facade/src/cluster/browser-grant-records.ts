/**
 * Browser grants as the replicated catalog holds them: `('browser_grant', <browser PeerId>)`
 * with the tables (read and written), the read-only tables (`readOnly`, absent when none),
 * the regions whose shards are read and written (`regions`, absent when none), those whose
 * shards are only read (`readOnlyRegions`, absent when none), the expiry (ms), the issuing node's PeerId, its signature and, once
 * revoked, `revoked: true`. The node server writes and verifies them (node-server
 * browser-grants.ts); this layer only names the kind and reads entries for
 * concord_browser_grants, without judging signatures.
 */
import type { Json } from '@concord/core'

export const BROWSER_GRANT_KIND = 'browser_grant'

export interface BrowserGrantRecord {
  /** The token's id: the browser identity's PeerId. */
  id: string
  tables: string[]
  /** Tables the browser may only read. */
  readOnly: string[]
  /** Regions whose shards the browser may read and write. */
  regions: string[]
  /** Regions whose shards the browser may only read. */
  readOnlyRegions: string[]
  expires: number
  issuer: string
  revoked: boolean
}

/** Every entry, in id order (malformed fields read as empty). */
export function listBrowserGrants(source: { listCatalog(kind: string): Array<[string, Json]> }): BrowserGrantRecord[] {
  const out: BrowserGrantRecord[] = []
  for (const [id, v] of source.listCatalog(BROWSER_GRANT_KIND)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue
    const names = (x: Json | undefined): string[] => (Array.isArray(x) ? x.filter((t): t is string => typeof t === 'string') : [])
    out.push({
      id,
      tables: names(v['tables']),
      readOnly: names(v['readOnly']),
      regions: names(v['regions']),
      readOnlyRegions: names(v['readOnlyRegions']),
      expires: typeof v['expires'] === 'number' ? v['expires'] : 0,
      issuer: typeof v['issuer'] === 'string' ? v['issuer'] : '',
      revoked: v['revoked'] === true,
    })
  }
  return out
}
