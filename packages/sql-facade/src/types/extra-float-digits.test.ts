/**
 * extra_float_digits was accepted and ignored (floats always printed their shortest exact
 * text): with 0 or below PostgreSQL prints 15 + n (float8) / 6 + n (float4) significant
 * digits. Expected answers are PostgreSQL 15's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

const VALUES = `SELECT (0.1::float8*3)::text, (1e15::float8)::text, (123456789012345678::float8)::text, (1.5e-5::float8)::text,
  (0.1::float4*3::float4)::text, (1234567::float4)::text, (100::float8)::text, array[0.1::float8*3]::text`

describe('extra_float_digits', () => {
  it('prints shortest exact text at its default and %g digits at 0 and below', async () => {
    const s = db.session()
    expect((await s.query(VALUES)).rowArrays).toEqual([
      ['0.30000000000000004', '1e+15', '1.2345678901234568e+17', '1.5e-05', '0.3', '1.234567e+06', '100', '{0.30000000000000004}'],
    ])
    await s.query('SET extra_float_digits = 0')
    expect((await s.query(VALUES)).rowArrays).toEqual([['0.3', '1e+15', '1.23456789012346e+17', '1.5e-05', '0.3', '1.23457e+06', '100', '{0.3}']])
    await s.query('SET extra_float_digits = -3')
    expect((await s.query('SELECT (0.1::float8*3)::text, (1/3::float8)::text')).rowArrays).toEqual([['0.3', '0.333333333333']])
  })

  it('refuses values outside -15 .. 3 with 22023', async () => {
    const s = db.session()
    await expect(s.query('SET extra_float_digits = 4')).rejects.toMatchObject({ code: '22023' })
  })

  it('is per session: another session keeps the default', async () => {
    const a = db.session()
    const b = db.session()
    await a.query('SET extra_float_digits = 0')
    expect((await b.query('SELECT (0.1::float8*3)::text')).rowArrays).toEqual([['0.30000000000000004']])
  })
})
