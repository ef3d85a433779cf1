/**
 * Parse trees shared by statements that differ only in their literal constants.
 *
 * Clients that inline values (pgbench -M simple, ORMs building SQL text) send a new text
 * for every execution, so the cache by text (parse.ts) misses and the scanner and the
 * WASM parser run again. Here a one-statement script is reduced to its *shape*: its text
 * with each integer, decimal and plain '...' string literal replaced by a placeholder
 * naming the literal's kind. The second script of a shape is parsed as usual (the first
 * only marks the shape as seen, so one-off texts pay nothing more); if every literal maps
 * to exactly one A_Const node at its position, with its value, that tree becomes the
 * shape's template. Later scripts of the shape get the template with those A_Const nodes
 * replaced by their own values (the nodes on the way down are copied, the rest is
 * shared), without the scanner or the parser. A bulk INSERT .. VALUES of a thousand rows
 * is one shape per row count and column list, whatever its values.
 *
 * Invariants:
 * - Same shape means the same tokens in the same places: the grammar builds the same
 *   tree. Literal lengths are not part of the shape, so a location may differ from the
 *   template's: each location at or past the first literal is kept as an anchor (a
 *   literal's start or end) plus the offset of unchanged text from it, and a statement
 *   whose literals' lengths differ from the template's gets every such node copied with
 *   its location moved. A template whose tree has a location inside a literal is refused.
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
 * - Memory is bounded by the number of shapes and by the literals all templates hold
 *   together (a template's tree and copy plan grow with its literals, not its text).
 */
import type { Node } from 'libpg-query'
import type { Statement } from './statement.js'

type Kind = 'i' | 'f' | 's'

interface Literal {
  kind: Kind
  start: number
  /** Just past its last character. */
  end: number
  /** The value the parser gives it: ival for 'i', the text for 'f', the unquoted string for 's'. */
  value: number | string
}

interface Shape {
  key: string
  literals: Literal[]
}

interface Template {
  node: Node
  /** The way down to each literal's A_Const. */
  plan: CopyPlan
  /** The same, and down to every node whose location is anchored to a literal: for a statement whose literals' lengths differ. */
  movePlan: CopyPlan
  /** Each literal's length in the template's text. */
  lengths: number[]
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

/** What a plain string literal this lexer takes holds none of: a backslash (escapes under standard_conforming_strings off), non-ASCII, NUL. */
const UNLEXED_IN_STRING = /[\\\u0000\u0080-\uffff]/

/**
 * `s` as a string of its own. A slice of 13 characters or more is a view of the text it was
 * cut from in V8, so a string literal's value, stored in a row, would keep the whole
 * statement (~43 KB for a bulk INSERT) alive as long as the row; the concatenation is
 * flattened into a new string of its own when sliced.
 */
function detached(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1)
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
    // A NUL could pass for a placeholder's; PostgreSQL's protocol cannot carry one anyway.
    if (c > 127 || c === 0) return null
    if (c === 39) {
      // A prefix letter (E'', B'', X'', N'', U&'') makes it another kind of string.
      const prev = i > 0 ? text.charCodeAt(i - 1) : 32
      if (isWordPart(prev) || prev === 38) return null
      // Quote to quote by indexOf, each part checked by one regular expression (most of a bulk INSERT's text is strings).
      let j = i + 1
      let value = ''
      for (;;) {
        const q = text.indexOf("'", j)
        if (q < 0) return null
        const part = text.slice(j, q)
        if (UNLEXED_IN_STRING.test(part)) return null
        if (text.charCodeAt(q + 1) === 39) {
          value += part + "'"
          j = q + 2
          continue
        }
        value = detached(value + part)
        j = q + 1 // past the closing quote
        break
      }
      // Strings separated by a newline are one constant to PostgreSQL: not a shape we share.
      let k = j
      while (k < n && isBlank(text.charCodeAt(k))) k++
      if (text.charCodeAt(k) === 39) return null
      key.push(text.slice(from, i), '\u0000s')
      literals.push({ kind: 's', start: i, end: j, value })
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
      let value: number | string | undefined
      if (kind === 'i' && j - digits <= 9) {
        // Nine digits or fewer: an int4, read without cutting its text out (a bulk INSERT's every key).
        let v = 0
        for (let d = digits; d < j; d++) v = v * 10 + text.charCodeAt(d) - 48
        // -0 is 0.
        value = negative && v !== 0 ? -v : v
      } else {
        const raw = text.slice(digits, j)
        value = negative ? `-${raw}` : detached(raw)
        if (kind === 'i') {
          const v = raw.length <= 10 ? Number(raw) : Infinity
          // Past int4 (even -2147483648) PostgreSQL keeps a numeric constant's text, negated.
          if (v <= INT4_MAX) value = negative && v !== 0 ? -v : v
          else kind = 'f'
        }
      }
      key.push(text.slice(from, i), negative ? `\u0000-${kind}` : `\u0000${kind}`)
      literals.push({ kind, start: i, end: j, value })
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

/** Whether the A_Const record holds `l`'s value as `constValue` gives it (compared field by field: it runs once per literal of a template). */
function sameValue(aConst: Record<string, unknown>, l: Literal): boolean {
  const want = constValue(l)
  const k = l.kind === 'i' ? 'ival' : l.kind === 'f' ? 'fval' : 'sval'
  const got = aConst[k] as Record<string, unknown> | undefined
  const wanted = want[k] as Record<string, unknown>
  if (got === null || typeof got !== 'object') return false
  let n = 0
  for (const f in got) {
    if (got[f] !== wanted[f]) return false
    n++
  }
  return n === Object.keys(wanted).length
}

/**
 * Fields of parse-tree nodes that hold a position in the statement's text: `location`,
 * and `list_start` / `list_end` (ARRAY[..]), `rexpr_list_start` / `rexpr_list_end`
 * (IN (..)), `name_location`. A field holding a length (`stmt_len`) cannot be moved by an
 * anchor: a tree with one gets no template.
 */
const POSITION = new Set(['location', 'list_start', 'list_end', 'rexpr_list_start', 'rexpr_list_end', 'name_location', 'stmt_location'])
const LENGTH = new Set(['stmt_len'])

interface TreeLocations {
  /** The A_Const records, by their location. */
  consts: Map<number, object>
  /** Every position from `from` on (A_Const records' included): the node, the field, the position. */
  located: Array<[object, string, number]>
}

/**
 * The A_Const records and the positions from `from` on of `node` (those before never
 * move); null if two A_Const records share a location or a node holds a length.
 */
function treeLocations(node: unknown, from: number): TreeLocations | null {
  const consts = new Map<number, object>()
  const located: Array<[object, string, number]> = []
  let clash = false
  const walk = (v: unknown): void => {
    if (clash || v === null || typeof v !== 'object') return
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i])
      return
    }
    for (const k in v as Record<string, unknown>) {
      const x = (v as Record<string, unknown>)[k]
      if (typeof x === 'number') {
        if (POSITION.has(k)) {
          if (x >= from) located.push([v, k, x])
        } else if (LENGTH.has(k)) clash = true
        continue
      }
      if (k === 'A_Const' && x !== null && typeof x === 'object') {
        const at = (x as { location?: number }).location
        if (at !== undefined) {
          if (consts.has(at)) clash = true
          consts.set(at, x)
        }
      }
      walk(x)
    }
  }
  walk(node)
  return clash ? null : { consts, located }
}

/**
 * Where `loc` lies relative to the literals (sorted by start, not overlapping): null
 * before the first (it never moves), else [anchor, offset] with anchor 2j for literal
 * j's start and 2j + 1 for its end; undefined for a location inside a literal.
 */
function anchorOf(loc: number, literals: Literal[]): [number, number] | null | undefined {
  if (loc < 0 || literals.length === 0 || loc < literals[0]!.start) return null
  let lo = 0
  let hi = literals.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (literals[mid]!.start <= loc) lo = mid
    else hi = mid - 1
  }
  const l = literals[lo]!
  if (loc === l.start) return [2 * lo, 0]
  if (loc < l.end) return undefined
  return [2 * lo + 1, loc - l.end]
}

/** The template for `node` parsed from a statement of `shape`, or null when it cannot be one. */
function templateOf(node: Node, shape: Shape): Template | null {
  const top = Object.keys(node)[0]!
  if (!TEMPLATED.includes(top)) return null
  if (top === 'SelectStmt' && (node as { SelectStmt: { intoClause?: unknown } }).SelectStmt.intoClause) return null
  const found = treeLocations(node, shape.literals[0]!.start)
  if (!found) return null
  const slots = new Map<object, number>()
  shape.literals.forEach((l, i) => {
    const record = found.consts.get(l.start)
    if (record && sameValue(record as Record<string, unknown>, l)) slots.set(record, i)
  })
  if (slots.size !== shape.literals.length) return null
  const moves = new Map<object, Move[]>()
  for (const [at, field, loc] of found.located) {
    // A slot's A_Const record is made anew, at its literal's start.
    if (slots.has(at)) continue
    const anchor = anchorOf(loc, shape.literals)
    if (anchor === undefined) return null
    if (anchor === null) continue
    let list = moves.get(at)
    if (!list) moves.set(at, (list = []))
    list.push([field, anchor[0], anchor[1]])
  }
  const plan = copyPlan(node, slots, new Map())
  // Positions only past the literals' A_Const records (a plain VALUES list): one plan serves both.
  const movePlan = moves.size === 0 ? plan : copyPlan(node, slots, moves)
  if (!plan || !movePlan) return null
  return { node, plan, movePlan, lengths: shape.literals.map((l) => l.end - l.start) }
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

/** A position field that moves with the literals: the field, its anchor and offset (see anchorOf). */
type Move = [string, number, number]

/** The nodes to copy on the way down to the literals (and to moved positions): a trie of their paths. */
interface CopyPlan {
  /** Children to copy, by key. */
  into: Array<[string | number, CopyPlan]>
  /** On the A_Const key itself: which literal goes there (else -1). */
  literal: number
  /** On a node whose positions move with the literals: which (else null). */
  move: Move[] | null
  /** The template node's own keys (null for an array): the copy is built from them. */
  keys: string[] | null
  /** On a VALUES row (`{ List: { items } }`) whose changes are only literals that are items: those (see copyRow), else null. */
  row: RowPlan | null
}

/** The literals of a VALUES row that are its items: the item positions, and the literal at each. */
interface RowPlan {
  at: number[]
  literals: number[]
}

/** Leaf plans by literal index, shared by every template (immutable). */
const literalPlans: CopyPlan[] = []

function literalPlan(i: number): CopyPlan {
  while (literalPlans.length <= i) literalPlans.push({ into: [], literal: literalPlans.length, move: null, keys: null, row: null })
  return literalPlans[i]!
}

/** The copy plan of `tree` for literals in the A_Const records `slots` (to their literal's index) and positions `moves`; null where neither lies. */
function copyPlan(tree: unknown, slots: ReadonlyMap<object, number>, moves: ReadonlyMap<object, Move[]>): CopyPlan | null {
  if (tree === null || typeof tree !== 'object') return null
  const into: CopyPlan['into'] = []
  if (Array.isArray(tree)) {
    for (let i = 0; i < tree.length; i++) {
      const sub = copyPlan(tree[i], slots, moves)
      if (sub) into.push([i, sub])
    }
  } else {
    for (const k in tree as Record<string, unknown>) {
      const x = (tree as Record<string, unknown>)[k]
      const literal = k === 'A_Const' && x !== null && typeof x === 'object' ? slots.get(x) : undefined
      const sub = literal !== undefined ? literalPlan(literal) : copyPlan(x, slots, moves)
      if (sub) into.push([k, sub])
    }
  }
  const move = moves.get(tree) ?? null
  if (into.length === 0 && move === null) return null
  return { into, literal: -1, move, keys: Array.isArray(tree) ? null : keysOf(tree), row: rowPlan(tree, into, move) }
}

/**
 * The row plan of `tree` with children to copy `into`, when it is a VALUES row whose only
 * changes are literals that are its items (`{ List: { items: [{ A_Const }, ..] } }`, no
 * position to move on the way), else null. Every key on the way is checked: the copy
 * copyRow makes must be the one copyAlong would.
 */
function rowPlan(tree: unknown, into: CopyPlan['into'], move: Move[] | null): RowPlan | null {
  if (move !== null || into.length !== 1 || into[0]![0] !== 'List' || !onlyKey(tree, 'List')) return null
  const list = (tree as { List: unknown }).List
  const listPlan = into[0]![1]
  if (listPlan.move !== null || listPlan.into.length !== 1 || listPlan.into[0]![0] !== 'items' || !onlyKey(list, 'items')) return null
  const items = (list as { items: unknown }).items
  const itemsPlan = listPlan.into[0]![1]
  if (!Array.isArray(items) || itemsPlan.move !== null) return null
  const at: number[] = []
  const literals: number[] = []
  for (const [i, sub] of itemsPlan.into) {
    const item = items[i as number]
    if (sub.move !== null || sub.into.length !== 1 || sub.into[0]![0] !== 'A_Const' || sub.into[0]![1].literal < 0 || !onlyKey(item, 'A_Const')) return null
    at.push(i as number)
    literals.push(sub.into[0]![1].literal)
  }
  return { at, literals }
}

function onlyKey(node: unknown, key: string): boolean {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false
  const keys = Object.keys(node)
  return keys.length === 1 && keys[0] === key
}

/** Key lists shared between plan nodes (a VALUES list has thousands of nodes of a few shapes); bounded, as node shapes are. */
const keyLists = new Map<string, string[]>()

function keysOf(node: object): string[] {
  const keys = Object.keys(node)
  const id = keys.join(',')
  const known = keyLists.get(id)
  if (known) return known
  if (keyLists.size < 4096) keyLists.set(id, keys)
  return keys
}

/** The A_Const record of `l` at `location`: `constValue`'s fields, then the location, as the parser orders them. */
function constRecord(l: Literal, location: unknown): object {
  if (l.kind === 'i') return { ival: l.value === 0 ? {} : { ival: l.value }, location }
  if (l.kind === 'f') return { fval: { fval: l.value }, location }
  return { sval: { sval: l.value }, location }
}

/** One instantiation: the statement's literals (positions in the script) and where its text starts. */
interface Fill {
  literals: Literal[]
  textStart: number
  /** False when every literal has the template's length: locations are the template's. */
  moved: boolean
  made: object[]
}

/** Where anchor `a` (see anchorOf) lies in the statement being made. */
function anchorAt(f: Fill, a: number): number {
  const l = f.literals[a >> 1]!
  return ((a & 1) === 0 ? l.start : l.end) - f.textStart
}

// Runs for every templated statement: indexed loops and records built at once (no iterator,
// no destructuring, no spread of a fresh object), which were most of its cost.
// Copying an object goes by its kind of node: a spread (or a key-by-key copy) of nodes of
// many shapes at one site is megamorphic, and was most of the cost of a 1,000-row VALUES,
// whose rows are `{ List: { items: [{ A_Const: .. }, ..] } }`.
function copyAlong(src: Record<string | number, unknown>, plan: CopyPlan, f: Fill): Record<string | number, unknown> {
  if (plan.row !== null) return copyRow(src as unknown as ValuesRow, plan.row, f) as unknown as Record<string | number, unknown>
  const keys = plan.keys
  const into = plan.into
  if (keys !== null && keys.length === 1 && into.length === 1 && plan.move === null) {
    const sub = into[0]![1]
    const key = keys[0]!
    const child = src[key] as Record<string | number, unknown>
    return wrap(src, key, sub.literal >= 0 ? literalRecord(sub.literal, child, f) : copyAlong(child, sub, f))
  }
  // A spread copies a node of the template as its own keys would, in one step that keeps
  // the node's hidden class (a keyed store per key was ~6x slower, more on real trees).
  const out: Record<string | number, unknown> = keys === null ? ((src as unknown as unknown[]).slice() as unknown as Record<number, unknown>) : { ...src }
  for (let i = 0; i < into.length; i++) {
    const step = into[i]!
    const k = step[0]
    const sub = step[1]
    const child = src[k] as Record<string | number, unknown>
    out[k] = sub.literal >= 0 ? literalRecord(sub.literal, child, f) : copyAlong(child, sub, f)
  }
  const move = plan.move
  if (move !== null) for (let i = 0; i < move.length; i++) out[move[i]![0]] = anchorAt(f, move[i]![1]) + move[i]![2]
  return out
}

type ValuesRow = { List: { items: Array<{ A_Const: Record<string, unknown> }> } }

/**
 * A VALUES row with its literal items replaced (what copyAlong makes of it by the generic
 * plan, made by fixed property names: the generic walk's keyed loads and stores over
 * nodes of many kinds were most of a 1,000-row INSERT's copy).
 */
function copyRow(src: ValuesRow, row: RowPlan, f: Fill): ValuesRow {
  const items = src.List.items.slice()
  const at = row.at
  for (let k = 0; k < at.length; k++) {
    const i = at[k]!
    items[i] = { A_Const: literalRecord(row.literals[k]!, items[i]!.A_Const, f) as Record<string, unknown> }
  }
  return { List: { items } }
}

/** The A_Const record of literal `i` (replacing the template's `was`), noted in `f.made`. */
function literalRecord(i: number, was: Record<string | number, unknown>, f: Fill): object {
  const l = f.literals[i]!
  return (f.made[i] = constRecord(l, f.moved ? l.start - f.textStart : was['location']))
}

/**
 * `{ [key]: value }` for a node `src` of one key: an object literal for the keys of a VALUES
 * row (see copyAlong), else a spread of `src` (keeping its hidden class) with the key
 * stored again. A computed key in a literal goes through the runtime: ~3x the spread's
 * time, and it was 4% of a templated point SELECT's time on a node.
 */
function wrap(src: Record<string | number, unknown>, key: string, value: unknown): Record<string, unknown> {
  switch (key) {
    case 'A_Const':
      return { A_Const: value }
    case 'List':
      return { List: value }
    case 'items':
      return { items: value }
    // A statement's root, which instantiate marks: a property added to a copy of the
    // template's root (a spread) took longer than the copy.
    case 'SelectStmt':
      return { SelectStmt: value }
    case 'InsertStmt':
      return { InsertStmt: value }
    case 'UpdateStmt':
      return { UpdateStmt: value }
    case 'DeleteStmt':
      return { DeleteStmt: value }
    default: {
      const out = { ...src }
      out[key] = value
      return out
    }
  }
}

/** The template's tree with each slot's A_Const holding `literals`' values; shares every untouched subtree. */
function instantiate(t: Template, literals: Literal[], textStart: number): Node {
  let moved = false
  for (let i = 0; i < literals.length && !moved; i++) moved = literals[i]!.end - literals[i]!.start !== t.lengths[i]
  const f: Fill = { literals, textStart, moved, made: [] }
  const tree = copyAlong(t.node as Record<string, unknown>, moved ? t.movePlan : t.plan, f) as Node
  Object.defineProperty(tree, MADE, { value: { origin: t.node, constants: f.made } satisfies Made })
  return tree
}

/** A shape seen once: its second statement builds the template (one-off texts pay no walk). */
const SEEN = 'seen'
/** A shape that cannot have a template. */
const NONE = 'none'

interface ScriptTemplate extends Template {
  /** Used since eviction last looked at it (a second chance: see LiteralTemplates.add). */
  used: boolean
  /** Where the statement's text lies in the script: after leading blanks (the same in every script of the shape) .. */
  textStart: number
  /** .. and before this many characters of the script's end (a `;`, blanks). */
  textTail: number
}

type ShapeEntry = ScriptTemplate | typeof SEEN | typeof NONE

/** What templates may hold together. */
export interface TemplateLimits {
  /** Shapes remembered (templates, and shapes seen once or refused). */
  maxEntries: number
  /** Characters of one script considered for a template; longer ones are parsed. */
  maxText: number
  /** Characters of shape keys held together. */
  maxKeyChars: number
  /** Literals of all templates together (a template's tree and copy plans grow with them). */
  maxLiterals: number
}

/** Parsed scripts of one statement, shared by shape; the oldest shapes not used since they were last looked at evicted first. */
export class LiteralTemplates {
  private readonly shapes = new Map<string, ShapeEntry>()
  private readonly limits: TemplateLimits
  private keyChars = 0
  private literals = 0
  /** Statements answered from a template (for tests and profiles). */
  hits = 0

  constructor(limits: TemplateLimits) {
    this.limits = limits
  }

  /**
   * The statements of `script`: from its shape's template when it has one (no scanner,
   * no parser), else `parseAll(script)`, learning the shape from it.
   */
  parse(script: string, parseAll: (script: string) => Statement[]): Statement[] {
    const shape = script.length <= this.limits.maxText ? literalShape(script) : null
    // A shape that could take more than a quarter of the budget is not worth evicting others for.
    if (!shape || shape.key.length * 4 > this.limits.maxKeyChars || shape.literals.length * 4 > this.limits.maxLiterals) return parseAll(script)
    const entry = this.shapes.get(shape.key)
    if (entry !== undefined && entry !== SEEN && entry !== NONE) {
      entry.used = true
      this.hits++
      return [{ kind: 'pg', node: instantiate(entry, shape.literals, entry.textStart), text: script.slice(entry.textStart, script.length - entry.textTail) }]
    }
    const out = parseAll(script)
    if (entry === NONE) return out
    this.remove(shape.key)
    this.add(shape.key, entry === undefined ? SEEN : (scriptTemplate(script, shape, out) ?? NONE), shape.literals.length)
    return out
  }

  /** Literals held by templates now (tests). */
  get literalsHeld(): number {
    return this.literals
  }

  private add(key: string, entry: ShapeEntry, literals: number): void {
    this.shapes.set(key, entry)
    this.keyChars += key.length
    if (typeof entry === 'object') this.literals += literals
    while (this.shapes.size > this.limits.maxEntries || this.keyChars > this.limits.maxKeyChars || this.literals > this.limits.maxLiterals) {
      const oldest = this.shapes.keys().next().value!
      const front = this.shapes.get(oldest)!
      // A template used since it was last here goes to the back instead (clock-like): an
      // exact LRU's move on every use was two more Map operations per statement.
      if (typeof front === 'object' && front.used && oldest !== key) {
        front.used = false
        this.shapes.delete(oldest)
        this.shapes.set(oldest, front)
        continue
      }
      this.remove(oldest)
    }
  }

  private remove(key: string): void {
    const entry = this.shapes.get(key)
    if (entry === undefined) return
    this.shapes.delete(key)
    this.keyChars -= key.length
    if (typeof entry === 'object') this.literals -= entry.lengths.length
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
  if (shape.literals.some((l) => l.start < textStart || l.end > textEnd)) return null
  // Parse-tree locations count from the statement's text, literal positions from the script.
  const t = templateOf(stmt.node, { key: shape.key, literals: shape.literals.map((l) => ({ ...l, start: l.start - textStart, end: l.end - textStart })) })
  return t ? { ...t, textStart, textTail: script.length - textEnd, used: false } : null
}
