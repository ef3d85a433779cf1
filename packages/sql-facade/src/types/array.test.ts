import { describe, expect, it } from 'vitest'
import { SqlError } from '../errors/sql-error.js'
import { SqlArray } from './array.js'
import { getElement, getSlice, setElement, setSlice } from './array-subscript.js'
import { formatArrayText, parseArrayText } from './array-text.js'
import { compareValues, groupKey } from './compare.js'
import { Decimal } from './decimal.js'
import { Interval } from './interval.js'
import { decodeUntyped, decodeValue, encodeValue } from './storage-codec.js'
import { formatText, parseText } from './text-format.js'
import type { SqlType } from './sql-type.js'
import type { RtValue } from './value.js'

const intArray: SqlType = { id: 'int4', array: true }
const textArray: SqlType = { id: 'text', array: true }

function parse(text: string, t: SqlType = intArray): SqlArray {
  return parseText(text, t, 0) as SqlArray
}

function fails(fn: () => unknown): { code: string; message: string; detail?: string } {
  try {
    fn()
  } catch (e) {
    if (e instanceof SqlError) return { code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) }
    throw e
  }
  throw new Error('expected an error')
}

describe('array text input and output', () => {
  it('reads dimensions, lower bounds, NULLs and quoted elements', () => {
    const m = parse('{{1,2},{3,NULL}}')
    expect([m.dims, m.lbounds, m.items]).toEqual([[2, 2], [1, 1], [1, 2, 3, null]])
    const b = parse('[0:1][5:5]={{7},{8}}')
    expect([b.dims, b.lbounds, b.items]).toEqual([[2, 1], [0, 5], [7, 8]])
    const t = parse(' { a b , "x\\"y" , "NULL", null, c\\ } ', textArray)
    expect(t.items).toEqual(['a b', 'x"y', 'NULL', null, 'c '])
    expect(parse('{}').ndims).toBe(0)
  })

  it('writes text PostgreSQL reads back, quoting what needs it', () => {
    const t = SqlArray.of(['a', 'b c', '', null, 'NULL', 'x"y', 'a\\b', '{', 'null'])
    const text = formatText(t, textArray)
    expect(text).toBe('{a,"b c","",NULL,"NULL","x\\"y","a\\\\b","{","null"}')
    expect(parse(text!, textArray).items).toEqual(t.items)
    expect(formatText(parse('[0:1]={1,2}'), intArray)).toBe('[0:1]={1,2}')
    expect(formatText(parse('{{{1,2}},{{3,4}}}'), intArray)).toBe('{{{1,2}},{{3,4}}}')
  })

  it('rejects malformed literals with 22P02 and PostgreSQL details', () => {
    expect(fails(() => parse('{1,,2}'))).toEqual({ code: '22P02', message: 'malformed array literal: "{1,,2}"', detail: 'Unexpected "," character.' })
    expect(fails(() => parse('{{1,2},{3}}')).detail).toBe('Multidimensional arrays must have sub-arrays with matching dimensions.')
    expect(fails(() => parse('{{1},2}')).detail).toBe('Unexpected array element.')
    expect(fails(() => parse('{1,{2}}')).detail).toBe('Unexpected "{" character.')
    expect(fails(() => parse('{{}}')).detail).toBe('Unexpected "}" character.')
    expect(fails(() => parse('{1}}')).detail).toBe('Junk after closing right brace.')
    expect(fails(() => parse('{1')).detail).toBe('Unexpected end of input.')
    expect(fails(() => parse('1')).detail).toBe('Array value must start with "{" or dimension information.')
    expect(fails(() => parse('[1:2]={1}')).detail).toBe('Specified array dimensions do not match array contents.')
    expect(fails(() => parse('[2:1]={1}')).code).toBe('2202E')
    expect(fails(() => parse('{{{{{{{1}}}}}}}'))).toEqual({ code: '54000', message: 'number of array dimensions (7) exceeds the maximum allowed (6)' })
    expect(fails(() => parse('{1,x}')).message).toBe('invalid input syntax for type integer: "x"')
  })

  it('prints six nested dimensions in text linear in the element count', () => {
    let a = SqlArray.of([1])
    for (let d = 1; d < 6; d++) a = new SqlArray([1, ...a.dims], [1, ...a.lbounds], a.items)
    expect(formatText(a, intArray)).toBe('{{{{{{1}}}}}}')
    const big = new SqlArray([2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1], Array.from({ length: 64 }, (_v, i) => i))
    const text = formatArrayText(big, String)
    // The elements, 63 commas, and one brace pair per (sub-)array: 1 + 2 + 4 + 8 + 16 + 32.
    expect(text.length).toBe(text.replace(/[{},]/g, '').length + 63 + 2 * 63)
    expect(parseArrayText(text, Number).items).toEqual(big.items)
  })
})

describe('array subscripts', () => {
  const m = parse('{{1,2,3},{4,5,6}}')

  it('reads elements and clipped slices, NULL or empty where PostgreSQL gives them', () => {
    expect(getElement(m, [2, 1])).toBe(4)
    expect(getElement(m, [3, 1])).toBeNull()
    expect(getElement(m, [1])).toBeNull()
    expect(formatText(getSlice(m, [{ lower: 1, upper: 2 }, { lower: 2, upper: 9 }]), intArray)).toBe('{{2,3},{5,6}}')
    expect(getSlice(m, [{ lower: 3, upper: 2 }]).ndims).toBe(0)
    expect(formatText(getSlice(parse('[0:2]={7,8,9}'), [{ lower: null, upper: 1 }]), intArray)).toBe('{7,8}')
  })

  it('grows one-dimensional arrays with NULL padding and refuses to grow others', () => {
    expect(formatText(setElement(parse('{1,2}'), [5], 5), intArray)).toBe('{1,2,NULL,NULL,5}')
    expect(formatText(setElement(parse('{1,2}'), [-1], 0), intArray)).toBe('[-1:2]={0,NULL,1,2}')
    expect(formatText(setElement(null, [3], 9), intArray)).toBe('[3:3]={9}')
    expect(formatText(setSlice(parse('{1,2,3}'), [{ lower: 2, upper: 4 }], SqlArray.of([7, 8, 9])), intArray)).toBe('{1,7,8,9}')
    expect(fails(() => setElement(m, [3, 1], 0)).message).toBe('array subscript out of range')
    expect(fails(() => setSlice(null, [{ lower: null, upper: 2 }], SqlArray.of([1, 2]))).message).toBe('array slice subscript must provide both boundaries')
    expect(fails(() => setSlice(parse('{1,2,3}'), [{ lower: 1, upper: 3 }], SqlArray.of([1]))).message).toBe('source array too small')
  })
})

describe('array ordering and storage', () => {
  it('orders like array_cmp: elements, NULL last, then length, dimensions and bounds', () => {
    expect(compareValues(parse('{1,2}'), parse('{1,3}'))).toBeLessThan(0)
    expect(compareValues(parse('{1,NULL}'), parse('{1,2}'))).toBeGreaterThan(0)
    expect(compareValues(parse('{1,2}'), parse('{1,2,0}'))).toBeLessThan(0)
    expect(compareValues(parse('[0:1]={1,2}'), parse('{1,2}'))).toBeLessThan(0)
    expect(compareValues(parse('{{1,2}}'), parse('{1,2}'))).toBeGreaterThan(0)
    expect(groupKey(parse('[0:1]={1,2}'))).not.toBe(groupKey(parse('{1,2}')))
    expect(groupKey(SqlArray.of(['a\u0001sb']))).not.toBe(groupKey(SqlArray.of(['a', 'b'])))
  })

  it('round-trips every element representation through the stored form', () => {
    const cases: Array<[SqlType, RtValue[]]> = [
      [{ id: 'int8', array: true }, [1n, null, -(2n ** 63n)]],
      [{ id: 'float8', array: true }, [1.5, NaN, -0, Infinity]],
      [{ id: 'numeric', array: true }, [Decimal.parse('12.340'), null]],
      [{ id: 'interval', array: true }, [new Interval(14, 3, 4_000_000)]],
      [{ id: 'bytea', array: true }, [new Uint8Array([0, 255])]],
      [{ id: 'bool', array: true }, [true, false]],
      [textArray, ['', 'a,"b"', null]],
    ]
    for (const [t, items] of cases) {
      const v = SqlArray.of(items)
      const back = decodeValue(encodeValue(v), t) as SqlArray
      expect(formatText(back, t)).toBe(formatText(v, t))
      if (t.id === 'float8') expect(Object.is(back.items[2], -0)).toBe(true)
    }
    const m = parse('[2:3][0:0]={{1},{2}}')
    expect(formatText(decodeValue(encodeValue(m), intArray), intArray)).toBe('[2:3][0:0]={{1},{2}}')
    const seen = decodeUntyped(encodeValue(SqlArray.of(['x'])))
    expect([seen.type, formatText(seen.value, seen.type)]).toEqual([textArray, '{x}'])
  })

  it('rejects a corrupt stored array instead of trusting its counts', () => {
    expect(fails(() => decodeValue('\u0000a1[[3],[1],["n1"]]', intArray)).code).toBe('XX001')
    expect(fails(() => decodeValue('\u0000a9[[1],[1],["n1"]]', intArray)).code).toBe('XX001')
    expect(fails(() => decodeValue('\u0000a1[[1],[1],["q1"]]', intArray)).code).toBe('XX001')
    expect(fails(() => decodeValue('\u0000a1not json', intArray)).code).toBe('XX001')
  })

  it('reads array columns written before the tagged encoding', () => {
    expect(formatText(decodeValue('{1,2}', intArray), intArray)).toBe('{1,2}')
    expect(formatText(decodeValue('["a",null]', textArray), textArray)).toBe('{a,NULL}')
  })
})
