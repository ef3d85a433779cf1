/**
 * Table inheritance (`CREATE TABLE child (..) INHERITS (parent, ..)`) as the catalog holds
 * it: a child's table meta lists its parents by name (`inherits`), in the order given.
 * Unlike a partition, a child keeps its rows in its own storage; a parent's reads (and
 * UPDATE / DELETE / TRUNCATE without ONLY) visit the parent and every descendant, each
 * row projected onto the parent's columns by name (plan/inheritance-scan.ts).
 *
 * Invariants: the hierarchy is acyclic when written (CREATE and ALTER .. INHERIT refuse a
 * cycle), but the catalog merges concurrent changes from other masters, so every walk
 * here is bounded and visits a table once, whatever the stored parent lists say.
 */
import type { TableInfo } from '@concord/core'
import { sharedTableMeta } from './table-meta.js'

/** Deeper hierarchies are not walked (PostgreSQL has no limit; no real schema comes close). */
const MAX_DEPTH = 64

const NO_PARENTS: readonly string[] = Object.freeze([])

/** The parents `t` inherits from, in declaration order (empty for a table that inherits nothing). */
export function parentsOf(t: TableInfo): readonly string[] {
  return sharedTableMeta(t).inherits ?? NO_PARENTS
}

const NO_CHILDREN: readonly TableInfo[] = Object.freeze([])

/**
 * Direct children by parent name, per list of tables, in the list's order. A list is not
 * changed once made (the replica's is kept until its catalog changes), so its index is
 * built once: every UPDATE and DELETE asks for the children of its table.
 */
const childIndexes = new WeakMap<readonly TableInfo[], Map<string, TableInfo[]>>()

function childIndex(tables: readonly TableInfo[]): Map<string, TableInfo[]> {
  let index = childIndexes.get(tables)
  if (index === undefined) {
    index = new Map()
    for (const t of tables) {
      for (const parent of parentsOf(t)) {
        const kids = index.get(parent)
        if (kids === undefined) index.set(parent, [t])
        else if (kids[kids.length - 1] !== t) kids.push(t)
      }
    }
    childIndexes.set(tables, index)
  }
  return index
}

/** The tables that list `name` among their parents (direct children only). */
export function childrenOf(tables: readonly TableInfo[], name: string): readonly TableInfo[] {
  return childIndex(tables).get(name) ?? NO_CHILDREN
}

/** Whether any table inherits from `name`. */
export function hasChildren(tables: readonly TableInfo[], name: string): boolean {
  return childIndex(tables).has(name)
}

/**
 * Every table below `name` in the hierarchy, each once, parents before their children
 * (breadth first: PostgreSQL's find_all_inheritors order). `name` itself is not included.
 */
export function inheritanceDescendants(tables: readonly TableInfo[], name: string): TableInfo[] {
  const seen = new Set<string>([name])
  const out: TableInfo[] = []
  let level = [name]
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = []
    for (const parent of level) {
      for (const child of childrenOf(tables, parent)) {
        if (seen.has(child.name)) continue
        seen.add(child.name)
        out.push(child)
        next.push(child.name)
      }
    }
    level = next
  }
  return out
}

/** Every table above `t` (its parents, their parents ..), each once. */
export function inheritanceAncestors(tables: readonly TableInfo[], t: TableInfo): string[] {
  const out: string[] = []
  let level = parentsOf(t)
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = []
    for (const p of level) {
      if (out.includes(p) || p === t.name) continue
      out.push(p)
      const pt = tables.find((x) => x.name === p)
      if (pt) next.push(...parentsOf(pt))
    }
    level = next
  }
  return out
}
