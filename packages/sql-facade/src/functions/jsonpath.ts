/**
 * The part of SQL/JSON path language that `jsonb @? path` and `jsonb @@ path` run here
 * (and jsonb_path_exists, _match, _query_array, _query_first: json-functions.ts), in
 * PostgreSQL's default lax mode:
 *
 *   paths      `$` or `@`, then `.key`, `."key"`, `[*]`, `[n]` and filters `? (predicate)`
 *   literals   strings, numbers, true, false, null
 *   predicates `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=` between paths and literals,
 *              `&&`, `||`, `!`, `exists(path)`, parentheses
 *
 * Lax mode as PostgreSQL: a key step applies to each element of an array, `[*]` on a
 * non-array yields the item, a missing key yields nothing, and a comparison is true when
 * any pair of (array-unwrapped) items compares true, unknown when none does and some pair
 * cannot be compared (different types, or arrays/objects), false otherwise. `@?` is true
 * when the path yields an item; `@@` gives the path's single boolean result, NULL when it
 * is not one. Anything else of the language (strict mode, `.**`, methods such as
 * `.size()`, arithmetic, variables, `like_regex`, `starts with`) is refused with 0A000
 * rather than read partially; text that is no path at all is 42601.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { JsonValue } from '../types/json.js'

type Step = { t: 'key'; key: string } | { t: 'all' } | { t: 'index'; i: number } | { t: 'filter'; pred: Expr }
type Expr =
  | { t: 'path'; root: '$' | '@'; steps: Step[] }
  | { t: 'lit'; v: JsonValue }
  | { t: 'cmp'; op: string; l: Expr; r: Expr }
  | { t: 'and' | 'or'; l: Expr; r: Expr }
  | { t: 'not'; e: Expr }
  | { t: 'exists'; p: Expr }

/** A predicate's value: true, false, or unknown (null). */
type Tri = boolean | null

const unsupported = (what: string): SqlError => new SqlError(SqlState.featureNotSupported, `jsonpath ${what} is not supported`)

const TOKEN = /\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(==|!=|<>|<=|>=|&&|\|\||[<>!()[\]?.*@$,])|([A-Za-z_][A-Za-z0-9_]*))/y

function tokenize(text: string): string[] {
  const out: string[] = []
  TOKEN.lastIndex = 0
  let at = 0
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break
    TOKEN.lastIndex = at
    const m = TOKEN.exec(text)
    if (!m) {
      if (/[+\-*/%]|like_regex|starts|\$[A-Za-z]/.test(text.slice(at))) throw unsupported(`expression "${text}"`)
      throw new SqlError(SqlState.syntaxError, `syntax error at or near "${text.slice(at).trim().slice(0, 20)}" of jsonpath input`)
    }
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!)
    at = TOKEN.lastIndex
  }
  return out
}

class Parser {
  private i = 0
  private readonly toks: string[]
  private readonly text: string

  constructor(text: string) {
    this.text = text
    this.toks = tokenize(text)
  }

  parse(): Expr {
    if (this.toks[0] === 'strict') throw unsupported('strict mode')
    if (this.toks[0] === 'lax') this.i++
    const e = this.or()
    if (this.i !== this.toks.length) this.fail()
    return e
  }

  private peek(): string | undefined {
    return this.toks[this.i]
  }

  private take(tok: string): void {
    if (this.toks[this.i] !== tok) this.fail()
    this.i++
  }

  private fail(): never {
    const at = this.toks[this.i]
    if (at === '*' || at === 'like_regex' || at === 'starts' || at === 'last' || at === 'to' || at === ',') throw unsupported(`expression "${this.text}"`)
    throw new SqlError(SqlState.syntaxError, `syntax error at or near "${at ?? 'end of input'}" of jsonpath input`)
  }

  private or(): Expr {
    let l = this.and()
    while (this.peek() === '||') {
      this.i++
      l = { t: 'or', l, r: this.and() }
    }
    return l
  }

  private and(): Expr {
    let l = this.not()
    while (this.peek() === '&&') {
      this.i++
      l = { t: 'and', l, r: this.not() }
    }
    return l
  }

  private not(): Expr {
    if (this.peek() === '!') {
      this.i++
      this.take('(')
      const e = this.or()
      this.take(')')
      return { t: 'not', e }
    }
    return this.comparison()
  }

  private comparison(): Expr {
    const l = this.value()
    const op = this.peek()
    if (op === '==' || op === '!=' || op === '<>' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      this.i++
      return { t: 'cmp', op: op === '<>' ? '!=' : op, l, r: this.value() }
    }
    return l
  }

  private value(): Expr {
    const tok = this.peek()
    if (tok === undefined) this.fail()
    if (tok === '(') {
      this.i++
      const e = this.or()
      this.take(')')
      return e
    }
    if (tok === 'exists') {
      this.i++
      this.take('(')
      const p = this.or()
      this.take(')')
      if (p.t !== 'path') this.fail()
      return { t: 'exists', p }
    }
    if (tok === '$' || tok === '@') {
      this.i++
      return { t: 'path', root: tok, steps: this.steps() }
    }
    this.i++
    if (tok.startsWith('"')) return { t: 'lit', v: JSON.parse(tok) as string }
    if (/^-?\d/.test(tok)) return { t: 'lit', v: Number(tok) }
    if (tok === 'true' || tok === 'false') return { t: 'lit', v: tok === 'true' }
    if (tok === 'null') return { t: 'lit', v: null }
    if (/^[A-Za-z_]/.test(tok)) throw unsupported(`expression "${this.text}"`)
    this.i--
    return this.fail()
  }

  private steps(): Step[] {
    const out: Step[] = []
    for (;;) {
      const tok = this.peek()
      if (tok === '.') {
        this.i++
        const key = this.peek()
        if (key === undefined) this.fail()
        if (key === '*') throw unsupported(`wildcard member accessor in "${this.text}"`)
        this.i++
        if (this.peek() === '(') throw unsupported(`method .${key}() in "${this.text}"`)
        if (key.startsWith('"')) out.push({ t: 'key', key: JSON.parse(key) as string })
        else if (/^[A-Za-z_]/.test(key)) out.push({ t: 'key', key })
        else this.fail()
      } else if (tok === '[') {
        this.i++
        const what = this.peek()
        this.i++
        if (what === '*') out.push({ t: 'all' })
        else if (what !== undefined && /^-?\d+$/.test(what)) out.push({ t: 'index', i: Number(what) })
        else throw unsupported(`array accessor in "${this.text}"`)
        this.take(']')
      } else if (tok === '?') {
        this.i++
        this.take('(')
        const pred = this.or()
        this.take(')')
        out.push({ t: 'filter', pred })
      } else return out
    }
  }
}

const cache = new Map<string, Expr>()

function compile(text: string): Expr {
  let e = cache.get(text)
  if (!e) {
    e = new Parser(text).parse()
    if (cache.size > 1000) cache.clear()
    cache.set(text, e)
  }
  return e
}

function isObject(v: JsonValue): v is { [k: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function applyStep(items: JsonValue[], step: Step, root: JsonValue): JsonValue[] {
  const out: JsonValue[] = []
  for (const item of items) {
    switch (step.t) {
      case 'key': {
        for (const x of Array.isArray(item) ? item : [item]) if (isObject(x) && Object.prototype.hasOwnProperty.call(x, step.key)) out.push(x[step.key]!)
        break
      }
      case 'all': out.push(...(Array.isArray(item) ? item : [item])); break
      case 'index': {
        const arr = Array.isArray(item) ? item : [item]
        if (step.i >= 0 && step.i < arr.length) out.push(arr[step.i]!)
        break
      }
      case 'filter': {
        for (const x of Array.isArray(item) ? item : [item]) if (predicate(step.pred, x, root) === true) out.push(x)
        break
      }
    }
  }
  return out
}

function sequence(e: Expr, current: JsonValue, root: JsonValue): JsonValue[] {
  if (e.t === 'lit') return [e.v]
  if (e.t === 'path') {
    let items = [e.root === '$' ? root : current]
    for (const s of e.steps) items = applyStep(items, s, root)
    return items
  }
  // A predicate where a value is expected yields its boolean (unknown as null).
  return [predicate(e, current, root)]
}

/** One pair of a comparison: true / false, or null when the items cannot be compared. */
function compareItems(op: string, a: JsonValue, b: JsonValue): Tri {
  if (a === null || b === null) {
    if (a === null && b === null) return op === '==' || op === '<=' || op === '>='
    return op === '!='
  }
  const numeric = (x: JsonValue): boolean => typeof x === 'number' || typeof x === 'bigint'
  if (!(numeric(a) && numeric(b)) && (typeof a !== typeof b || typeof a === 'object')) return null
  const c = a < b ? -1 : a > b ? 1 : 0
  switch (op) {
    case '==': return c === 0
    case '!=': return c !== 0
    case '<': return c < 0
    case '<=': return c <= 0
    case '>': return c > 0
    default: return c >= 0
  }
}

function predicate(e: Expr, current: JsonValue, root: JsonValue): Tri {
  switch (e.t) {
    case 'and': {
      const l = predicate(e.l, current, root)
      if (l === false) return false
      const r = predicate(e.r, current, root)
      return r === false ? false : l === null || r === null ? null : true
    }
    case 'or': {
      const l = predicate(e.l, current, root)
      if (l === true) return true
      const r = predicate(e.r, current, root)
      return r === true ? true : l === null || r === null ? null : false
    }
    case 'not': {
      const v = predicate(e.e, current, root)
      return v === null ? null : !v
    }
    case 'exists': return sequence(e.p, current, root).length > 0
    case 'cmp': {
      const unwrap = (xs: JsonValue[]): JsonValue[] => xs.flatMap((x) => (Array.isArray(x) ? x : [x]))
      const ls = unwrap(sequence(e.l, current, root))
      const rs = unwrap(sequence(e.r, current, root))
      let error = false
      for (const a of ls) {
        for (const b of rs) {
          const v = compareItems(e.op, a, b)
          if (v === true) return true
          if (v === null) error = true
        }
      }
      return error ? null : false
    }
    default: {
      // A path or literal used as a predicate: PostgreSQL accepts only a boolean result.
      const v = sequence(e, current, root)
      return v.length === 1 && typeof v[0] === 'boolean' ? v[0] : null
    }
  }
}

/** `jsonb @? path`: whether the path yields any item. */
export function jsonPathExists(json: JsonValue, path: string): boolean {
  return sequence(compile(path), json, json).length > 0
}

/** `jsonb @@ path`: the path's single boolean result, NULL when it is not one. */
export function jsonPathMatch(json: JsonValue, path: string): boolean | null {
  const e = compile(path)
  if (e.t === 'path' || e.t === 'lit') {
    const v = sequence(e, json, json)
    return v.length === 1 && typeof v[0] === 'boolean' ? v[0] : null
  }
  return predicate(e, json, json)
}

/** The items a path yields (jsonb_path_query and friends); a predicate yields its one boolean, or null when unknown. */
export function jsonPathQuery(json: JsonValue, path: string): JsonValue[] {
  const e = compile(path)
  if (e.t === 'path' || e.t === 'lit') return sequence(e, json, json)
  return [predicate(e, json, json)]
}
