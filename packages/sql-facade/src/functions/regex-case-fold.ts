/**
 * Case-insensitive regular expressions without the `i` flag. V8's linear-time engine,
 * which reruns a match that backtracks too much (node-server's regexp-backtracking.ts),
 * takes no `i` flag: `~*`, ILIKE-free `regexp_*(.., 'i')` and friends backtracked without
 * bound and froze every client (issue 15). So a case-insensitive pattern is rewritten
 * into a case-sensitive one that matches the same strings: each letter outside a class
 * becomes a class of the letters it equals ignoring case (`a` -> `[aA]`), and each
 * class gains the other cases of its members (`[a-c]` -> `[a-cA-C]`, as single units).
 *
 * "Equal ignoring case" is exactly what the `i` flag of a non-Unicode JS RegExp uses
 * (ECMA-262 Canonicalize: a unit's toUpperCase, when that is one unit and does not map a
 * non-ASCII unit into ASCII), so the rewritten pattern answers what `i` answered.
 *
 * Invariants: the rewrite works on UTF-16 units, as a non-Unicode RegExp does; a pattern
 * the rewrite does not fully understand (a backreference, which `i` also folds, a named
 * group's `\k`, or syntax it cannot read) returns null and the caller keeps the `i` flag.
 */

/** For each unit with other cases: the whole class it belongs to. */
let classOf: Map<number, number[]> | null = null
/** Units with other cases, ascending (for ranges). */
let folding: number[] = []

function canonicalize(u: number): number {
  const up = String.fromCharCode(u).toUpperCase()
  if (up.length !== 1) return u
  const c = up.charCodeAt(0)
  return u >= 128 && c < 128 ? u : c
}

/** Built once, on the first case-insensitive pattern: 65,536 toUpperCase calls, a few ms. */
function classes(): Map<number, number[]> {
  if (classOf) return classOf
  // Units equal ignoring case, by their canonical form.
  const foldClasses = new Map<number, number[]>()
  for (let u = 0; u <= 0xffff; u++) {
    const c = canonicalize(u)
    const list = foldClasses.get(c)
    if (list) list.push(u)
    else foldClasses.set(c, [u])
  }
  classOf = new Map()
  for (const list of foldClasses.values()) {
    if (list.length < 2) continue
    for (const u of list) classOf.set(u, list)
  }
  folding = [...classOf.keys()].sort((a, b) => a - b)
  return classOf
}

/** A unit written so it means itself inside or outside a class. */
function unit(u: number): string {
  return `\\u${u.toString(16).padStart(4, '0')}`
}

const SET_ESCAPES = 'dDwWsS'
const OUTSIDE_SPECIAL = '^$\\.*+?()[]{}|/'

class Unreadable extends Error {}

/** Reads one escape inside a class at `i` (just past the backslash): the unit it stands for, or a set escape. */
function classEscape(p: string, i: number): { unit: number | null; text: string; next: number } {
  const c = p[i]
  if (c === undefined) throw new Unreadable()
  if (SET_ESCAPES.includes(c)) return { unit: null, text: `\\${c}`, next: i + 1 }
  const hex = (n: number): number => {
    const h = p.slice(i + 1, i + 1 + n)
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Unreadable()
    return parseInt(h, 16)
  }
  switch (c) {
    case 'x': return { unit: hex(2), text: '', next: i + 3 }
    case 'u': return { unit: hex(4), text: '', next: i + 5 }
    case 'b': return { unit: 8, text: '', next: i + 1 }
    case 't': return { unit: 9, text: '', next: i + 1 }
    case 'n': return { unit: 10, text: '', next: i + 1 }
    case 'v': return { unit: 11, text: '', next: i + 1 }
    case 'f': return { unit: 12, text: '', next: i + 1 }
    case 'r': return { unit: 13, text: '', next: i + 1 }
    case 'c': case 'k': case 'p': case 'P': throw new Unreadable()
    default:
      // Digits are octal escapes in a non-Unicode class: not read here.
      if (c >= '0' && c <= '9') throw new Unreadable()
      return { unit: c.charCodeAt(0), text: '', next: i + 1 }
  }
}

/** Rewrites the class starting at `start` (its `[`); returns the new class and the index past its `]`. */
function foldClass(p: string, start: number): { text: string; next: number } {
  const fold = classes()
  let i = start + 1
  let out = '['
  if (p[i] === '^') {
    out += '^'
    i++
  }
  const extra = new Set<number>()
  const readAtom = (): { unit: number | null; text: string } => {
    const c = p[i]!
    if (c === '\\') {
      const e = classEscape(p, i + 1)
      i = e.next
      return { unit: e.unit, text: e.text }
    }
    i++
    return { unit: c.charCodeAt(0), text: '' }
  }
  while (i < p.length && p[i] !== ']') {
    const a = readAtom()
    if (a.unit === null) {
      out += a.text
      continue
    }
    // A range: `a-b` with units at both ends (`-` before `]` is a literal).
    if (p[i] === '-' && i + 1 < p.length && p[i + 1] !== ']') {
      i++
      const b = readAtom()
      if (b.unit === null) throw new Unreadable()
      if (b.unit < a.unit) throw new Unreadable()
      out += `${unit(a.unit)}-${unit(b.unit)}`
      for (const u of folding) {
        if (u > b.unit) break
        if (u >= a.unit) for (const v of fold.get(u)!) extra.add(v)
      }
      continue
    }
    out += unit(a.unit)
    for (const v of fold.get(a.unit) ?? []) extra.add(v)
  }
  if (p[i] !== ']') throw new Unreadable()
  for (const v of extra) out += unit(v)
  return { text: `${out}]`, next: i + 1 }
}

/** Patterns folded lately: `~*` compiles its pattern for every row it tests. */
const recent = new Map<string, string | null>()
const RECENT_MAX = 256
/** Longer patterns are folded each time: the cache holds at most RECENT_MAX x this many units (and their folds). */
const RECENT_MAX_LENGTH = 1024

/** The pattern rewritten to match case-insensitively without the `i` flag; null when it cannot be. */
export function foldCase(pattern: string): string | null {
  const hit = recent.get(pattern)
  if (hit !== undefined) return hit
  const folded = rewrite(pattern)
  if (pattern.length > RECENT_MAX_LENGTH) return folded
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!)
  recent.set(pattern, folded)
  return folded
}

function rewrite(pattern: string): string | null {
  try {
    const fold = classes()
    let out = ''
    let i = 0
    while (i < pattern.length) {
      const c = pattern[i]!
      if (c === '[') {
        const cls = foldClass(pattern, i)
        out += cls.text
        i = cls.next
        continue
      }
      if (c === '\\') {
        const e = pattern[i + 1]
        if (e === undefined) throw new Unreadable()
        // Backreferences compare ignoring case under `i`; named ones likewise.
        if ((e >= '1' && e <= '9') || e === 'k') return null
        if (e === 'x' || e === 'u') {
          const n = e === 'x' ? 2 : 4
          const h = pattern.slice(i + 2, i + 2 + n)
          if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Unreadable()
          const list = fold.get(parseInt(h, 16))
          out += list ? `[${list.map(unit).join('')}]` : pattern.slice(i, i + 2 + n)
          i += 2 + n
          continue
        }
        if (e === 'c') throw new Unreadable()
        // Any other escape (\d \w \b \n \. ..) means the same ignoring case; a letter escape
        // that is an identity escape (`\q`) is a letter only in Annex B, and is not read.
        if (/[a-zA-Z]/.test(e) && !'dDwWsSbBtnvfr0'.includes(e)) throw new Unreadable()
        out += pattern.slice(i, i + 2)
        i += 2
        continue
      }
      if (c === '(' && pattern[i + 1] === '?') {
        // Group openers (`(?:`, `(?=`, `(?<=`, `(?<name>`) are copied: a group's name is not text.
        const m = /^\(\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(pattern.slice(i))
        if (!m) throw new Unreadable()
        out += m[0]
        i += m[0].length
        continue
      }
      if (c === '{') {
        // A quantifier's digits are copied; a `{` that is no quantifier is a literal, and so is what follows.
        const m = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i))
        out += m ? m[0] : '\\{'
        i += m ? m[0].length : 1
        continue
      }
      const list = OUTSIDE_SPECIAL.includes(c) ? undefined : fold.get(c.charCodeAt(0))
      out += list ? `[${list.map(unit).join('')}]` : c
      i++
    }
    return out
  } catch (e) {
    if (e instanceof Unreadable) return null
    throw e
  }
}
