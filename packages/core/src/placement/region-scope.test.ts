import { describe, expect, it } from 'vitest'
import type { TableInfo } from '../types.js'
import { homePartition } from './row-homing.js'
import { shardWithinRegions, tableWithinRegions } from './region-scope.js'

const table = (regions: string[] | null, options: Record<string, string> = {}): TableInfo => ({
  name: 't', incarnation: 1, columns: [], primaryKey: ['id'], policy: null, regions, partitioning: null, options, meta: null,
})
const eu = new Set(['eu'])

describe('region scopes', () => {
  it('hold a table whose regions all are in the scope, not one that also lives elsewhere or everywhere', () => {
    expect(tableWithinRegions(table(['eu']), eu)).toBe(true)
    expect(tableWithinRegions(table(['eu', 'us']), eu)).toBe(false)
    expect(tableWithinRegions(table(['eu', 'us']), new Set(['eu', 'us']))).toBe(true)
    expect(tableWithinRegions(table(['us']), eu)).toBe(false)
    expect(tableWithinRegions(table(null), eu)).toBe(false)
    expect(tableWithinRegions(table([]), eu)).toBe(false)
    expect(shardWithinRegions(table(['eu']), 0, false, eu)).toBe(true)
    expect(shardWithinRegions(table(['eu']), 3, false, eu)).toBe(true)
  })

  it('hold a homed table\'s shard of each home region in the scope only', () => {
    const homed = table(null, { home_region_column: 'region' })
    expect(shardWithinRegions(homed, homePartition('eu'), false, eu)).toBe(true)
    expect(shardWithinRegions(homed, homePartition('us'), false, eu)).toBe(false)
    expect(shardWithinRegions(homed, 0, false, eu)).toBe(false)
    // A homed table is never held whole by a region scope (its other regions' rows).
    expect(tableWithinRegions(homed, eu)).toBe(false)
    // Homed, but limited to regions: a home shard outside them holds nothing.
    expect(shardWithinRegions(table(['us'], { home_region_column: 'region' }), homePartition('eu'), false, eu)).toBe(false)
  })

  it('hold nothing it cannot judge: a placed shard, an unknown table, an empty scope', () => {
    expect(shardWithinRegions(table(['eu']), 0, true, eu)).toBe(false)
    expect(shardWithinRegions(undefined, 0, false, eu)).toBe(false)
    expect(shardWithinRegions(table(['eu']), 0, false, new Set())).toBe(false)
  })
})
