/**
 * Statement splitting on the real PostgreSQL scanner: `;` tokens end statements, so
 * semicolons inside strings, dollar-quoted bodies and comments are never split on.
 * libpg-query reports byte offsets, so slicing works on UTF-8 bytes.
 */
import { scanSync, type ScanToken } from 'libpg-query'

export interface StatementSource {
  text: string
  tokens: ScanToken[]
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function splitStatements(script: string): StatementSource[] {
  const bytes = encoder.encode(script)
  const all = scanSync(script).tokens
  const out: StatementSource[] = []
  let start = 0
  let current: ScanToken[] = []
  const flush = (end: number) => {
    const meaningful = current.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
    if (meaningful.length > 0) {
      const base = meaningful[0]!.start
      const text = decoder.decode(bytes.subarray(base, end))
      out.push({ text, tokens: meaningful.map((t) => ({ ...t, start: t.start - base, end: t.end - base })) })
    }
    current = []
  }
  for (const tok of all) {
    if (tok.tokenName === 'ASCII_59') {
      flush(tok.start)
      start = tok.end
      continue
    }
    current.push(tok)
  }
  flush(bytes.length)
  void start
  return out
}

/** Byte-offset slice of a statement's text. */
export function sliceBytes(text: string, start: number, end: number): string {
  return decoder.decode(encoder.encode(text).subarray(start, end))
}

export function tokenWord(t: ScanToken | undefined): string {
  return t ? t.text.toLowerCase() : ''
}

/** Value of a string-literal or identifier token. */
export function tokenString(t: ScanToken): string {
  const s = t.text
  if (t.tokenName === 'SCONST' && s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'")
  if (s.startsWith('"')) return s.slice(1, -1).replace(/""/g, '"')
  if (t.tokenName === 'IDENT') return s.toLowerCase()
  return s
}
