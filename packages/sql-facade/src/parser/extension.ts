/**
 * Concord's extension statements, recognized from scanner tokens before the PostgreSQL
 * grammar sees them:
 *   CREATE REGION [IF NOT EXISTS] 'name' [WITH (PRIMARY, REPLICA, ...)]
 *   BACKUP DATABASE [name] TO 'uri'
 *   RESTORE DATABASE [name] FROM 'uri' [AS OF BACKUP 'id']
 *   ALTER TABLE name REBALANCE SHARDS
 *   ALTER SYSTEM ADD NODE 'peer id' [WITH JOIN TOKEN 'token'] [WITH (ROLE = admin | member)]
 *   ALTER SYSTEM ALTER NODE 'peer id' WITH (ROLE = admin | member) | ALTER SYSTEM REMOVE NODE 'peer id'
 * and `ANY` as a function argument or result type in CREATE FUNCTION, rewritten to
 * PostgreSQL's `anyelement` so the real grammar accepts the rest of the statement.
 */
import type { ScanToken } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { Statement } from './statement.js'
import { tokenString, tokenWord, type StatementSource } from './tokens.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function syntaxError(tok: ScanToken | undefined): SqlError {
  return new SqlError(SqlState.syntaxError, tok ? `syntax error at or near "${tok.text}"` : 'syntax error at end of input')
}

function isNameToken(t: ScanToken | undefined): t is ScanToken {
  return !!t && (t.tokenName === 'SCONST' || t.tokenName === 'IDENT' || t.keywordName !== 'NO_KEYWORD' || t.text.startsWith('"'))
}

/** Returns the extension statement, or null when the statement is for the PostgreSQL grammar. */
export function parseExtension(src: StatementSource): Statement | null {
  const t = src.tokens
  const w = (i: number) => tokenWord(t[i])
  if (w(0) === 'create' && w(1) === 'region') {
    let i = 2
    let ifNotExists = false
    if (w(i) === 'if' && w(i + 1) === 'not' && w(i + 2) === 'exists') {
      ifNotExists = true
      i += 3
    }
    const nameTok = t[i]
    if (!isNameToken(nameTok)) throw syntaxError(nameTok)
    i++
    const roles: string[] = []
    if (w(i) === 'with') {
      if (w(i + 1) !== '(') throw syntaxError(t[i + 1])
      i += 2
      while (i < t.length && w(i) !== ')') {
        if (w(i) !== ',') roles.push(w(i))
        i++
      }
      if (w(i) !== ')') throw syntaxError(t[i])
      i++
    }
    if (i !== t.length) throw syntaxError(t[i])
    return { kind: 'createRegion', name: tokenString(nameTok), roles, ifNotExists, text: src.text }
  }
  if ((w(0) === 'backup' || w(0) === 'restore') && w(1) === 'database') {
    const backup = w(0) === 'backup'
    let i = 2
    if (w(i) !== (backup ? 'to' : 'from')) i++
    if (w(i) !== (backup ? 'to' : 'from')) throw syntaxError(t[i])
    const uri = t[i + 1]
    if (!uri || uri.tokenName !== 'SCONST') throw syntaxError(uri)
    if (backup) {
      if (i + 2 !== t.length) throw syntaxError(t[i + 2])
      return { kind: 'backup', target: tokenString(uri), text: src.text }
    }
    let asOf: string | null = null
    if (w(i + 2) === 'as' && w(i + 3) === 'of' && w(i + 4) === 'backup') {
      const id = t[i + 5]
      if (!id || id.tokenName !== 'SCONST') throw syntaxError(id)
      asOf = tokenString(id)
      i += 4
    }
    if (i + 2 !== t.length) throw syntaxError(t[i + 2])
    return { kind: 'restore', source: tokenString(uri), asOf, text: src.text }
  }
  if (w(0) === 'alter' && w(1) === 'system' && (w(2) === 'add' || w(2) === 'remove' || w(2) === 'alter') && w(3) === 'node') {
    const id = t[4]
    if (!id || id.tokenName !== 'SCONST') throw syntaxError(id)
    let joinToken: string | null = null
    let right: string | null = null
    let i = 5
    if (w(2) === 'add' && w(i) === 'with' && w(i + 1) === 'join' && w(i + 2) === 'token') {
      const tok = t[i + 3]
      if (!tok || tok.tokenName !== 'SCONST') throw syntaxError(tok)
      joinToken = tokenString(tok)
      i += 4
    }
    if (w(2) !== 'remove' && w(i) === 'with' && w(i + 1) === '(') {
      if (w(i + 2) !== 'role' || w(i + 3) !== '=' || !isNameToken(t[i + 4]) || w(i + 5) !== ')') throw syntaxError(t[i + 2])
      right = tokenString(t[i + 4]!).toLowerCase()
      i += 6
    }
    if (i !== t.length) throw syntaxError(t[i])
    if (w(2) === 'alter' && right === null) throw syntaxError(t[5])
    const action = w(2) === 'add' ? 'add' : w(2) === 'alter' ? 'alter' : 'remove'
    return { kind: 'clusterNode', action, peerId: tokenString(id), joinToken, right, text: src.text }
  }
  if (w(0) === 'alter' && w(1) === 'table' && w(t.length - 2) === 'rebalance' && w(t.length - 1) === 'shards') {
    const names = t.slice(2, t.length - 2).filter((x) => x.text !== '.')
    const last = names[names.length - 1]
    if (!isNameToken(last)) throw syntaxError(t[2])
    return { kind: 'rebalance', table: tokenString(last), text: src.text }
  }
  return null
}

/**
 * Rewrites `ANY` used as a type in CREATE FUNCTION (argument or RETURNS) to `anyelement`.
 * Returns the text unchanged for other statements.
 */
export function rewriteAnyTypes(src: StatementSource): string {
  const t = src.tokens
  let i = 0
  if (tokenWord(t[i]) !== 'create') return src.text
  i++
  if (tokenWord(t[i]) === 'or' && tokenWord(t[i + 1]) === 'replace') i += 2
  if (tokenWord(t[i]) !== 'function' && tokenWord(t[i]) !== 'procedure') return src.text
  const replace: ScanToken[] = []
  let depth = 0
  for (let j = i + 1; j < t.length; j++) {
    const tok = t[j]!
    const word = tokenWord(tok)
    if (word === '(') depth++
    else if (word === ')') depth--
    if (word === 'as' && depth === 0) break
    if (word !== 'any') continue
    const prev = tokenWord(t[j - 1])
    // A type position: after a parameter name, '(' or ',' inside the list, or after RETURNS.
    if (prev === 'returns' || (depth === 1 && tok.keywordName !== 'NO_KEYWORD')) replace.push(tok)
  }
  if (replace.length === 0) return src.text
  const bytes = encoder.encode(src.text)
  let out = ''
  let pos = 0
  for (const tok of replace) {
    out += decoder.decode(bytes.subarray(pos, tok.start)) + 'anyelement'
    pos = tok.end
  }
  return out + decoder.decode(bytes.subarray(pos))
}
