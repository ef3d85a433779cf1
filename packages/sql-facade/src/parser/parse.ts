/**
 * Entry point of the parser: splits a script into statements, recognizes extension
 * statements, and hands the rest to PostgreSQL's own grammar (libpg-query, WASM).
 * `loadParser()` must have resolved before `parseScript` is called.
 */
import { loadModule, parseSync } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseExtension, rewriteAnyTypes } from './extension.js'
import type { Statement } from './statement.js'
import { splitStatements } from './tokens.js'

let loaded: Promise<void> | null = null

export function loadParser(): Promise<void> {
  loaded ??= loadModule()
  return loaded
}

interface PgParseError {
  message: string
  sqlDetails?: { cursorPosition?: number }
}

function toSqlError(e: unknown): SqlError {
  const err = e as PgParseError
  const pos = err.sqlDetails?.cursorPosition
  return new SqlError(SqlState.syntaxError, err.message ?? String(e), pos !== undefined ? { position: pos + 1 } : {})
}

/** Scripts up to this many characters are cached parsed; longer ones (bulk INSERTs) rarely repeat. */
const CACHE_MAX_TEXT = 8192
/** Cached scripts (least recently used evicted first). */
const CACHE_MAX_ENTRIES = 512
const cache = new Map<string, Statement[]>()

/**
 * Parses a script into statements. Parse trees are shared between calls with the same
 * text (a small LRU cache), so callers must treat them as immutable.
 */
export function parseScript(script: string): Statement[] {
  if (script.length > CACHE_MAX_TEXT) return parseUncached(script)
  const hit = cache.get(script)
  if (hit) {
    cache.delete(script)
    cache.set(script, hit)
    return hit
  }
  const out = parseUncached(script)
  cache.set(script, out)
  if (cache.size > CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!)
  return out
}

/** A single DML/query statement: no `;` to split on and no extension syntax to recognize. */
const PLAIN_STATEMENT = /^\s*(select|insert|update|delete|with|values)\b/i

function parseUncached(script: string): Statement[] {
  if (!script.includes(';') && PLAIN_STATEMENT.test(script)) {
    // Fast path: the scanner pass that splits scripts is not needed for one plain statement.
    let result
    try {
      result = parseSync(script)
    } catch (e) {
      throw toSqlError(e)
    }
    const text = script.trim()
    return (result.stmts ?? []).flatMap((raw) => (raw.stmt ? [{ kind: 'pg' as const, node: raw.stmt, text }] : []))
  }
  let sources
  try {
    sources = splitStatements(script)
  } catch (e) {
    // The scanner fails on unterminated literals; let the grammar produce the message.
    try {
      parseSync(script)
    } catch (inner) {
      throw toSqlError(inner)
    }
    throw toSqlError(e)
  }
  const out: Statement[] = []
  for (const src of sources) {
    const ext = parseExtension(src)
    if (ext) {
      out.push(ext)
      continue
    }
    const text = rewriteAnyTypes(src)
    let result
    try {
      result = parseSync(text)
    } catch (e) {
      throw toSqlError(e)
    }
    for (const raw of result.stmts ?? []) {
      if (raw.stmt) out.push({ kind: 'pg', node: raw.stmt, text: src.text })
    }
  }
  return out
}

/** Parses one SQL expression (used for stored DEFAULT, CHECK and GENERATED texts). */
export function parseExpressionText(expr: string) {
  const result = parseSync(`SELECT ${expr}`)
  const stmt = result.stmts?.[0]?.stmt
  if (!stmt || !('SelectStmt' in stmt)) throw new SqlError(SqlState.syntaxError, `invalid expression: ${expr}`)
  const target = stmt.SelectStmt.targetList?.[0]
  if (!target || !('ResTarget' in target) || !target.ResTarget.val) throw new SqlError(SqlState.syntaxError, `invalid expression: ${expr}`)
  return target.ResTarget.val
}
