/**
 * Parse trees shared by statements that differ only in their literal constants.
 *
 * Clients that inline values (pgbench -M simple, ORMs building SQL text) send a new text
 * for every execution, so the cache by text (parse.ts) misses and the scanner and the
 * WASM parser run again. Here a one-statement script is reduced to its *shape*: its text
 * with each integer, decimal and plain '...' string literal replaced by a placeholder
 * naming the literal's kind and length. The second script of a shape is parsed as usual
 * (the first only marks the shape as seen, so one-off texts pay nothing more); if every
 * literal maps to exactly one A_Const node at its position, with its value, that tree
 * becomes the shape's template. Later scripts of the shape get the template with those
 * A_Const nodes replaced by their own values (the nodes on the way down are copied, the
 * rest is shared), without the scanner or the parser.
 *
 * Invariants:
 * - Same shape means the same tokens in the same places: the grammar builds the same
 *   tree, and every location in it is right too (literal lengths are part of the shape).
 * - A literal the grammar consumed as a raw value (a type's precision, an option) has no
 *   A_Const node at its position, and one folded into another node (adjacent strings
 *   joined, a minus the lexer took for binary) has none with its value: either way the shape gets no
 *   template and every statement of it is parsed. So a template never has a value that
 *   steers the tree's structure.
 * - The lexer only accepts what it fully understands (ASCII, no comments, no E'', B'',
 *   X'', U&'' or dollar-quoted strings, no backslash in a string, plain decimal numbers);
 *   anything else is parsed as usual.
 * - Only SELECT (without INTO), INSERT, UPDATE and DELETE get templates. Templates are
 *   immutable and shared, like every cached parse tree.
 */
import type { Node } from 'libpg-query'
import type { Statement } from './statement.js'

type Kind = 'i' | 'f' | 's'

interface Literal {
  kind: Kind
  start: number
  /** The value the parser gives it: ival for 'i', the text for 'f', the unquoted string for 's'. */
  value: number | string
}

interface Shape {
  key: string
  literals: Literal[]
}

type Path = Array<string | number>

interface Template {
  node: Node
  /** The way down to each literal's A_Const. */
  plan: CopyPlan
}

const INT4_MAX = 2147483647
const TEMPLATED = ['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt']

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13)
}

function isWordPart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || isDigit(c)
}

/** The statement's literals and shape key, or null where the text holds something this lexer does not handle. */
export function literalShape(text: string): Shape | null {
  const literals: Literal[] = []
  const key: string[] = []
  let from = 0
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c > 127) return null
    if (c === 39) {
      // A prefix letter (E'', B'', X'', N'', U&'') makes it another kind of string.
      const prev = i > 0 ? text.charCodeAt(i - 1) : 32
      if (isWordPart(prev) || prev === 38) return null
      let j = i + 1
      let value = ''
      for (;;) {
        if (j >= n) return null
        const d = text.charCodeAt(j)
        if (d === 92 || d > 127) return null
        if (d === 39) {
          if (text.charCodeAt(j + 1) === 39) {
            value += "'"
            j += 2
            continue
          }
          break
        }
        value += text[j]
        j++
      }
      j++ // past the closing quote
      // Strings separated by a newline are one constant to PostgreSQL: not a shape we share.
      let k = j
      while (k < n && isBlank(text.charCodeAt(k))) k++
      if (text.charCodeAt(k) === 39) return null
      key.push(text.slice(from, i), `\u0000s${j - i}`)
      literals.push({ kind: 's', start: i, value })
      from = j
      i = j
      continue
    }
    if (c === 34) {
      const end = text.indexOf('"', i + 1)
      if (end < 0) return null
      i = end + 1 // a doubled "" inside is two quoted parts, skipped alike
      continue
    }
    if ((c === 45 && text.charCodeAt(i + 1) === 45) || (c === 47 && text.charCodeAt(i + 1) === 42)) return null
    if (c === 36) {
      if (!isDigit(text.charCodeAt(i + 1))) return null
      i++
      while (i < n && isDigit(text.charCodeAt(i))) i++
      continue
    }
    if (isWordPart(c) && !isDigit(c)) {
      while (i < n && isWordPart(text.charCodeAt(i))) i++
      continue
    }
    if (c === 46 && isDigit(text.charCodeAt(i + 1))) return null
    // A minus sign right before a number, after an operator, `(` or `,`, is the grammar's
    // unary minus, which it folds into the constant (at the sign's location).
    const negative = c === 45 && isDigit(text.charCodeAt(i + 1)) && unaryPosition(text, i)
    if (isDigit(c) || negative) {
      const digits = negative ? i + 1 : i
      let j = digits
      while (j < n && isDigit(text.charCodeAt(j))) j++
      let kind: Kind = 'i'
      if (text.charCodeAt(j) === 46) {
        if (!isDigit(text.charCodeAt(j + 1))) return null
        j++
        while (j < n && isDigit(text.charCodeAt(j))) j++
        kind = 'f'
      }
      if (j < n && (isWordPart(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) return null
      const raw = text.slice(digits, j)
      let value: number | string = negative ? `-${raw}` : raw
      if (kind === 'i') {
        const v = raw.length <= 10 ? Number(raw) : Infinity
        // -0 is 0; past int4 (even -2147483648) PostgreSQL keeps a numeric constant's text, negated.
        if (v <= INT4_MAX) value = negative && v !== 0 ? -v : v
        else kind = 'f'
      }
      key.push(text.slice(from, i), `\u0000${negative ? '-' : ''}${kind}${j - i}`)
      literals.push({ kind, start: i, value })
      from = j
      i = j
      continue
    }
    i++
  }
  if (literals.length === 0) return null
  key.push(text.slice(from))
  return { key: key.join(''), literals }
}

/** Operator characters after which `-` followed by a digit is a unary minus (a multi-character operator that keeps the `-` fails the template check). */
const BEFORE_UNARY = new Set([...'+-*/<>=(,'].map((ch) => ch.charCodeAt(0)))

/** Whether the `-` at `i` follows an operator, `(` or `,` (blanks between). */
function unaryPosition(text: string, i: number): boolean {
  let k = i - 1
  while (k >= 0 && isBlank(text.charCodeAt(k))) k--
  return k >= 0 && BEFORE_UNARY.has(text.charCodeAt(k))
}

/** The A_Const value libpg-query gives a literal (zero integers come out as an empty object). */
function constValue(l: Literal): Record<string, unknown> {
  if (l.kind === 'i') return { ival: l.value === 0 ? {} : { ival: l.value } }
  if (l.kind === 'f') return { fval: { fval: l.value } }
  return { sval: { sval: l.value } }
}

function sameValue(aConst: Record<string, unknown>, l: Literal): boolean {
  const want = constValue(l)
  const k = Object.keys(want)[0]!
  return JSON.stringify(aConst[k]) === JSON.stringify(want[k])
}

/** Paths to the A_Const nodes of `node`, by their location; null if two share one. */
function constsByLocation(node: unknown): Map<number, Path> | null {
  const out = new Map<number, Path>()
  const path: Path = []
  let clash = false
  const walk = (v: unknown): void => {
    if (clash || v === null || typeof v !== 'object') return
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i)
        walk(v[i])
        path.pop()
      }
      return
    }
    for (const k in v as Record<string, unknown>) {
      const x = (v as Record<string, unknown>)[k]
      if (k === 'A_Const' && x !== null && typeof x === 'object') {
        const loc = (x as { location?: number }).location
        if (loc !== undefined) {
          if (out.has(loc)) clash = true
          out.set(loc, [...path, k])
        }
        continue
      }
      path.push(k)
      walk(x)
      path.pop()
    }
  }
  walk(node)
  return clash ? null : out
}

function at(node: unknown, path: Path): unknown {
  let v = node
  for (const k of path) v = (v as Record<string | number, unknown>)[k]
  return v
}

/** The template for `node` parsed from a statement of `shape`, or null when it cannot be one. */
function templateOf(node: Node, shape: Shape): Template | null {
  const top = Object.keys(node)[0]!
  if (!TEMPLATED.includes(top)) return null
  if (top === 'SelectStmt' && (node as { SelectStmt: { intoClause?: unknown } }).SelectStmt.intoClause) return null
  const consts = constsByLocation(node)
  if (!consts) return null
  const slots: Path[] = []
  for (const l of shape.literals) {
    const path = consts.get(l.start)
    if (!path || !sameValue(at(node, path) as Record<string, unknown>, l)) return null
    slots.push(path)
  }
  return { node, plan: copyPlan(slots) }
}

/**
 * What a tree made from a template carries, under a symbol (not enumerable, so walks,
 * spreads and comparisons of the tree never see it): the template's tree and the tree's
 * A_Const records. A property, not a WeakMap: two WeakMap entries per statement cost more
 * than the rest of making the tree (their ephemerons are the collector's work).
 */
const MADE = Symbol('madeFromTemplate')

interface Made {
  origin: object
  constants: object[]
}

function madeOf(tree: object): Made | undefined {
  return (tree as { [MADE]?: Made })[MADE]
}

/**
 * The template tree `tree` was made from, or `tree` itself. Memos of facts about a whole
 * statement that do not depend on its constants' values (which columns it names) key on
 * this, so statements of one shape share their answers. (Subtrees holding no literal are
 * shared with the template as they are, so memos keyed by them hit anyway.)
 */
export function sharedNode<T extends object>(tree: T): T {
  return (madeOf(tree)?.origin as T | undefined) ?? tree
}

/**
 * The A_Const records `tree` got from its literals, in order (the same positions in every
 * tree of its template), or undefined for a tree not made from a template. A plan cached
 * for the template reads these per execution (plan/plan-cache.ts).
 */
export function templateConstants(tree: object): readonly object[] | undefined {
  return madeOf(tree)?.constants
}

/** The nodes to copy on the way down to the literals: a trie of the slots' paths. */
interface CopyPlan {
  /** Children to copy, by key. */
  into: Array<[string | number, CopyPlan]>
  /** Set on the A_Const key itself: which literal goes there. */
  literal?: number
}

function copyPlan(slots: Path[]): CopyPlan {
  const root: CopyPlan = { into: [] }
  slots.forEach((path, i) => {
    let at = root
    for (const k of path) {
      let next = at.into.find(([key]) => key === k)?.[1]
      if (!next) at.into.push([k, (next = { into: [] })])
      at = next
    }
    at.literal = i
  })
  return root
}

/** The A_Const record of `l` at `location`: `constValue`'s fields, then the location, as the parser orders them. */
function constRecord(l: Literal, location: unknown): object {
  if (l.kind === 'i') return { ival: l.value === 0 ? {} : { ival: l.value }, location }
  if (l.kind === 'f') return { fval: { fval: l.value }, location }
  return { sval: { sval: l.value }, location }
}

// Runs for every templated statement: indexed loops and records built at once (no iterator,
// no destructuring, no spread of a fresh object), which were most of its cost.
function copyAlong(src: Record<string | number, unknown>, plan: CopyPlan, literals: Literal[], made: object[]): Record<string | number, unknown> {
  const out: Record<string | number, unknown> = Array.isArray(src) ? (src.slice() as unknown as Record<number, unknown>) : { ...src }
  const into = plan.into
  for (let i = 0; i < into.length; i++) {
    const step = into[i]!
    const k = step[0]
    const sub = step[1]
    const child = src[k] as Record<string | number, unknown>
    if (sub.literal !== undefined) out[k] = made[sub.literal] = constRecord(literals[sub.literal]!, child['location'])
    else out[k] = copyAlong(child, sub, literals, made)
  }
  return out
}

/** The template's tree with each slot's A_Const holding `literals`' values; shares every untouched subtree. */
function instantiate(t: Template, literals: Literal[]): Node {
  const made: object[] = []
  const tree = copyAlong(t.node as Record<string, unknown>, t.plan, literals, made) as Node
  Object.defineProperty(tree, MADE, { value: { origin: t.node, constants: made } satisfies Made })
  return tree
}

/** A shape seen once: its second statement builds the template (one-off texts pay no walk). */
const SEEN = 'seen'
/** A shape that cannot have a template. */
const NONE = 'none'

interface ScriptTemplate extends Template {
  /** Where the statement's text lies in the script (after leading blanks, before a `;`). */
  textStart: number
  textEnd: number
}

/** Parsed scripts of one statement, shared by shape; least recently used shapes evicted first. */
export class LiteralTemplates {
  private readonly shapes = new Map<string, ScriptTemplate | typeof SEEN | typeof NONE>()
  private readonly maxEntries: number
  private readonly maxText: number
  /** Statements answered from a template (for tests and profiles). */
  hits = 0

  /** Holds up to `maxEntries` shapes of scripts up to `maxText` characters (longer ones, bulk INSERTs, are parsed). */
  constructor(maxEntries: number, maxText: number) {
    this.maxEntries = maxEntries
    this.maxText = maxText
  }

  /**
   * The statements of `script`: from its shape's template when it has one (no scanner,
   * no parser), else `parseAll(script)`, learning the shape from it.
   */
  parse(script: string, parseAll: (script: string) => Statement[]): Statement[] {
    const shape = script.length <= this.maxText ? literalShape(script) : null
    if (!shape) return parseAll(script)
    const entry = this.shapes.get(shape.key)
    if (entry !== undefined && entry !== SEEN && entry !== NONE) {
      this.shapes.delete(shape.key)
      this.shapes.set(shape.key, entry)
      this.hits++
      return [{ kind: 'pg', node: instantiate(entry, shape.literals), text: script.slice(entry.textStart, entry.textEnd) }]
    }
    const out = parseAll(script)
    if (entry === NONE) return out
    this.shapes.set(shape.key, entry === undefined ? SEEN : (scriptTemplate(script, shape, out) ?? NONE))
    if (this.shapes.size > this.maxEntries) this.shapes.delete(this.shapes.keys().next().value!)
    return out
  }
}

/** The template of a one-statement script, whose literals all lie in its statement's text. */
function scriptTemplate(script: string, shape: Shape, parsed: Statement[]): ScriptTemplate | null {
  const stmt = parsed[0]
  // A statement with parse notices (rare: a truncated identifier) is parsed each time, so each run has them.
  if (parsed.length !== 1 || stmt?.kind !== 'pg' || stmt.notices !== undefined) return null
  // Only blanks precede the statement (literalShape refuses comments): its first occurrence is it.
  const textStart = script.indexOf(stmt.text)
  if (textStart < 0) return null
  const textEnd = textStart + stmt.text.length
  if (shape.literals.some((l) => l.start < textStart || l.start >= textEnd)) return null
  // Parse-tree locations count from the statement's text, literal positions from the script.
  const t = templateOf(stmt.node, { key: shape.key, literals: shape.literals.map((l) => ({ ...l, start: l.start - textStart })) })
  return t ? { ...t, textStart, textEnd } : null
}
