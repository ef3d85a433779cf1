import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'
import type { Session } from '../session/session.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
let clerk: Session

beforeEach(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE staff (id INT PRIMARY KEY, name TEXT, salary INT, status TEXT)')
  await db.query(`INSERT INTO staff VALUES (1, 'ann', 100, 'in'), (2, 'bo', 200, 'out')`)
  await db.query('CREATE TABLE other (id INT PRIMARY KEY, salary INT)')
  await db.query('CREATE ROLE clerk LOGIN')
  await db.query('GRANT SELECT (id, name, status), UPDATE (status), INSERT (id, name) ON staff TO clerk')
  clerk = db.session({ user: 'clerk' })
})

afterEach(async () => {
  await db.close()
})

describe('column privileges (GRANT privilege (column, ..) ON table)', () => {
  it('reads the granted columns only: a statement naming another column, or *, is 42501', async () => {
    expect((await clerk.query('SELECT id, name FROM staff ORDER BY id')).rows).toEqual([{ id: 1, name: 'ann' }, { id: 2, name: 'bo' }])
    expect((await clerk.query(`SELECT count(*)::int AS n FROM staff WHERE status = 'in'`)).rows).toEqual([{ n: 1 }])
    for (const sql of ['SELECT salary FROM staff', 'SELECT * FROM staff', 'SELECT staff FROM staff', 'SELECT s.* FROM staff s', 'SELECT name FROM staff WHERE salary > 150',
      'SELECT id FROM staff ORDER BY salary', 'SELECT x.a FROM staff AS x(a, b, c, d)', 'SELECT row_to_json(staff) FROM staff']) {
      expect(await sqlState(clerk, sql), sql).toBe('42501')
    }
  })

  it('updates and inserts the granted columns only', async () => {
    await clerk.query(`UPDATE staff SET status = 'away' WHERE id = 1`)
    expect((await db.query('SELECT status FROM staff WHERE id = 1')).rows).toEqual([{ status: 'away' }])
    expect(await sqlState(clerk, 'UPDATE staff SET salary = 0 WHERE id = 1')).toBe('42501')
    expect(await sqlState(clerk, `UPDATE staff SET status = 'x' WHERE salary > 0`)).toBe('42501')
    await clerk.query(`INSERT INTO staff (id, name) VALUES (3, 'cy')`)
    expect(await sqlState(clerk, `INSERT INTO staff (id, name, salary) VALUES (4, 'di', 1)`)).toBe('42501')
    expect(await sqlState(clerk, `INSERT INTO staff VALUES (5, 'ed', 1, 'in')`)).toBe('42501')
    expect(await sqlState(clerk, 'DELETE FROM staff WHERE id = 3')).toBe('42501')
    expect((await db.query('SELECT id, salary FROM staff ORDER BY id')).rows).toEqual([{ id: 1, salary: 100 }, { id: 2, salary: 200 }, { id: 3, salary: null }])
  })

  it('shows them in has_column_privilege and pg_attribute.attacl, and a table REVOKE takes them back', async () => {
    const has = await db.query(`SELECT has_column_privilege('clerk', 'staff', 'name', 'SELECT') AS a, has_column_privilege('clerk', 'staff', 'salary', 'SELECT') AS b,
      has_table_privilege('clerk', 'staff', 'SELECT') AS c`)
    expect(has.rows).toEqual([{ a: true, b: false, c: false }])
    const acl = await db.query(`SELECT attname, attacl::text AS acl FROM pg_attribute WHERE attrelid = 'staff'::regclass AND attnum > 0 ORDER BY attnum`)
    expect(acl.rows).toEqual([
      { attname: 'id', acl: '{clerk=ar/concord}' }, { attname: 'name', acl: '{clerk=ar/concord}' }, { attname: 'salary', acl: null }, { attname: 'status', acl: '{clerk=rw/concord}' },
    ])
    await db.query('REVOKE SELECT ON staff FROM clerk')
    expect(await sqlState(clerk, 'SELECT id FROM staff')).toBe('42501')
    await clerk.query(`UPDATE staff SET status = 'x'`)
    await db.query('REVOKE UPDATE (status) ON staff FROM clerk')
    expect(await sqlState(clerk, `UPDATE staff SET status = 'y'`)).toBe('42501')
  })

  it('refuses what PostgreSQL refuses', async () => {
    expect(await sqlState(db, 'GRANT DELETE (id) ON staff TO clerk')).toBe('0LP01')
    expect(await sqlState(db, 'GRANT SELECT (nope) ON staff TO clerk')).toBe('42703')
    // Held without the grant option: a warning, as PostgreSQL 15 (WITH GRANT OPTION: column-grant-option.test.ts).
    expect((await clerk.query('GRANT SELECT (id) ON staff TO PUBLIC')).notices).toEqual(['no privileges were granted for column "id" of relation "staff"'])
    expect(await sqlState(clerk, 'GRANT SELECT (salary) ON staff TO PUBLIC')).toBe('42501')
  })
})
