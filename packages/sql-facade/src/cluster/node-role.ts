/**
 * A node's role under the cluster's high-availability mode, decided from the replicated
 * catalog alone (the mode setting and the current primary term), so every node that
 * holds the same catalog gives every node the same role:
 * - multi_master (default): every node is a writable 'master'.
 * - active_passive: the current term's node is the 'primary', every other node a
 *   read-only 'standby'; with no term recorded yet, every node is a standby.
 * Whether a node may become primary depends on its region's roles (CREATE REGION ..
 * WITH (PRIMARY, REPLICA)): a region declared without PRIMARY holds standbys only.
 */
import type { Json } from '@concord/core'
import type { PrimaryTerm } from './primary-term.js'

export type HaMode = 'multi_master' | 'active_passive'
export type NodeRole = 'master' | 'primary' | 'standby'

/** The mode as the high_availability_mode setting stores it ('active_active' is multi_master's older name). */
export function haMode(setting: string | null): HaMode {
  return setting === 'active_passive' ? 'active_passive' : 'multi_master'
}

export function roleOf(mode: HaMode, term: PrimaryTerm | null, nodeId: string): NodeRole {
  if (mode === 'multi_master') return 'master'
  return term !== null && term.nodeId === nodeId ? 'primary' : 'standby'
}

/** Whether a node of `region` may become primary, given the catalog's region record for it (if any). */
export function mayBePrimary(regionRecord: Json | undefined): boolean {
  if (typeof regionRecord !== 'object' || regionRecord === null || Array.isArray(regionRecord)) return true
  const roles = (regionRecord as { roles?: Json }).roles
  if (!Array.isArray(roles) || roles.length === 0) return true
  return roles.some((r) => typeof r === 'string' && r.toUpperCase() === 'PRIMARY')
}
