import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../index.js'
import { objectOid } from '../catalog/catalog-model.js'

// The catalog queries psql 15 sends for \dt and \d (captured with `psql -E`), run by the
// SQL layer's planner over its pg_catalog views: joins, OPERATOR(pg_catalog.~), regclass
// casts and the catalog functions, as PostgreSQL runs them.

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'catalog' })
  for (const sql of [
    'CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2) DEFAULT 0 CHECK (price >= 0), sku VARCHAR(20) UNIQUE)',
    'CREATE INDEX products_name_idx ON products (name)',
    'CREATE TABLE orders (id SERIAL, customer_id INT, PRIMARY KEY (id, customer_id)) PARTITION BY HASH (customer_id)',
    'CREATE TABLE orders_p0 PARTITION OF orders FOR VALUES WITH (MODULUS 2, REMAINDER 0)',
    'CREATE TABLE lines (id INT PRIMARY KEY, product_id INT REFERENCES products (id) ON DELETE CASCADE, tags TEXT[])',
  ]) await db.query(sql)
})

afterAll(async () => {
  await db.close()
})

async function oidOf(name: string): Promise<number> {
  return (await db.query(`SELECT oid FROM pg_catalog.pg_class WHERE relname = '${name}'`)).rowArrays[0]![0] as number
}

describe('pg_catalog through the planner', () => {
  it('gives each relation a stable OID in the user range, the same in every query', async () => {
    expect(objectOid('table', 'products')).toBe(objectOid('table', 'products'))
    expect(objectOid('table', 'products')).not.toBe(objectOid('index', 'products'))
    expect(objectOid('table', 'x')).toBeGreaterThanOrEqual(16384)
    expect(await oidOf('products')).toBe(objectOid('table', 'products'))
    expect((await db.query("SELECT 'products'::regclass::oid AS o")).rows[0]!.o).toBe(objectOid('table', 'products'))
  })

  it('lists views in pg_views with their query text and owner (the view was missing: 42P01)', async () => {
    await db.query('CREATE VIEW cheap AS SELECT id, name FROM products WHERE price < 10')
    expect((await db.query("SELECT schemaname, viewname, viewowner = current_user, definition FROM pg_views WHERE schemaname = 'public'")).rowArrays)
      .toEqual([['public', 'cheap', true, ' SELECT id, name FROM products WHERE price < 10;']])
    expect((await db.query("SELECT count(*)::int AS n FROM pg_views WHERE viewname IN ('pg_tables', 'tables')")).rowArrays).toEqual([[2]])
    await db.query('DROP VIEW cheap')
  })

  it("gives PostgreSQL's catalogs PostgreSQL's OIDs, which pg_description and clients join on", async () => {
    const r = await db.query(`SELECT 'pg_class'::regclass::oid::int AS c, 'pg_type'::regclass::oid::int AS t, 'pg_namespace'::regclass::oid::int AS n,
      (SELECT oid::int FROM pg_class WHERE relname = 'pg_attribute') AS a, (SELECT count(*)::int FROM pg_class WHERE oid = 1259) AS one`)
    expect(r.rowArrays).toEqual([[1259, 1247, 2615, 1249, 1]])
    await db.query("COMMENT ON TABLE products IS 'things'")
    expect((await db.query("SELECT description FROM pg_description WHERE classoid = 'pg_class'::regclass AND objoid = 'products'::regclass")).rowArrays).toEqual([['things']])
  })

  it("answers psql's \\dt query", async () => {
    const r = await db.query(`SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;`)
    expect(r.rowArrays).toEqual([
      ['public', 'lines', 'table', 'concord'],
      ['public', 'orders', 'partitioned table', 'concord'],
      ['public', 'orders_p0', 'table', 'concord'],
      ['public', 'products', 'table', 'concord'],
    ])
    expect(r.fields.map((f) => f.oid)).toEqual([19, 19, 25, 19])
  })

  it("answers psql's \\d table queries: which relation, its columns, indexes and constraints", async () => {
    const found = await db.query(`SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(products)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;`)
    const oid = await oidOf('products')
    expect(found.rowArrays).toEqual([[oid, 'public', 'products']])
    const columns = await db.query(`SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '${oid}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;`)
    expect(columns.rowArrays).toEqual([
      ['id', 'integer', "nextval('products_id_seq'::regclass)", true, null, '', ''],
      ['name', 'text', null, true, null, '', ''],
      ['price', 'numeric(10,2)', '0', false, null, '', ''],
      ['sku', 'character varying(20)', null, false, null, '', ''],
    ])
    const indexes = await db.query(`SELECT c2.relname, i.indisprimary, i.indisunique, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '${oid}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;`)
    expect(indexes.rowArrays).toEqual([
      ['products_pkey', true, true, 'CREATE UNIQUE INDEX products_pkey ON public.products USING btree (id)', 'PRIMARY KEY (id)', 'p'],
      ['products_name_idx', false, false, 'CREATE INDEX products_name_idx ON public.products USING btree (name)', null, null],
      ['products_sku_key', false, true, 'CREATE UNIQUE INDEX products_sku_key ON public.products USING btree (sku)', 'UNIQUE (sku)', 'u'],
    ])
    const checks = await db.query(`SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true) FROM pg_catalog.pg_constraint r WHERE r.conrelid = '${oid}' AND r.contype = 'c' ORDER BY 1;`)
    expect(checks.rowArrays).toEqual([['products_price_check', 'CHECK (price >= 0)']])
  })

  it('shows partitions and foreign keys as PostgreSQL does, with regclass printing names', async () => {
    const parent = await oidOf('orders')
    expect((await db.query(`SELECT pg_catalog.pg_get_partkeydef('${parent}'::pg_catalog.oid);`)).rowArrays).toEqual([['HASH (customer_id)']])
    const parts = await db.query(`SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '${parent}'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;`)
    expect(parts.rowArrays).toEqual([['orders_p0', 'r', false, 'FOR VALUES WITH (modulus 2, remainder 0)']])
    expect(parts.fields[0]!.oid).toBe(2205)
    const referenced = await db.query(`SELECT conname, conrelid::pg_catalog.regclass AS ontable, pg_catalog.pg_get_constraintdef(oid, true) AS condef
  FROM pg_catalog.pg_constraint c
 WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors('${await oidOf('products')}')
                     UNION ALL VALUES ('${await oidOf('products')}'::pg_catalog.regclass))
       AND contype = 'f' AND conparentid = 0
ORDER BY conname;`)
    expect(referenced.rowArrays).toEqual([['lines_product_id_fkey', 'lines', 'FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE CASCADE']])
    expect((await db.query("SELECT relid FROM pg_catalog.pg_partition_ancestors('orders_p0'::regclass)")).rowArrays).toEqual([['orders_p0'], ['orders']])
  })

  it('reads a name as an OID alias and refuses one that names nothing', async () => {
    expect((await db.query("SELECT 'public.products'::regclass AS r, 'int4'::regtype AS t, 'public'::regnamespace AS n")).rowArrays).toEqual([['products', 'integer', 'public']])
    await expect(db.query("SELECT 'nothing'::regclass")).rejects.toMatchObject({ code: '42P01' })
  })

  it('answers information_schema with PostgreSQL spellings', async () => {
    const r = await db.query("SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable, udt_name FROM information_schema.columns WHERE table_name IN ('products', 'lines') ORDER BY table_name, ordinal_position")
    expect(r.rowArrays).toEqual([
      ['id', 'integer', null, 32, 0, 'NO', 'int4'],
      ['product_id', 'integer', null, 32, 0, 'YES', 'int4'],
      ['tags', 'ARRAY', null, null, null, 'YES', '_text'],
      ['id', 'integer', null, 32, 0, 'NO', 'int4'],
      ['name', 'text', null, null, null, 'NO', 'text'],
      ['price', 'numeric', null, 10, 2, 'YES', 'numeric'],
      ['sku', 'character varying', 20, null, null, 'YES', 'varchar'],
    ])
    const keys = await db.query("SELECT tc.constraint_type, kcu.column_name, rc.unique_constraint_name, rc.delete_rule FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name LEFT JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name WHERE tc.table_name = 'lines' ORDER BY 1")
    expect(keys.rowArrays).toEqual([['FOREIGN KEY', 'product_id', 'products_pkey', 'CASCADE'], ['PRIMARY KEY', 'id', null, null]])
    expect((await db.query("SELECT table_type FROM information_schema.tables WHERE table_schema = 'pg_catalog' AND table_name = 'pg_class'")).rowArrays).toEqual([['VIEW']])
  })

  it('keeps a user table named like an information_schema view apart from it', async () => {
    await db.query('CREATE TABLE tables (id INT PRIMARY KEY)')
    await db.query('INSERT INTO tables VALUES (1)')
    expect((await db.query('SELECT * FROM tables')).rowArrays).toEqual([[1]])
    expect((await db.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'tables'")).rows[0]!.n).toBe(2)
    await expect(db.query('CREATE TABLE pg_class (id INT)')).rejects.toMatchObject({ code: '42P07' })
    await db.query('DROP TABLE tables')
  })
})
