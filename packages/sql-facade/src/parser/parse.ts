/**
 * Entry point of the parser: splits a script into statements (script-scanner.ts),
 * refuses statements past the parser's limits (parse-limits.ts), recognizes extension
 * statements, and hands the rest to PostgreSQL's own grammar (libpg-query, WASM).
 * `loadParser()` must have resolved before `parseScript` is called; the instance it
 * parses with is parser-instance.ts's, replaced when a failure may have damaged it.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseExtension, rewriteAnyTypes } from './extension.js'
import type { Statement } from './statement.js'
import { checkScript, checkStatement, parserFailure } from './parse-limits.js'
import { LiteralTemplates } from './literal-template.js'
import { scanScript } from './script-scanner.js'
import { tokenizeStatement } from './tokens.js'
import { hashText, TextCache } from './text-cache.js'
import { truncationNotices } from './identifier-truncation.js'
import { damagesParser, parser, retireParser } from './parser-instance.js'

export { loadParser } from './parser-instance.js'

interface PgParseError {
  message: string
  sqlDetails?: { cursorPosition?: number }
}

function toSqlError(e: unknown): SqlError {
  const err = e as PgParseError
  const pos = err.sqlDetails?.cursorPosition
  return new SqlError(SqlState.syntaxError, err.message ?? String(e), pos !== undefined ? { position: pos + 1 } : {})
}

/** Scripts up to this many characters are cached parsed; longer ones (bulk INSERTs) rarely repeat as texts. */
const CACHE_MAX_TEXT = 8192
/**
 * Parsed scripts by text (text-cache.ts: a text evicts the one in its slot). A text answered
 * from a literal template is only marked seen (its hash), its tree cached when the text
 * comes again: most literal statements differ in their values each time (pgbench's `WHERE
 * aid = 48213`), and caching each one's tree kept hundreds of trees alive until evicted,
 * long enough for V8 to move them to its old generation (a parse of such a text took
 * 5.7 µs with that, 2.6 µs without; in-process, 200,000 distinct texts). Keeping the text
 * itself as the mark did the same for the texts (see TextCache).
 */
const CACHE_SLOTS = 1024
const cache = new TextCache<Statement[]>(CACHE_SLOTS)
/** Shapes the templates remember (templates, and shapes seen once or refused). */
const TEMPLATE_SHAPES = 512
/**
 * Script shapes (text with its literals left out) whose trees are shared, for texts that
 * miss `cache`. A bulk INSERT repeats its shape (one per row count and column list), so
 * long texts get templates too, bounded by what the templates hold rather than by the
 * text: a template costs ~0.85 KB a literal (its tree and copy plan; measured on a
 * 1,000-row, 3-column VALUES: 2.6 MB), so 32,768 literals are ~28 MB at most, and one
 * shape may hold a quarter of them (a 1,000-row VALUES of up to 8 columns).
 */
const templates = new LiteralTemplates({ maxEntries: TEMPLATE_SHAPES, maxText: 1024 * 1024, maxKeyChars: 4 * 1024 * 1024, maxLiterals: 32_768 })

/** How many statements were answered from a shape's template instead of the parser (tests, profiles). */
export function literalTemplateHits(): number {
  return templates.hits
}

/**
 * Parses a script into statements. Parse trees are shared between calls with the same
 * text (`cache`; a text answered from a literal template enters it the second time it
 * comes), so callers must treat them as immutable.
 */
export function parseScript(script: string): Statement[] {
  if (script.length > CACHE_MAX_TEXT) return EXTENSION_CANDIDATE.test(script.trimStart()) ? parseUncached(script) : templates.parse(script, parseUncached)
  const hash = hashText(script)
  const slot = cache.slotOf(hash)
  const held = cache.get(slot, script)
  if (held !== undefined) return held
  // Extension statements are parsed from rewritten text: their trees are not the script's.
  const hits = templates.hits
  const out = EXTENSION_CANDIDATE.test(script.trimStart()) ? parseUncached(script) : templates.parse(script, parseUncached)
  if (templates.hits === hits || cache.seen(slot, hash)) cache.set(slot, script, out)
  else cache.markSeen(slot, hash)
  return out
}

/**
 * PL/pgSQL's own parser over a CREATE FUNCTION / DO statement's text: the function's
 * datums and statement tree as JSON (exec/plpgsql.ts runs it). Compile errors (a
 * syntax error in the body, RETURN QUERY outside a SETOF function ..) are 42601.
 */
export function parsePlpgsql(source: string): unknown {
  try {
    return parser().parsePlPgSQLSync(source)
  } catch (e) {
    if (damagesParser(e)) {
      retireParser(e)
      throw parserFailure(e)!
    }
    throw new SqlError(SqlState.syntaxError, (e as Error).message ?? String(e))
  }
}

/**
 * Statements Concord's extension grammar or its ANY rewrite may apply to; only these are
 * run through the (slow, token-by-token) scanner first. Comments between the leading
 * words make a statement miss here, and the PostgreSQL grammar then rejects it.
 */
const EXTENSION_CANDIDATE = /^(create\s+(region|(or\s+replace\s+)?(function|procedure))\b|(backup|restore)\s+database\b|alter\s+table\b[\s\S]*\brebalance\s+shards\s*$|alter\s+system\s+(add|remove|alter)\s+node\b)/i

function parseUncached(script: string): Statement[] {
  checkScript(script)
  const out: Statement[] = []
  for (const scanned of scanScript(script)) {
    // Measured before the WASM parser sees it: past its limits it fails without a clean error.
    checkStatement(scanned)
    const src = EXTENSION_CANDIDATE.test(scanned.text) ? tokenizeStatement(scanned.text) : null
    const ext = src ? parseExtension(src) : null
    if (ext) {
      out.push(ext)
      continue
    }
    const stmts = parseTrees(src ? rewriteAnyTypes(src) : scanned.text)
    const notices = scanned.longName ? truncationNotices(src ?? tokenizeStatement(scanned.text)) : []
    stmts.forEach((node, i) => out.push({ kind: 'pg', node, text: scanned.text, ...(i === 0 && notices.length > 0 ? { notices } : {}) }))
  }
  return out
}

/** libpg-query's trees for one statement's text; a failure as SQLSTATE. */
function parseTrees(text: string): Node[] {
  let result
  try {
    result = parser().parseSync(text)
  } catch (e) {
    if (damagesParser(e)) retireParser(e)
    throw parserFailure(e) ?? toSqlError(e)
  }
  const stmts = (result.stmts ?? []).flatMap((raw) => (raw.stmt ? [raw.stmt] : []))
  // The scanner found a statement here: an empty answer is a parser failure, never "no statement".
  if (stmts.length === 0) throw parserFailure(new Error('No parse tree generated'))!
  return stmts
}
