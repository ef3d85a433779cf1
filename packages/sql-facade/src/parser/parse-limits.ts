/**
 * What the WASM parser (libpg-query) may be handed, and what its failures mean.
 *
 * The parser recurses on the depth of the parse tree and keeps the whole tree, several
 * times the size of the text, in its own memory. Past its limits it does not fail
 * cleanly: a deep tree overflows the JS stack inside WASM (a RangeError that leaks the
 * parser's memory for good), a huge text exhausts WASM memory (the module reports a FATAL
 * exit and stays degraded), and the scanner silently returns nothing for very large
 * scripts. Measured on Node 20: a chain `1+1+...` of about 8000 terms or subqueries
 * nested about 3000 deep overflow; a 19 MB VALUES list exhausts memory.
 *
 * So every statement is measured first (script-scanner.ts) and refused, as PostgreSQL
 * refuses what is past its own limits, before the parser sees it:
 *   nesting past MAX_NESTING        -> 54001 stack depth limit exceeded (PostgreSQL itself
 *                                      answers 54001 for a chain of about 5000 terms)
 *   a statement past MAX_STATEMENT_BYTES or a script past MAX_SCRIPT_BYTES
 *                                   -> 54000 program limit exceeded
 * and a parser failure that slips through still becomes one of these, never XX000.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ScannedStatement } from './script-scanner.js'

/** Estimated parse-tree levels a statement may nest (a fifth of where the parser breaks). */
export const MAX_NESTING = 1000
/** Bytes of one statement the parser is given (VALUES lists of this size parse in ~1 GB). */
export const MAX_STATEMENT_BYTES = 8 * 1024 * 1024
/** Bytes of a whole script (all its statements are parsed before the first one runs). */
export const MAX_SCRIPT_BYTES = 64 * 1024 * 1024

export function stackDepthExceeded(detail?: string): SqlError {
  return new SqlError(SqlState.statementTooComplex, 'stack depth limit exceeded', {
    ...(detail ? { detail } : {}),
    hint: `Concord accepts expressions and subqueries nested up to about ${MAX_NESTING} levels; split the statement or flatten the expression.`,
  })
}

function tooLarge(what: string, bytes: number, limit: number): SqlError {
  return new SqlError(SqlState.programLimitExceeded, `${what} is too large: ${bytes} bytes`, {
    detail: `Concord parses ${what}s of up to ${limit} bytes.`,
  })
}

/** UTF-8 length of `s`, counted without encoding it. */
function utf8Bytes(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3
  }
  return n
}

export function checkScript(script: string): void {
  // A UTF-16 length past the limit is past it in UTF-8 too; only shorter texts need counting.
  if (script.length > MAX_SCRIPT_BYTES) throw tooLarge('script', utf8Bytes(script), MAX_SCRIPT_BYTES)
  if (script.length * 3 > MAX_SCRIPT_BYTES) {
    const bytes = utf8Bytes(script)
    if (bytes > MAX_SCRIPT_BYTES) throw tooLarge('script', bytes, MAX_SCRIPT_BYTES)
  }
}

export function checkStatement(s: ScannedStatement): void {
  if (s.text.length * 3 > MAX_STATEMENT_BYTES) {
    const bytes = utf8Bytes(s.text)
    if (bytes > MAX_STATEMENT_BYTES) throw tooLarge('statement', bytes, MAX_STATEMENT_BYTES)
  }
  if (s.nesting > MAX_NESTING) throw stackDepthExceeded(`The statement nests about ${s.nesting} levels deep.`)
}

/**
 * A failure of the WASM parser other than a syntax error: a JS stack overflow inside it
 * is 54001, an exhausted, aborted or trapped module 54000. Null for anything else.
 */
export function parserFailure(e: unknown): SqlError | null {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return stackDepthExceeded()
  const name = (e as { name?: unknown } | null)?.name
  const message = String((e as { message?: unknown } | null)?.message ?? '')
  if (name === 'ExitStatus' || /out of memory|memory allocation failed|No parse tree generated|Program terminated/i.test(message)) {
    return new SqlError(SqlState.programLimitExceeded, 'out of memory', { detail: 'The SQL parser could not hold this statement.' })
  }
  // A trap inside the module: it is replaced (parser-instance.ts); this statement fails.
  if (e instanceof WebAssembly.RuntimeError) {
    return new SqlError(SqlState.programLimitExceeded, 'the SQL parser failed', { detail: `${e.message}; the parser is restarted, retry the statement.` })
  }
  return null
}
