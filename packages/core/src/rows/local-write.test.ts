import { describe, expect, it } from 'vitest'
import { encodeEntry } from '../codec/writer-entry.js'
import { tableView } from '../catalog/table-view.js'
import type { ColumnInfo, TableInfo, Value } from '../types.js'
import { freshEntryText, localEntry, type LocalWriteContext } from './local-write.js'
import { NO_INCREMENTS, type RowWrite } from './row-write.js'

const column = (name: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name, type: 'text', kind: 'register', policy: null, meta: null, ...extra })

const info: TableInfo = {
  name: 't',
  incarnation: 1,
  // `renamed` keeps the key it was written under; `readded` was dropped and added again.
  columns: [column('id'), column('a'), column('renamed', { skey: 'old' }), column('readded'), column('b')],
  primaryKey: ['id'],
  policy: null,
  regions: null,
  partitioning: null,
  options: {},
  meta: null,
}

const view = tableView(info, 'last_write_wins', (c) => (c === 'readded' ? 3 : 1))

const noContext: LocalWriteContext = {
  resolvers: undefined as unknown as LocalWriteContext['resolvers'],
  visible: () => [],
  setText: () => {
    throw new Error('no text column here')
  },
}

/** A value of every kind an entry holds, picked by `n`. */
function valueOf(n: number): Value {
  switch (n % 8) {
    case 0:
      return null
    case 1:
      return n * 37 - 1000
    case 2:
      return `text ${n} \u001e\u001f: é`
    case 3:
      return BigInt(n) * 10_000_000_000_000n
    case 4:
      return n % 3 === 0
    case 5:
      return new Uint8Array([n & 255, 0, 15])
    case 6:
      return ''
    default:
      return n / 7
  }
}

describe('the entry of a sole writer starting a plain row', () => {
  it('is the text localEntry and encodeEntry give for it, for every value, default and stored key', () => {
    expect(view.special).toBe(false)
    const names = ['a', 'renamed', 'readded', 'b', 'id', 'gone']
    for (let n = 0; n < 400; n++) {
      const cols = new Map<string, Value>()
      // Columns in varying order and number; `gone` is no column of the view (skipped by both).
      for (let k = 0; k < names.length; k++) if ((n >> k) % 3 !== 0) cols.set(names[(k + n) % names.length]!, valueOf(n + k))
      const dflt = n % 4 === 0 ? new Set([...cols.keys()].filter((_, i) => i % 2 === 0)) : undefined
      const write: RowWrite = { live: true, reset: false, cols, incr: NO_INCREMENTS, ...(dflt ? { dflt } : {}) }
      const hlc = 1_812_345_678_901_234 + n * 65_537
      const cl = 1 + 2 * (n % 3)
      const expected = encodeEntry(localEntry(view, write, 'k', 'w', hlc, cl, false, null, [], noContext))
      expect(freshEntryText(view, write, cl, hlc)).toBe(expected)
    }
  })

  it('is refused for a table with a counter column or for increments', () => {
    const counted = tableView({ ...info, columns: [...info.columns, column('n', { kind: 'counter', type: 'int' })] }, 'last_write_wins', () => 1)
    const write: RowWrite = { live: true, reset: false, cols: new Map([['a', 'x']]), incr: NO_INCREMENTS }
    expect(() => freshEntryText(counted, write, 1, 5)).toThrow(/plain row/)
    expect(() => freshEntryText(view, { ...write, incr: new Map([['b', 1]]) }, 1, 5)).toThrow(/plain row/)
  })
})
