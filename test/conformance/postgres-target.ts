/**
 * Runs the corpus against a real PostgreSQL server through node-postgres, the ground
 * truth for every case not marked `differs`.
 *
 * Each corpus file gets a database of its own, created from template0 with the C
 * collation (text sorts by code point, as Concord sorts it) and dropped afterwards.
 * Sessions pin the settings the corpus assumes (UTC, ISO dates, default float output),
 * whatever the server's defaults are. Values are taken as the server's text output,
 * untouched: no type parser runs.
 */
import pg from 'pg'
import type { Session, Target } from './executor.js'
import type { TextResult } from './result-text.js'

/** Settings every session starts with, on both targets (README.md, "Session defaults"). */
export const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=1'

const rawText = { getTypeParser: () => (value: string) => value }

/** Generous per-statement limit: a corpus statement taking longer is a bug. */
const STATEMENT_TIMEOUT_MS = 20_000

export function postgresTarget(url: string): Target {
  let admin: pg.Client | undefined
  let counter = 0

  async function adminClient(): Promise<pg.Client> {
    if (admin === undefined) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      admin = client
    }
    return admin
  }

  return {
    name: 'postgres',
    async openSession(label: string): Promise<Session> {
      const client0 = await adminClient()
      counter++
      const dbName = `concord_conf_${process.pid}_${counter}`
      await client0.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      await client0.query(
        `CREATE DATABASE ${dbName} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`,
      )
      await client0.query(`COMMENT ON DATABASE ${dbName} IS ${pg.escapeLiteral(`concord conformance: ${label}`)}`)
      const sessionUrl = new URL(url)
      sessionUrl.pathname = `/${dbName}`
      const client = new pg.Client({
        connectionString: sessionUrl.toString(),
        options: SESSION_OPTIONS,
        statement_timeout: STATEMENT_TIMEOUT_MS,
        types: rawText,
      })
      // A server-side error on an idle client is reported on the next query; keep the
      // process alive meanwhile.
      client.on('error', () => {})
      await client.connect()
      return {
        async execute(sql: string): Promise<TextResult> {
          const res = await client.query({ text: sql, rowMode: 'array', types: rawText })
          // Several statements in one string give an array; the corpus sends one each.
          const last = Array.isArray(res) ? (res[res.length - 1] as pg.QueryArrayResult) : res
          return {
            command: last.command,
            rowCount: last.rowCount,
            columns: (last.fields ?? []).map((f) => f.name),
            rows: (last.rows ?? []).map((r: unknown[]) => r.map((v) => (v === null ? null : String(v)))),
          }
        },
        async close(): Promise<void> {
          await client.end().catch(() => {})
          await client0.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
        },
      }
    },
    async dispose(): Promise<void> {
      if (admin !== undefined) await admin.end()
      admin = undefined
    },
  }
}
