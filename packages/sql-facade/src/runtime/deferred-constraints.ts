/**
 * Deferred foreign key checks of a transaction block: `DEFERRABLE INITIALLY DEFERRED`
 * constraints and `SET CONSTRAINTS .. DEFERRED | IMMEDIATE`. A NO ACTION check of a
 * constraint deferred at the end of a statement is kept here and runs at COMMIT (or when
 * SET CONSTRAINTS makes the constraint IMMEDIATE again), as in PostgreSQL. Referential
 * actions (CASCADE, SET NULL, SET DEFAULT, RESTRICT) are never deferred.
 */
import type { ForeignKey } from '../catalog/table-meta.js'
import type { ForeignKeyCheck } from './foreign-key-checks.js'

export class DeferredConstraints {
  /** SET CONSTRAINTS name ..: per constraint name. */
  private readonly byName = new Map<string, boolean>()
  /** SET CONSTRAINTS ALL ..; null until set. */
  private all: boolean | null = null
  private checks: ForeignKeyCheck[] = []

  isDeferred(fk: ForeignKey): boolean {
    if (!fk.deferrable) return false
    return this.byName.get(fk.name) ?? this.all ?? fk.initiallyDeferred === true
  }

  /** Keeps `c` for later if its constraint is deferred now; false when it must run now. */
  readonly defer = (c: ForeignKeyCheck): boolean => {
    if (!this.isDeferred(c.fk)) return false
    this.checks.push(c)
    return true
  }

  /** SET CONSTRAINTS: `names` null means ALL. */
  set(names: string[] | null, deferred: boolean): void {
    if (names === null) {
      this.all = deferred
      this.byName.clear()
    } else {
      for (const n of names) this.byName.set(n, deferred)
    }
  }

  /** Removes and returns the kept checks of constraints no longer deferred (all of them at COMMIT). */
  due(all: boolean): ForeignKeyCheck[] {
    const due = all ? this.checks : this.checks.filter((c) => !this.isDeferred(c.fk))
    this.checks = all ? [] : this.checks.filter((c) => this.isDeferred(c.fk))
    return due
  }
}
