import { describe, expect, it } from 'vitest'
import type { ColumnInfo, TableInfo } from '@concord/core'
import { columnMeta, sharedColumnMeta, sharedTableMeta, tableMeta } from './table-meta.js'

const column = (meta: unknown): ColumnInfo => ({ name: 'qty', type: 'int4', kind: 'lww', policy: null, meta }) as unknown as ColumnInfo
const table = (meta: unknown): TableInfo => ({ name: 'items', incarnation: 1, columns: [], primaryKey: [], policy: null, regions: null, partitioning: null, options: {}, meta }) as unknown as TableInfo

describe('shared column and table meta', () => {
  it('are what columnMeta and tableMeta say, computed once per column or table', () => {
    const c = column({ t: { id: 'numeric', precision: 10, scale: 2 }, notNull: true, default: { A_Const: { ival: { ival: 1 } } } })
    expect(sharedColumnMeta(c)).toEqual(columnMeta(c))
    expect(sharedColumnMeta(c)).toBe(sharedColumnMeta(c))
    // Another column object (a catalog change makes new ones) gets its own answer.
    const changed = column({ t: { id: 'int8' } })
    expect(sharedColumnMeta(changed).t.id).toBe('int8')
    const t = table({ checks: [], uniques: [['qty']], inherits: ['parent'], temporary: true })
    expect(sharedTableMeta(t)).toEqual(tableMeta(t))
    expect(sharedTableMeta(t)).toBe(sharedTableMeta(t))
  })

  it('cannot be changed by one reader under another, while columnMeta and tableMeta still give copies to edit', () => {
    const c = column({ t: { id: 'int4' }, notNull: false })
    const shared = sharedColumnMeta(c) as { notNull: boolean; t: { precision?: number } }
    expect(() => { shared.notNull = true }).toThrow(TypeError)
    expect(() => { shared.t.precision = 3 }).toThrow(TypeError)
    const own = columnMeta(c)
    own.notNull = true
    expect(sharedColumnMeta(c).notNull).toBe(false)
    const t = table({ inherits: ['a'] })
    const m = sharedTableMeta(t) as { temporary?: boolean; inherits?: string[] }
    expect(() => { m.temporary = true }).toThrow(TypeError)
    expect(() => m.inherits!.push('b')).toThrow(TypeError)
    const edited = tableMeta(t)
    edited.inherits!.push('b')
    expect(sharedTableMeta(t).inherits).toEqual(['a'])
  })
})
