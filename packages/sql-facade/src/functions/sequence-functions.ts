/**
 * nextval, currval, setval and lastval: the sequence given as regclass (a name literal
 * casts to it), its values int8, through the session's ExecCtx.sequences
 * (sequences/session-sequences.ts). Every one is volatile: never folded at planning.
 */
import type { ExecCtx } from '../exec/context.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { T } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ScalarResolver } from './scalar-impl.js'

/** The name of the sequence with OID `oid`; 42809 for another relation, 42P01 for none. */
function sequenceName(oid: RtValue, exec: ExecCtx): string {
  const r = exec.catalog().relation(oid as number)
  if (r?.kind === 'sequence') return r.sequence.name
  const name = exec.catalog().relationName(oid as number)
  if (name === undefined) throw new SqlError(SqlState.undefinedTable, `could not open relation with OID ${String(oid)}`)
  throw new SqlError(SqlState.wrongObjectType, `"${name}" is not a sequence`)
}

export const SEQUENCE_FUNCTIONS: Record<string, ScalarResolver> = {
  nextval: (ts) => (ts.length === 1 ? { args: [T.regclass], result: T.int8, volatile: true, fn: ([o], exec) => exec.sequences.nextval(sequenceName(o, exec)) } : null),
  currval: (ts) => (ts.length === 1 ? { args: [T.regclass], result: T.int8, volatile: true, fn: ([o], exec) => exec.sequences.currval(sequenceName(o, exec)) } : null),
  lastval: (ts) => (ts.length === 0 ? { args: [], result: T.int8, volatile: true, fn: (_a, exec) => exec.sequences.lastval() } : null),
  setval: (ts) => (ts.length === 2 || ts.length === 3
    ? {
      args: [T.regclass, T.int8, T.bool].slice(0, ts.length),
      result: T.int8,
      volatile: true,
      fn: ([o, v, called], exec) => exec.sequences.setval(sequenceName(o, exec), v as bigint, called !== false),
    }
    : null),
}
