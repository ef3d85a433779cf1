import { describe, expect, it } from 'vitest'
import type { TableInfo } from '../types.js'
import { homePartition } from './row-homing.js'
import { regionAccess, shardWithinRegions, tableWithinRegions } from './region-scope.js'

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

describe('region scopes with read-only regions', () => {
  const scoped = (info: TableInfo, partition: number, access: ReturnType<typeof regionAccess>): [boolean, boolean] =>
    [shardWithinRegions(info, partition, false, access.reads), shardWithinRegions(info, partition, false, access.writes)]

  it('read the shards within a read-only region and write none of them', () => {
    const readOnlyEu = regionAccess([], ['eu'])
    expect(scoped(table(['eu']), 0, readOnlyEu)).toEqual([true, false])
    const homed = table(null, { home_region_column: 'region' })
    expect(scoped(homed, homePartition('eu'), readOnlyEu)).toEqual([true, false])
    expect(scoped(homed, homePartition('us'), readOnlyEu)).toEqual([false, false])
    expect(scoped(table(['us']), 0, readOnlyEu)).toEqual([false, false])
    expect(scoped(table(null), 0, readOnlyEu)).toEqual([false, false])
  })

  it('read a table placed across read-write and read-only regions, and write it only when every region is read-write', () => {
    const writesEuReadsUs = regionAccess(['eu'], ['us'])
    expect(scoped(table(['eu', 'us']), 0, writesEuReadsUs)).toEqual([true, false])
    expect(scoped(table(['eu']), 0, writesEuReadsUs)).toEqual([true, true])
    expect(scoped(table(['us']), 0, writesEuReadsUs)).toEqual([true, false])
    expect(tableWithinRegions(table(['eu', 'us']), writesEuReadsUs.reads)).toBe(true)
    expect(tableWithinRegions(table(['eu', 'us']), writesEuReadsUs.writes)).toBe(false)
  })

  it('make a region named both read-write and read-only read only (a scope never widens on doubt)', () => {
    const both = regionAccess(['eu'], ['eu'])
    expect([...both.reads]).toEqual(['eu'])
    expect(both.writes.size).toBe(0)
    expect(scoped(table(['eu']), 0, both)).toEqual([true, false])
  })
})
