/**
 * Casts between text and the OID alias types (regclass, regtype, regnamespace, regrole,
 * regproc), which need the catalog: `'orders'::regclass` looks the table up and
 * `c.oid::regclass::text` prints its name (catalog/object-names.ts). Every other cast of
 * these types is an ordinary OID cast (types/cast.ts).
 */
import type { ExecCtx } from '../runtime/context.js'
import { regInput, regOutput, type NameContext } from '../catalog/object-names.js'
import { arrayOf, category, elementType, isRegType, T, type SqlType } from '../types/sql-type.js'
import type { SqlArray } from '../types/array.js'
import { coerce, fold } from './coerce.js'
import type { Compiled } from './compiled.js'

function names(exec: ExecCtx): NameContext {
  return { catalog: () => exec.catalog(), user: exec.settings.user }
}

const isText = (t: SqlType): boolean => !t.array && (t.id === 'unknown' || category(t) === 'S')

/** `arg::to` when it needs a catalog lookup; null when an ordinary cast does. */
export function compileRegCast(arg: Compiled, to: SqlType, exec: ExecCtx): Compiled | null {
  if (isRegType(to) && isText(arg.type)) {
    const f = arg.eval
    const ctx = names(exec)
    return fold({ type: to, isConst: arg.isConst, eval: (env) => {
      const v = f(env)
      return v === null ? null : regInput(to, String(v), ctx)
    } })
  }
  if (to.array && isRegType(elementType(to)) && isText(arg.type)) {
    // '{int,int8}'::regtype[]: the literal's elements are names, each looked up.
    const texts = coerce(arg, arrayOf(T.text), 'explicit', exec.nowMicros).eval
    const el = elementType(to)
    const ctx = names(exec)
    return fold({ type: to, isConst: arg.isConst, eval: (env) => {
      const v = texts(env)
      return v === null ? null : (v as SqlArray).map((x) => (x === null ? null : regInput(el, String(x), ctx)))
    } })
  }
  if (isRegType(arg.type) && isText(to)) {
    const f = arg.eval
    const from = arg.type
    const ctx = names(exec)
    const asText: Compiled = { type: T.text, isConst: arg.isConst, eval: (env) => {
      const v = f(env)
      return v === null ? null : regOutput(from, v as number, ctx)
    } }
    return coerce(fold(asText), to, 'explicit', exec.nowMicros)
  }
  return null
}
