/**
 * concord_browser_grants: the browser tokens issued in the cluster (cluster/browser-grant
 * -records.ts): the token id (the browser's PeerId, what concord_revoke_browser_token
 * takes), its tables (comma-separated), its read-only tables (likewise), its regions
 * (likewise), its read-only regions (likewise), expiry, issuing node's PeerId and whether it was
 * revoked. Superusers only see rows: a token id is not a credential, but who may use
 * which tables is the administrators' business. Signatures are checked by the nodes when
 * a browser connects, not here.
 */
import { view } from '../runtime/system-view.js'
import { T } from '../types/sql-type.js'
import { listBrowserGrants } from '../cluster/browser-grant-records.js'

export const browserGrantsView = view(
  [['id', T.text], ['tables', T.text], ['read_only_tables', T.text], ['regions', T.text], ['read_only_regions', T.text], ['expires', T.timestamptz], ['issuer', T.text], ['revoked', T.bool]],
  ({ replica, exec }) => {
    if (!exec.role.superuser) return []
    return listBrowserGrants(replica).map((g) => [g.id, g.tables.join(','), g.readOnly.join(','), g.regions.join(','), g.readOnlyRegions.join(','), g.expires * 1000, g.issuer, g.revoked])
  },
)
