/**
 * SHOW as a relation, so a client's Describe learns its row shape without running it:
 * `SHOW name` is one text column named as PostgreSQL names it (`DateStyle`, `work_mem`),
 * `SHOW ALL` is name, setting and description. Two names are facts about the node
 * rather than settings, for a peer that reaches it over PostgreSQL (node-server's
 * `--join host:port` and subscriptions): `concord.node_id`, its replica's node id, and
 * `concord.p2p_addresses`, one row per libp2p address it listens on.
 */
import type { ColumnBinding } from '../relation/scope.js'
import type { Relation } from '../relation/relation.js'
import { DISPLAY_NAMES, type Settings } from '../settings/settings.js'
import { T } from '../types/sql-type.js'
import { ownEntry } from '../parser/own-entry.js'

/** What the node tells SHOW about itself. */
export interface NodeFacts {
  readonly nodeId: string
  /** The libp2p addresses peers dial; none for a database without a network. */
  p2pAddresses(): string[]
}

function columns(...names: string[]): ColumnBinding[] {
  return names.map((name) => ({ name, table: null, type: T.text }))
}

export function showRelation(name: string, settings: Settings, facts: NodeFacts): Relation {
  const key = name.toLowerCase()
  if (key === 'all') return { columns: columns('name', 'setting', 'description'), rows: () => settings.all().map((r) => [r.name, r.setting, `${r.description} (scope: ${r.scope})`]) }
  if (key === 'concord.node_id') return { columns: columns('node_id'), rows: () => [[facts.nodeId]] }
  if (key === 'concord.p2p_addresses') return { columns: columns('address'), rows: () => facts.p2pAddresses().map((a) => [a]) }
  // Read now, not when the rows are: an unknown name fails even where only the shape is asked for.
  const value = settings.show(name)
  return { columns: columns(ownEntry(DISPLAY_NAMES, key) ?? key), rows: () => [[value]] }
}
