/**
 * The sequence functions as one session sees them: nextval, currval, setval, lastval.
 * currval and lastval are session state, as in PostgreSQL (55000 before this session's
 * first nextval of the sequence); the values come from the node's UserSequences.
 *
 * Definitions are read and written through the statement's transaction, so a sequence
 * created in an open block is usable in it; setval and a CYCLE wrap begin a new epoch
 * (sequence-definition.ts) in that transaction too, so unlike PostgreSQL a rolled-back
 * block also undoes its setval (docs/compatibility.md). nextval's draws are not undone.
 */
import type { Json } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { decodeSequence, encodeSequence, SEQUENCE_KIND, type SequenceDef } from './sequence-definition.js'
import { epochCount, exhausted, type UserSequences } from './user-sequences.js'

/** What the executor calls (ExecCtx.sequences). */
export interface SequenceAccess {
  nextval(name: string): bigint
  currval(name: string): bigint
  setval(name: string, value: bigint, called: boolean): bigint
  lastval(): bigint
  /** The sequence lastval reads (this session's last nextval), or null. */
  lastSequence(): string | null
  /** The last value this node drew of the sequence in its current epoch, or null. */
  lastDrawn(name: string, d: SequenceDef): bigint | null
  /** Drops the node positions of a dropped sequence (a temporary one has none in the database). */
  dropped(name: string, temporary: boolean): void
}

/** The catalog of the running statement's transaction. */
export interface SequenceCatalog {
  getCatalog(kind: string, name: string): Json | undefined
  setCatalog(kind: string, name: string, value: Json | null): void
}

export class SessionSequences {
  private readonly current = new Map<string, bigint>()
  /**
   * Temporary sequences' draws: the next value index of the current epoch. A temporary
   * sequence is the session's alone, so it draws base, base + increment, .. in order, as
   * PostgreSQL does, with no id slots and nothing written to the database.
   */
  private readonly temporary = new Map<string, { epoch: number; next: bigint }>()
  private last: string | null = null
  private readonly draws: UserSequences
  private readonly hlc: () => number

  constructor(draws: UserSequences, hlc: () => number) {
    this.draws = draws
    this.hlc = hlc
  }

  /** Forgets currval / lastval state (DISCARD ALL / DISCARD SEQUENCES). */
  discard(): void {
    this.current.clear()
    this.last = null
  }

  /** The next value of temporary sequence `name`; `wrap` begins a new epoch (CYCLE). */
  private drawTemporary(name: string, def: SequenceDef, wrap: (d: SequenceDef) => SequenceDef): bigint {
    let d = def
    for (let epochs = 0; epochs < 2; epochs++) {
      let t = this.temporary.get(name)
      if (t === undefined || t.epoch !== d.epoch) {
        t = { epoch: d.epoch, next: 0n }
        this.temporary.set(name, t)
      }
      if (t.next < epochCount(d)) return d.base + t.next++ * d.increment
      if (!d.cycle) throw exhausted(name, d)
      d = wrap(d)
    }
    throw exhausted(name, d)
  }

  /**
   * The functions over the catalog of one statement's transaction: one small object (every
   * statement's context makes one, and nine closures over the transaction took ~3 KB).
   */
  access(tx: SequenceCatalog): SequenceAccess {
    return new TransactionSequences(this, tx)
  }

  private read(tx: SequenceCatalog, name: string): SequenceDef {
    const d = decodeSequence(tx.getCatalog(SEQUENCE_KIND, name))
    if (!d) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    return d
  }

  private reset(tx: SequenceCatalog, name: string, d: SequenceDef, base: bigint): SequenceDef {
    const next = { ...d, base, epoch: this.hlc() }
    tx.setCatalog(SEQUENCE_KIND, name, encodeSequence(next))
    return next
  }

  nextval(tx: SequenceCatalog, name: string): bigint {
    const def = this.read(tx, name)
    const wrap = (d: SequenceDef): SequenceDef => this.reset(tx, name, d, d.increment > 0n ? d.min : d.max)
    const v = def.temporary === true ? this.drawTemporary(name, def, wrap) : this.draws.next(name, def, wrap)
    this.current.set(name, v)
    this.last = name
    return v
  }

  currval(tx: SequenceCatalog, name: string): bigint {
    this.read(tx, name)
    const v = this.current.get(name)
    if (v === undefined) throw new SqlError(SqlState.objectNotInPrerequisiteState, `currval of sequence "${name}" is not yet defined in this session`)
    return v
  }

  setval(tx: SequenceCatalog, name: string, value: bigint, called: boolean): bigint {
    const d = this.read(tx, name)
    if (value < d.min || value > d.max) {
      throw new SqlError(SqlState.numericValueOutOfRange, `setval: value ${value} is out of bounds for sequence "${name}" (${d.min}..${d.max})`)
    }
    this.reset(tx, name, d, called ? value + d.increment : value)
    if (called) {
      this.current.set(name, value)
      this.last = name
    }
    return value
  }

  lastDrawn(name: string, d: SequenceDef): bigint | null {
    if (d.temporary !== true) return this.draws.lastDrawn(name, d)
    const t = this.temporary.get(name)
    return t === undefined || t.epoch !== d.epoch || t.next === 0n ? null : d.base + (t.next - 1n) * d.increment
  }

  dropped(name: string, temporary: boolean): void {
    this.temporary.delete(name)
    if (!temporary) this.draws.dropPositions(name)
    this.current.delete(name)
  }

  lastSequence(): string | null {
    return this.last
  }

  lastval(tx: SequenceCatalog): bigint {
    const name = this.last
    if (name === null || decodeSequence(tx.getCatalog(SEQUENCE_KIND, name)) === null) {
      throw new SqlError(SqlState.objectNotInPrerequisiteState, 'lastval is not yet defined in this session')
    }
    return this.current.get(name)!
  }
}

/** A session's sequences over one statement's transaction (ExecCtx.sequences). */
class TransactionSequences implements SequenceAccess {
  private readonly session: SessionSequences
  private readonly tx: SequenceCatalog

  constructor(session: SessionSequences, tx: SequenceCatalog) {
    this.session = session
    this.tx = tx
  }

  nextval(name: string): bigint {
    return this.session.nextval(this.tx, name)
  }

  currval(name: string): bigint {
    return this.session.currval(this.tx, name)
  }

  setval(name: string, value: bigint, called: boolean): bigint {
    return this.session.setval(this.tx, name, value, called)
  }

  lastval(): bigint {
    return this.session.lastval(this.tx)
  }

  lastSequence(): string | null {
    return this.session.lastSequence()
  }

  lastDrawn(name: string, d: SequenceDef): bigint | null {
    return this.session.lastDrawn(name, d)
  }

  dropped(name: string, temporary: boolean): void {
    this.session.dropped(name, temporary)
  }
}
