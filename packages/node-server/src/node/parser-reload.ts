/**
 * Fresh instances of the SQL parser (libpg-query's WASM module) for sql-facade's
 * parser-instance.ts, which retires an instance a failure may have damaged. The package
 * keeps one instance per load of its CommonJS entry, so a fresh one is a fresh load:
 * its files leave `require`'s cache and are required again, and the old instance is
 * garbage once nothing parses with it.
 *
 * The module's FATAL exit sets `process.exitCode` (its Emscripten glue assumes it ends
 * the program); the node goes on serving, so a fresh load clears what the dead instance
 * set.
 */
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type { ParserInstance } from '@concord/sql-facade'

interface LibpgQuery extends ParserInstance {
  loadModule(): Promise<void>
}

export async function freshParser(): Promise<ParserInstance> {
  // Resolved where sql-facade resolves it: the same package files the first instance came from.
  const require = createRequire(import.meta.resolve('@concord/sql-facade'))
  const entry = require.resolve('libpg-query')
  const dir = dirname(entry)
  const exitCode = process.exitCode
  for (const file of Object.keys(require.cache)) if (file.startsWith(dir)) delete require.cache[file]
  const pg = require(entry) as LibpgQuery
  await pg.loadModule()
  process.exitCode = exitCode === 1 ? undefined : exitCode
  return { parseSync: pg.parseSync, parsePlPgSQLSync: pg.parsePlPgSQLSync }
}
