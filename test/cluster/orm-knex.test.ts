/**
 * knex, unmodified, against a `concord start` node over the PostgreSQL wire: migrations
 * (`migrate.latest`, `rollback`) with the schema builder, the introspection calls knex
 * makes through information_schema (`hasTable`, `hasColumn`, `columnInfo`), CRUD through
 * the query builder, and transactions that commit and roll back.
 */
import knexFactory, { type Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

let node: ConcordProcess | undefined
let db: Knex | undefined

/** Two migrations given in code (knex's migrationSource), so the test needs no files on disk. */
const MIGRATIONS: Record<string, { up: (k: Knex) => Promise<void>; down: (k: Knex) => Promise<void> }> = {
  '001_authors': {
    up: async (k) => {
      await k.schema.createTable('authors', (t) => {
        t.increments('id')
        t.string('name', 100).notNullable()
        t.timestamps(true, true)
      })
    },
    down: async (k) => {
      await k.schema.dropTable('authors')
    },
  },
  '002_books': {
    up: async (k) => {
      await k.schema.createTable('books', (t) => {
        t.increments('id')
        t.string('title').notNullable()
        t.integer('author_id').references('id').inTable('authors')
        t.integer('pages')
        t.timestamps(true, true)
      })
    },
    down: async (k) => {
      await k.schema.dropTable('books')
    },
  },
}

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
}

function k(): Knex {
  return db!
}

describe('knex against a concord node', () => {
  beforeAll(async () => {
    node = await ConcordProcess.start({ extraArgs: ['--memory', '--no-p2p'] })
    db = knexFactory({
      client: 'pg',
      connection: { host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' },
      pool: { min: 0, max: 2 },
      migrations: { migrationSource },
    })
  }, 120_000)
  afterAll(async () => {
    await db?.destroy()
    await node?.stop()
  })

  it('migrate.latest runs both migrations and records them', async () => {
    const [batch, names] = await k().migrate.latest()
    expect(batch).toBe(1)
    expect(names).toEqual(['001_authors', '002_books'])
    expect(await k().schema.hasTable('authors')).toBe(true)
    expect(await k().schema.hasTable('books')).toBe(true)
    expect(await k().schema.hasTable('knex_migrations')).toBe(true)
    const done = await k()('knex_migrations').select('name').orderBy('id')
    expect(done.map((r: { name: string }) => r.name)).toEqual(['001_authors', '002_books'])
    const [, again] = await k().migrate.latest()
    expect(again).toEqual([])
  })

  it('hasTable, hasColumn and columnInfo describe the migrated tables', async () => {
    expect(await k().schema.hasTable('no_such_table')).toBe(false)
    expect(await k().schema.hasColumn('books', 'author_id')).toBe(true)
    expect(await k().schema.hasColumn('books', 'no_such_column')).toBe(false)
    const info = await k()('books').columnInfo()
    expect(Object.keys(info).sort()).toEqual(['author_id', 'created_at', 'id', 'pages', 'title', 'updated_at'])
    expect(info['title']).toMatchObject({ type: 'character varying', maxLength: 255, nullable: false })
    expect(info['pages']).toMatchObject({ type: 'integer', nullable: true })
    expect(info['created_at']!.type).toBe('timestamp with time zone')
    const name = await k()('authors').columnInfo('name')
    expect(name).toMatchObject({ type: 'character varying', maxLength: 100, nullable: false })
  })

  it('inserts with returning, selects with where and orderBy, updates and deletes', async () => {
    const [ada] = await k()('authors').insert({ name: 'Ada' }).returning(['id', 'name'])
    const [bob] = await k()('authors').insert({ name: 'Bob' }).returning('id')
    expect(ada.name).toBe('Ada')
    expect(typeof ada.id).toBe('number')
    expect(bob.id).not.toBe(ada.id)
    await k()('books').insert([
      { title: 'B', author_id: ada.id, pages: 200 },
      { title: 'A', author_id: ada.id, pages: 100 },
      { title: 'C', author_id: bob.id, pages: 300 },
    ])
    const adas = await k()('books').where({ author_id: ada.id }).orderBy('title').select('title', 'pages')
    expect(adas).toEqual([{ title: 'A', pages: 100 }, { title: 'B', pages: 200 }])
    const long = await k()('books').where('pages', '>', 150).orderBy('pages', 'desc').pluck('title')
    expect(long).toEqual(['C', 'B'])
    expect(await k()('books').where({ title: 'A' }).update({ pages: 111 })).toBe(1)
    expect((await k()('books').where({ title: 'A' }).first('pages')).pages).toBe(111)
    expect(await k()('books').where({ title: 'C' }).del()).toBe(1)
    expect(await k()('books').count({ n: '*' })).toEqual([{ n: '2' }])
    const joined = await k()('books').join('authors', 'authors.id', 'books.author_id').orderBy('books.title').select('books.title', 'authors.name')
    expect(joined).toEqual([{ title: 'A', name: 'Ada' }, { title: 'B', name: 'Ada' }])
  })

  it('a committed transaction keeps its writes; a rolled-back one leaves nothing', async () => {
    await k().transaction(async (trx) => {
      const [c] = await trx('authors').insert({ name: 'Cy' }).returning('id')
      await trx('books').insert({ title: 'D', author_id: c.id, pages: 10 })
    })
    expect(await k()('books').where({ title: 'D' }).pluck('title')).toEqual(['D'])
    await expect(k().transaction(async (trx) => {
      await trx('authors').insert({ name: 'Dee' })
      await trx('books').insert({ title: 'E', pages: 20 })
      throw new Error('abandon')
    })).rejects.toThrow('abandon')
    expect(await k()('authors').where({ name: 'Dee' }).pluck('name')).toEqual([])
    expect(await k()('books').where({ title: 'E' }).pluck('title')).toEqual([])
  })

  it('alters tables, keeps unique and composite indexes, upserts, and runs raw bindings', async () => {
    await k().schema.createTable('gadgets', (t) => {
      t.increments()
      t.string('code').unique()
      t.boolean('flag').defaultTo(false)
      t.decimal('price', 8, 2)
      t.jsonb('spec')
      t.index(['code', 'flag'])
    })
    await k().schema.alterTable('gadgets', (t) => {
      t.integer('extra')
    })
    expect(await k().schema.hasColumn('gadgets', 'extra')).toBe(true)
    await k()('gadgets').insert({ code: 'x', price: 1.5, spec: JSON.stringify({ q: 1 }) }).onConflict('code').merge()
    await k()('gadgets').insert({ code: 'x', price: 2.5 }).onConflict('code').merge()
    expect(await k()('gadgets').whereIn('code', ['x', 'y']).select('code', 'price', 'flag', 'spec')).toEqual([{ code: 'x', price: '2.50', flag: false, spec: { q: 1 } }])
    await expect(k()('gadgets').insert({ code: 'x' })).rejects.toMatchObject({ code: '23505' })
    expect((await k().raw('select ?::int + ? as s', [1, 2])).rows).toEqual([{ s: 3 }])
    await k().schema.alterTable('gadgets', (t) => {
      t.dropColumn('extra')
    })
    expect(await k().schema.hasColumn('gadgets', 'extra')).toBe(false)
    await k().schema.dropTable('gadgets')
  })

  it('renameColumn and renameTable keep the rows, and hasColumn and hasTable follow', async () => {
    await k().schema.createTable('widgets', (t) => {
      t.increments()
      t.string('label').unique()
    })
    await k()('widgets').insert([{ label: 'a' }, { label: 'b' }])
    await k().schema.alterTable('widgets', (t) => {
      t.renameColumn('label', 'title')
    })
    expect(await k().schema.hasColumn('widgets', 'title')).toBe(true)
    expect(await k().schema.hasColumn('widgets', 'label')).toBe(false)
    await k().schema.renameTable('widgets', 'parts')
    expect(await k().schema.hasTable('widgets')).toBe(false)
    expect(await k()('parts').orderBy('id').pluck('title')).toEqual(['a', 'b'])
    await k()('parts').insert({ title: 'c' })
    await expect(k()('parts').insert({ title: 'a' })).rejects.toMatchObject({ code: '23505' })
    expect(await k()('parts').orderBy('id').pluck('title')).toEqual(['a', 'b', 'c'])
    await k().schema.dropTable('parts')
  })

  it('rollback undoes the last batch: both tables are dropped and the record cleared', async () => {
    const [batch, names] = await k().migrate.rollback()
    expect(batch).toBe(1)
    expect([...names].sort()).toEqual(['001_authors', '002_books'])
    expect(await k().schema.hasTable('books')).toBe(false)
    expect(await k().schema.hasTable('authors')).toBe(false)
    expect(await k()('knex_migrations').count({ n: '*' })).toEqual([{ n: '0' }])
  })
})
