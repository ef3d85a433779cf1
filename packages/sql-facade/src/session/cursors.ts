/**
 * SQL cursors of one session: DECLARE name [NO SCROLL | SCROLL] CURSOR [WITH HOLD] FOR
 * query, FETCH / MOVE in every direction PostgreSQL has, CLOSE {name | ALL}, and what
 * pg_cursors lists.
 *
 * A cursor's rows are computed when it is declared (the query runs then, in the
 * block's transaction, and later writes of the block are not seen through it: the
 * snapshot PostgreSQL's insensitive cursors give). The position follows PostgreSQL: 0
 * is before the first row, count + 1 after the last; FETCH returns the rows it passes
 * and leaves the position on the last one returned.
 *
 * Invariants: a cursor without WITH HOLD lives only inside the transaction block that
 * declared it (25P01 outside one); COMMIT keeps WITH HOLD cursors, ROLLBACK closes the
 * ones the block declared, ROLLBACK TO a savepoint the ones declared since it. A NO SCROLL cursor refuses to move backward (55000); BINARY
 * cursors are refused (0A000) rather than returning text.
 */
import type { DeclareCursorStmt, FetchStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ColumnBinding } from '../relation/scope.js'
import type { StatementResult } from '../runtime/result.js'
import type { RtValue } from '../types/value.js'
import type { CurrentOfCursor, CursorScan } from './current-of.js'

const CURSOR_OPT_BINARY = 0x1
const CURSOR_OPT_SCROLL = 0x2
const CURSOR_OPT_NO_SCROLL = 0x4
const CURSOR_OPT_HOLD = 0x20
/** FETCH ALL / FORWARD ALL: the parser's largest count. */
const FETCH_ALL = 2147483647

export interface Cursor {
  name: string
  text: string
  columns: ColumnBinding[]
  rows: RtValue[][]
  pos: number
  scroll: boolean
  hold: boolean
  binary: boolean
  /** Declared in the open block (closed if it rolls back). */
  inBlock: boolean
  /** Order of declaration in the session: a ROLLBACK TO closes the cursors declared after its savepoint. */
  seq: number
  createdAt: number
  /** The table it plainly scans and its rows' keys, for WHERE CURRENT OF (current-of.ts); null otherwise. */
  scan: CursorScan | null
}

export class Cursors {
  private readonly byName = new Map<string, Cursor>()
  /** Cursors declared so far in this session (each one's `seq`). */
  private declared = 0

  list(): Cursor[] {
    return [...this.byName.values()]
  }

  /** Checks DECLARE before the query runs. */
  checkDeclare(stmt: DeclareCursorStmt, inBlock: boolean): void {
    const name = stmt.portalname ?? ''
    const options = stmt.options ?? 0
    if (!inBlock && !(options & CURSOR_OPT_HOLD)) throw new SqlError(SqlState.noActiveSqlTransaction, 'DECLARE CURSOR can only be used in transaction blocks')
    if (this.byName.has(name)) throw new SqlError(SqlState.duplicateCursor, `cursor "${name}" already exists`)
    if (options & CURSOR_OPT_BINARY) throw new SqlError(SqlState.featureNotSupported, 'BINARY cursors are not supported')
    if (options & CURSOR_OPT_SCROLL && options & CURSOR_OPT_NO_SCROLL) throw new SqlError(SqlState.invalidCursorDefinition, 'cannot specify both SCROLL and NO SCROLL')
  }

  declare(stmt: DeclareCursorStmt, text: string, result: StatementResult, inBlock: boolean, nowMicros: number, scan: CursorScan | null = null): void {
    const options = stmt.options ?? 0
    const name = stmt.portalname ?? ''
    this.byName.set(name, {
      name, text, columns: result.columns, rows: result.rows, pos: 0,
      scroll: !(options & CURSOR_OPT_NO_SCROLL), hold: !!(options & CURSOR_OPT_HOLD), binary: false,
      inBlock, createdAt: nowMicros, scan, seq: ++this.declared,
    })
  }

  /** What a SAVEPOINT keeps, for `rollbackTo`. */
  mark(): number {
    return this.declared
  }

  /**
   * ROLLBACK TO a savepoint: the cursors declared since `mark` are closed, WITH HOLD ones
   * too, as PostgreSQL closes the portals of an aborted subtransaction. Cursors declared
   * before it stay, at the position their FETCHes left (a FETCH is not undone), and a
   * CLOSE since the savepoint stays done.
   */
  rollbackTo(mark: number): void {
    for (const c of [...this.byName.values()]) if (c.seq > mark) this.byName.delete(c.name)
  }

  /** The cursor `name` as WHERE CURRENT OF sees it, or undefined. */
  currentOf(name: string): CurrentOfCursor | undefined {
    const c = this.byName.get(name)
    return c && { pos: c.pos, rowCount: c.rows.length, heldFromEarlierTransaction: c.hold && !c.inBlock, scan: c.scan }
  }

  close(name: string | null): void {
    if (name === null) {
      this.byName.clear()
      return
    }
    if (!this.byName.delete(name)) throw new SqlError(SqlState.invalidCursorName, `cursor "${name}" does not exist`)
  }

  /** The block ended: COMMIT keeps WITH HOLD cursors (now outside any block), ROLLBACK drops the block's. */
  endBlock(committed: boolean): void {
    for (const c of [...this.byName.values()]) {
      if (!c.hold || (!committed && c.inBlock)) this.byName.delete(c.name)
      else c.inBlock = false
    }
  }

  fetch(stmt: FetchStmt): StatementResult {
    const name = stmt.portalname ?? ''
    const c = this.byName.get(name)
    if (!c) throw new SqlError(SqlState.invalidCursorName, `cursor "${name}" does not exist`)
    const move = !!stmt.ismove
    const n = stmt.howMany !== undefined ? Number(stmt.howMany) : (stmt.direction === 'FETCH_RELATIVE' || stmt.direction === 'FETCH_ABSOLUTE' ? 0 : 1)
    const out: RtValue[][] = []
    const count = c.rows.length
    const backward = (): void => {
      if (!c.scroll) throw new SqlError(SqlState.objectNotInPrerequisiteState, 'cursor can only scan forward', { hint: 'Declare it with SCROLL option to enable backward scan.' })
    }
    const at = (p: number): void => {
      c.pos = Math.max(0, Math.min(count + 1, p))
      if (c.pos >= 1 && c.pos <= count) out.push(c.rows[c.pos - 1]!)
    }
    switch (stmt.direction) {
      case 'FETCH_ABSOLUTE': {
        const target = n >= 0 ? n : count + 1 + n
        if (target < c.pos || (n < 0 && target !== c.pos)) backward()
        at(target)
        break
      }
      case 'FETCH_RELATIVE': {
        if (n < 0) backward()
        at(c.pos + n)
        break
      }
      case 'FETCH_BACKWARD': {
        backward()
        if (n === 0) {
          at(c.pos)
          break
        }
        const steps = n === FETCH_ALL ? count + 1 : n
        for (let i = 0; i < steps && c.pos > 0; i++) {
          c.pos--
          if (c.pos >= 1) out.push(c.rows[c.pos - 1]!)
        }
        break
      }
      default: {
        if (n === 0) {
          at(c.pos)
          break
        }
        if (n < 0) backward()
        if (n < 0) {
          for (let i = 0; i < -n && c.pos > 0; i++) {
            c.pos--
            if (c.pos >= 1) out.push(c.rows[c.pos - 1]!)
          }
          break
        }
        for (let i = 0; i < n && c.pos <= count; i++) {
          c.pos++
          if (c.pos <= count) out.push(c.rows[c.pos - 1]!)
        }
      }
    }
    if (move) return { command: 'MOVE', rowCount: out.length, columns: [], rows: [] }
    return { command: 'FETCH', rowCount: out.length, columns: c.columns, rows: out }
  }
}
