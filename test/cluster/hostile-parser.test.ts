/**
 * Statements made to break the SQL parser (issue 15) answer an error and the node keeps
 * serving: deep nesting is 54001, a statement past the parser's size limit 54000, bad
 * syntax 42601, PL/pgSQL bodies nested past the grammar's stack 42601. Meanwhile another
 * client is answered, and afterwards /health reports the parser ok and both clients run
 * ordinary statements (a degraded WASM parser once failed every new statement while
 * /health said ok). A real process on 127.0.0.1.
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

const plpgsql = (body: string): string => `CREATE FUNCTION hostile() RETURNS void LANGUAGE plpgsql AS $$BEGIN ${body} END$$`

const HOSTILE: Array<[string, string]> = [
  ['54001', `SELECT ${'('.repeat(100_000)}1${')'.repeat(100_000)}`],
  ['54001', `SELECT ${'1+'.repeat(100_000)}1`],
  ['54001', `SELECT ${'NOT '.repeat(100_000)}true`],
  ['54001', `SELECT 1${'::int'.repeat(100_000)}`],
  ['54001', Array(50_000).fill('SELECT 1').join(' UNION ')],
  ['54000', `SELECT '${'x'.repeat(9 * 1024 * 1024)}'`],
  ['42601', 'SELECT ((( FROM WHERE'],
  ['42601', "SELECT 'unterminated"],
  ['42601', plpgsql(`PERFORM ${'('.repeat(20_000)}1${')'.repeat(20_000)};`)],
  ['42601', plpgsql(`${'IF true THEN '.repeat(20_000)}NULL;${' END IF;'.repeat(20_000)}`)],
]

describe('hostile statements for the parser', () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-parser-'))

  it('each answers its SQLSTATE, others are served meanwhile, and the node stays healthy', async () => {
    node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'parser', httpPort: true })
    const client = async (): Promise<pg.Client> => {
      const c = new pg.Client({ host: '127.0.0.1', port: node!.pgPort, user: 'concord', database: 'concord', query_timeout: 60_000 })
      await c.connect()
      return c
    }
    const [hostile, other] = await Promise.all([client(), client()])
    try {
      for (const [state, sql] of HOSTILE) {
        const attack = hostile.query(sql).then(() => 'no error', (e: { code?: string }) => e.code)
        // The other client is answered while the hostile statement is in flight.
        expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
        expect(await attack, sql.slice(0, 60)).toBe(state)
      }
      const health = await (await fetch(`http://127.0.0.1:${node.httpPort}/health`)).json() as { status: string; parser: { ok: boolean } }
      expect(health.status).toBe('ok')
      expect(health.parser.ok).toBe(true)
      // Statements no cache holds still parse, on both connections.
      expect((await hostile.query('SELECT 40 + 2 AS answer_after_attack')).rows).toEqual([{ answer_after_attack: 42 }])
      expect((await other.query("SELECT upper('still') AS served")).rows).toEqual([{ served: 'STILL' }])
    } finally {
      await Promise.all([hostile.end(), other.end()])
    }
  }, 180_000)
})
