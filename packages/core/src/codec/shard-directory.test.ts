import { describe, expect, it } from 'vitest'
import { CorruptRecordError, openValue, sealValue } from './checked-record.js'
import { compareShardDirectory, decodeShardDirectory, directoryDamage, encodeShardDirectory } from './shard-directory.js'

describe('shard directory', () => {
  it('round-trips a set of ids, sorted, duplicates once, the empty set too', () => {
    const ids = ['t:3:0', 'catalog', 'p:t:3:0:2', 'ünï', 't:3:0', '']
    const bytes = encodeShardDirectory(ids)
    expect([...decodeShardDirectory(bytes)]).toEqual(['', 'catalog', 'p:t:3:0:2', 't:3:0', 'ünï'])
    expect(decodeShardDirectory(encodeShardDirectory([]))).toEqual(new Set())
  })

  it('refuses a changed byte, a wrong count, an id running past the end, trailing bytes, an id listed twice', () => {
    const good = encodeShardDirectory(['a', 'b'])
    const flipped = Uint8Array.from(good)
    flipped[flipped.length - 1]! ^= 1
    expect(() => decodeShardDirectory(flipped)).toThrow(/checksum mismatch/)
    const payload = Uint8Array.from(openValue(good))
    const reseal = (edit: (p: Uint8Array) => Uint8Array): Uint8Array => sealValue(edit(Uint8Array.from(payload)))
    const cases: Array<[Uint8Array, RegExp]> = [
      [reseal((p) => (p[3] = 3, p)), /ends inside the length of id 2|counts 3 shards/],
      [reseal((p) => (p[3] = 200, p)), /counts 200 shards/],
      [reseal((p) => (p[5] = 9, p)), /id 0 of 9 bytes runs past its end/],
      [reseal((p) => Uint8Array.of(...p, 0)), /1 trailing bytes/],
      [reseal((p) => (p[9] = 'a'.charCodeAt(0), p)), /lists id 1 twice/],
      [reseal((p) => (p[6] = 0xff, p)), /id 0 is not UTF-8/],
      [reseal(() => Uint8Array.of(0, 0)), /shorter than its count/],
    ]
    for (const [bytes, message] of cases) {
      expect(() => decodeShardDirectory(bytes)).toThrow(CorruptRecordError)
      expect(() => decodeShardDirectory(bytes)).toThrow(message)
    }
  })

  it('names a shard listed without a marker (deleted whole) before one with a marker it does not list', () => {
    const listed = new Set(['a', 'b', 'c'])
    expect(directoryDamage(compareShardDirectory(listed, ['a', 'b', 'c']))).toBeNull()
    expect(directoryDamage(compareShardDirectory(listed, ['a', 'c']))).toEqual({ shard: 'b', what: 'the shard directory lists it but its records and marker are gone (the shard was deleted)' })
    expect(directoryDamage(compareShardDirectory(listed, ['a']))?.what).toMatch(/\(and 1 other shard\)$/)
    expect(directoryDamage(compareShardDirectory(listed, ['a', 'b', 'c', 'd']))).toEqual({ shard: 'd', what: 'it has a marker but the shard directory does not list it (a shard was added)' })
  })
})
