import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('inet and cidr', () => {
  it('read IPv4 and IPv6 addresses and print them as PostgreSQL does', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    const r = await db.query(`SELECT '192.168.1.5'::inet, '192.168.1.5/24'::inet, '10.1'::cidr, '192.168.1'::cidr, '::1'::inet,
      '2001:db8::1/64'::inet, '::ffff:1.2.3.4'::inet, 'fe80:0:0:0:1:0:0:1'::inet, '2001:db8:0:0:1:0:0:1'::cidr, '192.168.1.5/24'::inet::cidr`)
    expect(r.rowArrays[0]).toEqual(['192.168.1.5', '192.168.1.5/24', '10.1.0.0/16', '192.168.1.0/24', '::1', '2001:db8::1/64',
      '::ffff:1.2.3.4', 'fe80::1:0:0:1', '2001:db8::1:0:0:1/128', '192.168.1.0/24'])
    await expect(db.query(`SELECT '192.168.1.5/24'::cidr`)).rejects.toMatchObject({ code: '22P02' })
    await expect(db.query(`SELECT 'x'::inet`)).rejects.toMatchObject({ code: '22P02' })
  })

  it('order by family, network prefix, mask and address, key tables, and type-check foreign keys', async () => {
    db = await openDatabase({ nodeId: 'n2' })
    await db.query('CREATE TABLE n (a inet PRIMARY KEY)')
    await db.query(`INSERT INTO n VALUES ('10.0.0.1'), ('9.1.2.3'), ('10.0.0.0/8'), ('::1'), ('192.168.0.1/16')`)
    await expect(db.query(`INSERT INTO n VALUES ('10.0.0.1/32')`)).rejects.toMatchObject({ code: '23505' })
    expect((await db.query('SELECT a FROM n ORDER BY a')).rowArrays.map((x) => x[0])).toEqual(['9.1.2.3', '10.0.0.0/8', '10.0.0.1', '192.168.0.1/16', '::1'])
    expect((await db.query(`SELECT '10.0.0.0/8'::cidr = '10.0.0.0/8'::inet`)).rowArrays).toEqual([[true]])
    await db.query('CREATE TABLE pk (p1 int, p2 inet, PRIMARY KEY (p1, p2))')
    await expect(db.query('CREATE TABLE fk (f1 int, f2 inet, FOREIGN KEY (f2, f1) REFERENCES pk)')).rejects.toMatchObject({ code: '42804' })
    await db.query('CREATE TABLE fk (f1 int, f2 cidr, FOREIGN KEY (f1, f2) REFERENCES pk)')
    await db.query(`INSERT INTO pk VALUES (1, '10.0.0.0/8')`)
    await db.query(`INSERT INTO fk VALUES (1, '10.0.0.0/8')`)
    await expect(db.query(`INSERT INTO fk VALUES (1, '11.0.0.0/8')`)).rejects.toMatchObject({ code: '23503' })
  })
})
