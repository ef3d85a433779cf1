/**
 * Where a write refused for rows routed to placed partitions goes: the nodes other than
 * this one holding every shard its rows route to (a placed shard's nodes; one without a
 * placement, every live node of the table's regions), or 0A000 naming the shards when no
 * node holds them all. The whole path runs in shard-location.test.ts.
 */
import { RowsPlacedElsewhere, type RoutedPart, type TableInfo } from '@concord/core'
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { refusedPlacedWrite, type PlacedHost } from './placed-write-forwarding.js'

const info = { name: 'orders', regions: ['us-west', 'eu-central'], partitioning: { method: 'hash', columns: ['id'] }, primaryKey: ['id'] } as unknown as TableInfo
const names = { table: (n: string) => (n === 'orders' ? info : undefined) } as never
const member = (nodeId: string, region: string, departed = false) => ({ nodeId, region, since: 0, departed })
const host: PlacedHost = {
  nodeId: 'u2',
  members: () => [member('u1', 'us-west'), member('u2', 'us-west'), member('e1', 'eu-central'), member('e2', 'eu-central'), member('x', 'ap', false), member('e3', 'eu-central', true)],
}
const on = (location: string, nodes: string[]) => ({ location, nodes, regions: [] })
const refusal = (parts: RoutedPart[]) => new RowsPlacedElsewhere(info, parts.find((p) => p.placement !== null) as never, parts, 'u2')

describe('a write refused for rows routed to placed partitions', () => {
  it('goes to the nodes holding every shard its rows route to', () => {
    expect(refusedPlacedWrite(refusal([{ partition: 0, placement: on('u1', ['u1']) }]), names, host)).toMatchObject({ nodes: ['u1'], where: 'partition 0 (placed on u1)' })
    // With a shard every node of the table's regions holds (not x: outside them; not e3: departed).
    expect(refusedPlacedWrite(refusal([{ partition: 2, placement: null }, { partition: 1, placement: on('eu-central', ['e1', 'e2']) }]), names, host)?.nodes).toEqual(['e1', 'e2'])
    expect(refusedPlacedWrite(refusal([{ partition: 1, placement: on('eu-central', ['e1', 'e2']) }, { partition: 3, placement: on('e2', ['e2', 'u2']) }]), names, host)?.nodes).toEqual(['e2'])
  })

  it('is refused with 0A000 naming the shards when no node holds them all', () => {
    let err: { code?: string; message: string } | undefined
    try {
      refusedPlacedWrite(refusal([{ partition: 0, placement: on('u1', ['u1']) }, { partition: 1, placement: on('eu-central', ['e1', 'e2']) }]), names, host)
    } catch (e) {
      err = e as { code?: string; message: string }
    }
    expect(err?.code).toBe(SqlState.featureNotSupported)
    expect(err?.message).toContain('partition 0 (placed on u1), partition 1 (placed on eu-central)')
    expect(err?.message).toContain('nothing was written')
  })
})
