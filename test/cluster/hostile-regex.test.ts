/**
 * A backtracking regular expression does not freeze the node (issue 15): `repeat('a', 30)
 * || '!' ~ '(a+)+$'` took minutes on the event loop, and every client waited. Now it
 * answers at once (V8's linear-time fallback, regexp-backtracking.ts) and other clients
 * are served. Case-insensitive ones (`~*`, the `i` flag) and the regexp_* functions took
 * as long, since V8's linear engine took neither the `i` nor the `d` flag: they are now
 * rewritten (functions/regex-case-fold.ts). A real process on 127.0.0.1; the client gives
 * up after 60 s, so the old behaviour fails the test instead of hanging it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordProcess } from './concord-process.js'

let dir: string
let node: ConcordProcess | undefined

afterAll(async () => {
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('hostile regular expressions', () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-regex-'))

  it('a catastrophically backtracking pattern answers and leaves other clients served', async () => {
    node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'regex' })
    const client = async (): Promise<pg.Client> => {
      const c = new pg.Client({ host: '127.0.0.1', port: node!.pgPort, user: 'concord', database: 'concord', query_timeout: 60_000 })
      await c.connect()
      return c
    }
    const [hostile, other] = await Promise.all([client(), client()])
    try {
      const slow = hostile.query<{ m: boolean; r: string }>(
        "SELECT repeat('a', 30) || '!' ~ '(a+)+$' AS m, regexp_replace(repeat('a', 32) || '!', '(a+)+$', 'x') AS r",
      )
      // Another client is answered while (or after) the hostile statement runs.
      expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      expect((await slow).rows).toEqual([{ m: false, r: `${'a'.repeat(32)}!` }])
      // The same answers PostgreSQL gives for patterns that do match.
      expect((await hostile.query("SELECT repeat('a', 30) ~ '(a+)+$' AS m")).rows).toEqual([{ m: true }])
    } finally {
      await Promise.all([hostile.end(), other.end()])
    }
  }, 180_000)

  it('case-insensitive patterns and the regexp functions answer too, and others are served', async () => {
    const client = async (): Promise<pg.Client> => {
      const c = new pg.Client({ host: '127.0.0.1', port: node!.pgPort, user: 'concord', database: 'concord', query_timeout: 60_000 })
      await c.connect()
      return c
    }
    const [hostile, other] = await Promise.all([client(), client()])
    try {
      const evil = "repeat('a', 32) || '!'"
      const slow = hostile.query(
        `SELECT ${evil} ~* '(A+)+$' AS m, ${evil} !~* '([a-z]+)+$' AS n, regexp_replace(${evil}, '(A+)+$', 'x', 'i') AS r,` +
        ` regexp_count(${evil}, '(a+)+$') AS c, regexp_like(${evil}, '(A+)+$', 'i') AS l,` +
        ` regexp_substr(${evil}, '(a+)+$', 1, 1, 'i', 1) AS s, (SELECT count(*) FROM regexp_matches(${evil}, '(A+)+$', 'gi')) AS g`,
      )
      expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      expect((await slow).rows).toEqual([{ m: false, n: true, r: `${'a'.repeat(32)}!`, c: 0, l: false, s: null, g: '0' }])
      // Matching patterns give PostgreSQL's answers.
      expect((await hostile.query("SELECT 'aAa' ~* '^(A+)+$' AS m, regexp_substr('xAAy', '(a+)', 1, 1, 'i', 1) AS s")).rows)
        .toEqual([{ m: true, s: 'AA' }])
    } finally {
      await Promise.all([hostile.end(), other.end()])
    }
  }, 180_000)
})
