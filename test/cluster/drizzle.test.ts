/**
 * Drizzle ORM (`drizzle-orm/node-postgres`) and `drizzle-kit push`, unmodified, against a
 * `concord start` node: push creates the schema from test/cluster/drizzle-schema.ts,
 * introspects it back as it made it (a second push changes nothing), migrates it to
 * drizzle-schema-v2.ts; then the query builder's selects with where, joins, inserts,
 * updates and deletes with returning, transactions, relational queries and prepared
 * statements.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { and, asc, count, desc, eq, gt, sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'
import * as schema from './drizzle-schema.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DRIZZLE_KIT = fileURLToPath(new URL('../../node_modules/drizzle-kit/bin.cjs', import.meta.url))
const { authors, books } = schema

let node: ConcordProcess | undefined
let pool: pg.Pool | undefined
let db: NodePgDatabase<typeof schema> | undefined

/** `drizzle-kit push` of a schema file; its output, progress spinner removed. */
async function push(schemaFile: string): Promise<string> {
  const url = `postgresql://concord@127.0.0.1:${node!.pgPort}/concord`
  const args = [DRIZZLE_KIT, 'push', '--dialect=postgresql', `--schema=${schemaFile}`, `--url=${url}`, '--force', '--verbose']
  const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 120_000 })
  return (stdout + stderr).split(/\r|\n/).filter((l) => !l.includes('Pulling schema')).join('\n')
}

async function columns(table: string): Promise<string[]> {
  const r = await pool!.query<{ c: string }>('SELECT column_name || \' \' || data_type AS c FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [table])
  return r.rows.map((x) => x.c)
}

beforeAll(async () => {
  node = await ConcordProcess.start({ extraArgs: ['--memory', '--no-p2p'] })
  pool = new pg.Pool({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', max: 2 })
  db = drizzle(pool, { schema })
}, 60_000)

afterAll(async () => {
  await pool?.end()
  await node?.stop()
})

describe('drizzle-kit push against a concord node', () => {
  it('creates the schema, then finds nothing to change on a second push', async () => {
    const first = await push('test/cluster/drizzle-schema.ts')
    expect(first).toContain('CREATE TABLE "authors"')
    expect(first).toContain('Changes applied')
    expect(await columns('books')).toEqual(['id integer', 'author_id integer', 'title text', 'price numeric', 'pages integer'])
    const second = await push('test/cluster/drizzle-schema.ts')
    expect(second).toContain('No changes detected')
  }, 300_000)

  it('migrates to the next schema version: a new column, a new table with an index and a cascading foreign key', async () => {
    const out = await push('test/cluster/drizzle-schema-v2.ts')
    expect(out).toContain('ALTER TABLE "authors" ADD COLUMN "bio" text')
    expect(out).toContain('CREATE TABLE "reviews"')
    expect(out).toContain('Changes applied')
    expect(await columns('reviews')).toEqual(['id integer', 'book_id integer', 'stars integer'])
    expect(await push('test/cluster/drizzle-schema-v2.ts')).toContain('No changes detected')
  }, 300_000)
})

describe('drizzle-orm/node-postgres against a concord node', () => {
  const d = (): NodePgDatabase<typeof schema> => db!

  it('inserts with returning, selects with where, joins and groups', async () => {
    expect(await d().insert(authors).values([{ name: 'Ann', email: 'ann@example.com' }, { name: 'Bob', email: 'bob@example.com', active: false }]).returning({ id: authors.id, name: authors.name }))
      .toEqual([{ id: 1, name: 'Ann' }, { id: 2, name: 'Bob' }])
    const [ann] = await d().select().from(authors).where(eq(authors.name, 'Ann'))
    expect(ann).toMatchObject({ id: 1, email: 'ann@example.com', active: true })
    expect(ann!.createdAt).toBeInstanceOf(Date)
    await d().insert(books).values([{ authorId: ann!.id, title: 'First', price: '9.50', pages: 100 }, { authorId: ann!.id, title: 'Second', price: '12.00' }])
    expect(await d().select({ name: authors.name }).from(authors).where(and(eq(authors.active, true), gt(authors.id, 0)))).toEqual([{ name: 'Ann' }])
    expect(await d().select({ author: authors.name, title: books.title, price: books.price }).from(books).innerJoin(authors, eq(books.authorId, authors.id)).orderBy(asc(books.title)))
      .toEqual([{ author: 'Ann', title: 'First', price: '9.50' }, { author: 'Ann', title: 'Second', price: '12.00' }])
    expect(await d().select({ author: authors.name, n: count(books.id) }).from(authors).leftJoin(books, eq(books.authorId, authors.id)).groupBy(authors.name).orderBy(desc(authors.name)))
      .toEqual([{ author: 'Bob', n: 0 }, { author: 'Ann', n: 2 }])
  })

  it('updates and deletes with returning', async () => {
    expect(await d().update(books).set({ pages: sql`${books.pages} + 1` }).where(eq(books.title, 'First')).returning({ pages: books.pages })).toEqual([{ pages: 101 }])
    expect(await d().delete(books).where(eq(books.title, 'Second')).returning({ title: books.title })).toEqual([{ title: 'Second' }])
    await expect(d().insert(books).values({ authorId: 99, title: 'Orphan' })).rejects.toMatchObject({ cause: { code: '23503' } })
  })

  it('a committed transaction keeps its writes; a rolled-back one leaves nothing', async () => {
    await d().transaction(async (tx) => {
      await tx.insert(books).values({ title: 'Committed' })
    })
    await expect(d().transaction(async (tx) => {
      await tx.insert(books).values({ title: 'Rolled back' })
      tx.rollback()
    })).rejects.toThrow('Rollback')
    expect(await d().select({ t: books.title }).from(books).orderBy(books.title)).toEqual([{ t: 'Committed' }, { t: 'First' }])
  })

  it('relational queries (lateral joins with json_build_array) and prepared statements', async () => {
    const found = await d().query.authors.findMany({ with: { books: true }, orderBy: (a, { asc: up }) => [up(a.id)] })
    // Nested rows travel as json, so numeric 9.50 arrives as the JSON number 9.5 (as on PostgreSQL).
    expect(found.map((a) => [a.name, a.books.map((b) => [b.title, b.price, b.pages])])).toEqual([['Ann', [['First', '9.5', 101]]], ['Bob', []]])
    const first = await d().query.books.findFirst({ with: { author: true }, where: (b, { eq: is }) => is(b.title, 'First') })
    expect(first?.author?.email).toBe('ann@example.com')
    const byName = d().select({ id: authors.id }).from(authors).where(eq(authors.name, sql.placeholder('n'))).prepare('author_by_name')
    expect(await byName.execute({ n: 'Bob' })).toEqual([{ id: 2 }])
    expect(await byName.execute({ n: 'Ann' })).toEqual([{ id: 1 }])
  })
})
