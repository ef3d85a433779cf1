/**
 * nextval, currval, setval and lastval: the sequence given as regclass (a name literal
 * casts to it), its values int8, through the session's ExecCtx.sequences
 * (sequences/session-sequences.ts). Every one is volatile: never folded at planning.
 */
import type { ExecCtx } from '../runtime/context.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { T } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ScalarResolver } from './scalar-impl.js'
import { regInput } from '../catalog/object-names.js'
import { category, type SqlType } from '../types/sql-type.js'
import type { SequenceModel } from '../catalog/catalog-model.js'
import type { PrivilegeLetter } from '../catalog/table-privilege.js'

/** The sequence with OID `oid`; 42809 for another relation, 42P01 for none. */
function sequenceOf(oid: RtValue, exec: ExecCtx): SequenceModel {
  const r = exec.catalog().relation(oid as number)
  if (r?.kind === 'sequence') return r.sequence
  const name = exec.catalog().relationName(oid as number)
  if (name === undefined) throw new SqlError(SqlState.undefinedTable, `could not open relation with OID ${String(oid)}`)
  throw new SqlError(SqlState.wrongObjectType, `"${name}" is not a sequence`)
}

/**
 * The role must hold one of `any` on a user sequence (PostgreSQL's sequence privileges:
 * nextval USAGE or UPDATE, currval and lastval USAGE or SELECT, setval UPDATE), 42501
 * otherwise. A SERIAL column's sequence follows its table's privileges (INSERT draws it).
 */
function requirePrivilege(exec: ExecCtx, name: string, any: PrivilegeLetter[]): void {
  const s = exec.catalog().sequences.find((q) => q.name === name)
  if (s === undefined || s.serial !== undefined) return
  const held = exec.roles().privileges(exec.role.oid, { name, incarnation: 0 })
  if (!any.some((l) => held.has(l))) throw new SqlError(SqlState.insufficientPrivilege, `permission denied for sequence ${name}`)
}

/** A text argument (`'s'::text`, a text column) is read as a regclass name, as PostgreSQL's implicit text to regclass cast does. */
const isText = (t: SqlType | undefined): boolean => t !== undefined && !t.array && t.id !== 'unknown' && category(t) === 'S'

function seqArg(ts: SqlType[]): SqlType {
  return isText(ts[0]) ? T.text : T.regclass
}

function relationOf(arg: RtValue, exec: ExecCtx): RtValue {
  return typeof arg === 'string' ? regInput(T.regclass, arg, { catalog: () => exec.catalog(), user: exec.settings.user }) : arg
}

/**
 * A standby draws no sequence values, as a PostgreSQL hot standby (25006); nor does a READ
 * ONLY transaction, except of the session's temporary sequences, as in PostgreSQL.
 */
function writable(exec: ExecCtx, fn: string, oid?: RtValue): void {
  if (exec.replication().role === 'standby') throw new SqlError(SqlState.readOnlySqlTransaction, `cannot execute ${fn}() in a read-only transaction`)
  if (oid === undefined || exec.settings.show('transaction_read_only') !== 'on') return
  const r = exec.catalog().relation(oid as number)
  if (r?.kind === 'sequence' && r.sequence.def.temporary === true) return
  throw new SqlError(SqlState.readOnlySqlTransaction, `cannot execute ${fn}() in a read-only transaction`)
}

/** A user sequence's name; a SERIAL column's sequence has no value to read or set here (0A000). */
function sequenceName(oid: RtValue, exec: ExecCtx, what: string): string {
  const s = sequenceOf(oid, exec)
  if (s.serial !== undefined) {
    throw new SqlError(SqlState.featureNotSupported, `${what} of a SERIAL column's sequence ("${s.name}") is not supported`, {
      hint: 'Its ids are drawn per node, with no cluster-wide current value: use INSERT .. RETURNING.',
    })
  }
  return s.name
}

/** nextval: a user sequence's next value, or a SERIAL column's next node-unique id. */
function nextval(oid: RtValue, exec: ExecCtx): RtValue {
  const s = sequenceOf(oid, exec)
  if (s.serial === undefined) return exec.sequences.nextval(s.name)
  const table = exec.tx.table(s.serial.table)
  if (table === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${s.serial.table}" does not exist`)
  return BigInt(exec.nextSerial(table, s.serial.column))
}

export const SEQUENCE_FUNCTIONS: Record<string, ScalarResolver> = {
  nextval: (ts) => (ts.length === 1 ? { args: [seqArg(ts)], result: T.int8, volatile: true, fn: ([o], exec) => {
    const oid = relationOf(o!, exec)
    const s = sequenceOf(oid, exec)
    requirePrivilege(exec, s.name, ['U', 'w'])
    writable(exec, 'nextval', oid)
    return nextval(oid, exec)
  } } : null),
  currval: (ts) => (ts.length === 1 ? { args: [seqArg(ts)], result: T.int8, volatile: true, fn: ([o], exec) => {
    const name = sequenceName(relationOf(o!, exec), exec, 'currval')
    requirePrivilege(exec, name, ['U', 'r'])
    return exec.sequences.currval(name)
  } } : null),
  lastval: (ts) => (ts.length === 0 ? { args: [], result: T.int8, volatile: true, fn: (_a, exec) => {
    const value = exec.sequences.lastval()
    const name = exec.sequences.lastSequence()
    if (name !== null) requirePrivilege(exec, name, ['U', 'r'])
    return value
  } } : null),
  setval: (ts) => (ts.length === 2 || ts.length === 3
    ? {
      args: [seqArg(ts), T.int8, T.bool].slice(0, ts.length),
      result: T.int8,
      volatile: true,
      fn: ([o, v, called], exec) => {
        const oid = relationOf(o!, exec)
        const name = sequenceName(oid, exec, 'setval')
        requirePrivilege(exec, name, ['w'])
        writable(exec, 'setval', oid)
        return exec.sequences.setval(name, v as bigint, called !== false)
      },
    }
    : null),
}
