import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's.
describe('LIKE .. ESCAPE matches with the escape character it names', () => {
  it('escapes % and _ with the given character, also when it is _ itself; an empty escape makes backslash plain', async () => {
    expect(await rows(`SELECT 'h%' LIKE 'h#%' ESCAPE '#', 'h%wkeye' NOT LIKE 'h#%%' ESCAPE '#', 'i_dio' LIKE 'i$_d%o' ESCAPE '$',
      'bear' LIKE 'b_ear' ESCAPE '_', 'be_r' LIKE 'b_e__r' ESCAPE '_', 'a\\b' LIKE 'a\\b' ESCAPE '', 'hx' LIKE 'h#%' ESCAPE '#'`))
      .toEqual([[true, false, true, true, true, true, false]])
  })

  it('refuses an escape of two characters, and a pattern ending in its escape once matching reaches it', async () => {
    expect(await code(`SELECT 'a' LIKE 'a' ESCAPE 'xy'`)).toBe('22025')
    expect(await code(`SELECT 'ab' LIKE 'a#' ESCAPE '#'`)).toBe('22025')
    expect(await rows(`SELECT 'a' LIKE 'a#' ESCAPE '#'`)).toEqual([[false]])
  })
})

describe('regexp_replace reads its replacement as PostgreSQL does', () => {
  it('\\\\ is one backslash, \\N a group, \\& the match, and $ is plain text', async () => {
    expect(await rows(`SELECT regexp_replace('foobarrbazz', E'(.)\\\\1', E'X\\\\\\\\Y', 'g'), regexp_replace('abc', '(b)', '[\\1$&\\&]')`))
      .toEqual([['fX\\YbaX\\YbaX\\Y', 'a[b$&b]c']])
  })
})
