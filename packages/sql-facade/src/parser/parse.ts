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

export function parseScript(script: string): Statement[] {
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
