/**
 * Names qualified by a user schema must never reach code that resolves the last name only:
 * before exec/user-schema-names.ts, `CREATE TABLE s.t` created public.t and `DROP TABLE s.t`
 * dropped it. Answers as PostgreSQL 15 gives them for an empty schema `s`.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

beforeAll(async () => {
  await db.rows('CREATE SCHEMA s')
  await db.rows('CREATE TABLE t (a int)')
  await db.rows('INSERT INTO t VALUES (1)')
})

describe('names in a user schema', () => {
  it('never touch the public table of the same name', async () => {
    expect(await db.code('DROP TABLE s.t')).toBe('42P01')
    expect(await db.code('DROP TABLE IF EXISTS s.t')).toBeUndefined()
    expect(await db.code('INSERT INTO s.t VALUES (2)')).toBe('42P01')
    expect(await db.code('UPDATE s.t SET a = 3')).toBe('42P01')
    expect(await db.code('DELETE FROM s.t')).toBe('42P01')
    expect(await db.code('TRUNCATE s.t')).toBe('42P01')
    expect(await db.code('ALTER TABLE s.t ADD COLUMN b int')).toBe('42P01')
    expect(await db.code("COMMENT ON TABLE s.t IS 'x'")).toBe('42P01')
    expect(await db.code('SELECT * FROM s.t')).toBe('42P01')
    expect(await db.rows('SELECT * FROM t')).toEqual([[1]])
    expect(await db.rows("SELECT count(*)::int FROM information_schema.columns WHERE table_name = 't'")).toEqual([[1]])
  })

  it('are refused when an object would be created there, by whether the schema exists', async () => {
    expect(await db.code('CREATE TABLE s.u (a int)')).toBe('0A000')
    expect(await db.code('CREATE TABLE nosuch.u (a int)')).toBe('3F000')
    expect(await db.code('CREATE VIEW s.v AS SELECT 1')).toBe('0A000')
    expect(await db.code('CREATE SEQUENCE s.q')).toBe('0A000')
    expect(await db.code('CREATE TABLE s.u2 AS SELECT 1 AS a')).toBe('0A000')
    expect(await db.code("CREATE TYPE s.e AS ENUM ('a')")).toBe('0A000')
    expect(await db.code('CREATE DOMAIN nosuch.d AS int')).toBe('3F000')
    expect(await db.code('CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')).toBe('0A000')
    expect(await db.code('SELECT * FROM u')).toBe('42P01')
    expect(await db.code('SELECT * FROM u2')).toBe('42P01')
  })

  it('name no function or type', async () => {
    expect(await db.code("SELECT nosuch.lower('A')")).toBe('3F000')
    expect(await db.code("SELECT s.lower('A')")).toBe('42883')
    expect(await db.code('SELECT 1::s.d')).toBe('42704')
    expect(await db.rows("SELECT pg_catalog.lower('A'), 1::pg_catalog.int4")).toEqual([['a', 1]])
  })

  it('DROP IF EXISTS skips them with PostgreSQL notice and drops the rest', async () => {
    await db.rows('CREATE TABLE w (a int)')
    expect(await db.code('DROP TABLE nosuch.w')).toBe('3F000')
    expect(await db.code('DROP TABLE IF EXISTS nosuch.w, s.w, w')).toBeUndefined()
    expect(await db.code('SELECT * FROM w')).toBe('42P01')
    expect(await db.rows('SELECT * FROM t')).toEqual([[1]])
  })
})
