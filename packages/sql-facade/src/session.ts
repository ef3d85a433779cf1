/**
 * A session: one client's connection state (session settings, an open transaction) on a
 * database. Each statement runs in a core transaction; an explicit BEGIN .. COMMIT is
 * made atomic by replaying the block's statements in one core transaction at COMMIT,
 * with the ids, random numbers and clock of their first run, so COMMIT applies exactly
 * what the client saw. Reads inside the block see its own writes the same way. After an
 * error the block is aborted (25P02) until ROLLBACK, as in PostgreSQL.
 */
import type { Transaction } from '@concord/core'
import type { Database } from './database.js'
import { asSqlError } from './errors/runtime-error.js'
import { SqlError, SqlState } from './errors/sql-error.js'
import type { ExecCtx } from './exec/context.js'
import type { StatementResult } from './exec/result.js'
import { utility } from './exec/result.js'
import { runInTransaction } from './exec/statement.js'
import { nameList } from './expr/compile.js'
import { parseScript } from './parser/parse.js'
import type { Statement } from './parser/statement.js'
import { commandTag, fieldInfo, toJs, type QueryResult } from './result-format.js'
import { DISPLAY_NAMES, Settings } from './settings/settings.js'
import { T } from './types/sql-type.js'
import type { RtValue } from './types/value.js'
import type { Node } from 'libpg-query'
import { callUserFunction } from './functions/user-function.js'
import { SUBSCRIPTION_KIND } from './replication/replication-catalog.js'
import { execAlterSubscription, execCreateSubscription, execDropSubscription, type SubscriptionHost } from './replication/replication-statements.js'

interface Recorded {
  stmt: Statement
  params: RtValue[]
  ids: bigint[]
  randoms: number[]
}

class Rollback {
  constructor(readonly result: StatementResult) {}
}

export class Session {
  readonly settings: Settings
  private block: { statements: Recorded[]; startMicros: number; failed: boolean; savepoints: Array<{ name: string; index: number }> } | null = null

  constructor(readonly db: Database) {
    this.settings = new Settings(db.replica, db.nodeSettings)
  }

  get inTransaction(): boolean {
    return this.block !== null
  }

  get transactionFailed(): boolean {
    return this.block?.failed ?? false
  }

  /** Runs every statement of `sql`; returns one result per statement. */
  async queryAll(sql: string, params: unknown[] = []): Promise<QueryResult[]> {
    try {
      return await this.runScript(sql, params)
    } catch (e) {
      throw asSqlError(e)
    }
  }

  private async runScript(sql: string, params: unknown[]): Promise<QueryResult[]> {
    await this.db.ready()
    const stmts = parseScript(sql)
    if (params.length > 0 && stmts.length > 1) throw new SqlError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement')
    const bound = params.map(bindParam)
    const out: QueryResult[] = []
    for (const stmt of stmts) {
      if (stmt.kind === 'pg' && isSubscriptionStatement(stmt.node)) {
        out.push(toQueryResult(await this.subscriptionStatement(stmt.node)))
        continue
      }
      const lsn = this.db.replica.lsn
      const r = this.runOne(stmt, bound)
      // Acknowledged only once durable, if it wrote anything (a read waits for nothing,
      // and keeps working while storage refuses writes).
      if (r.durable && this.db.replica.lsn !== lsn) await this.db.replica.durable()
      out.push(toQueryResult(r.result))
    }
    if (out.length === 0) out.push(toQueryResult(utility('EMPTY')))
    return out
  }

  async query(sql: string, params: unknown[] = []): Promise<QueryResult> {
    const all = await this.queryAll(sql, params)
    return all[all.length - 1]!
  }

  private runOne(stmt: Statement, params: RtValue[]): { result: StatementResult; durable: boolean } {
    const node = stmt.kind === 'pg' ? stmt.node : null
    if (node && 'TransactionStmt' in node) return { result: this.transactionStatement(node.TransactionStmt.kind ?? 'TRANS_STMT_BEGIN', node.TransactionStmt.savepoint_name ?? ''), durable: true }
    if (this.block?.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
    try {
      if (node && ('VariableSetStmt' in node || 'VariableShowStmt' in node || 'AlterSystemStmt' in node || 'DiscardStmt' in node)) {
        return { result: this.settingStatement(node), durable: true }
      }
      if (stmt.kind === 'backup' || stmt.kind === 'restore' || stmt.kind === 'rebalance') {
        throw new SqlError(SqlState.featureNotSupported, `${stmt.kind === 'rebalance' ? 'ALTER TABLE .. REBALANCE SHARDS' : stmt.kind === 'backup' ? 'BACKUP DATABASE' : 'RESTORE DATABASE'} is not supported yet`)
      }
      if (this.block) return { result: this.runInBlock(stmt, params), durable: false }
      const rec: Recorded = { stmt, params, ids: [], randoms: [] }
      const nowMicros = this.db.replica.now() * 1000
      const result = this.db.replica.transact((tx) => runInTransaction(stmt, this.execCtx(tx, rec, nowMicros, false)))
      return { result, durable: true }
    } catch (e) {
      if (this.block) this.block.failed = true
      throw e
    }
  }

  /** CREATE / ALTER / DROP SUBSCRIPTION: they reach the publisher first, so they run outside core transactions. */
  private async subscriptionStatement(node: Node): Promise<StatementResult> {
    if (this.block?.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
    const what = 'CreateSubscriptionStmt' in node ? 'CREATE' : 'DropSubscriptionStmt' in node ? 'DROP' : 'ALTER'
    if (this.block) {
      this.block.failed = true
      throw new SqlError(SqlState.activeSqlTransaction, `${what} SUBSCRIPTION cannot run inside a transaction block`)
    }
    const db = this.db
    const host: SubscriptionHost = {
      nodeId: db.nodeId,
      catalog: db.replica,
      connector: db.connector,
      now: () => db.replica.now(),
      write: async (name, value) => {
        db.replica.transact((tx) => tx.setCatalog(SUBSCRIPTION_KIND, name, value))
        await db.replica.durable()
      },
    }
    if ('CreateSubscriptionStmt' in node) return execCreateSubscription(node.CreateSubscriptionStmt, host)
    if ('AlterSubscriptionStmt' in node) return execAlterSubscription(node.AlterSubscriptionStmt, host)
    if ('DropSubscriptionStmt' in node) return execDropSubscription(node.DropSubscriptionStmt, host)
    throw new SqlError(SqlState.internalError, 'not a subscription statement')
  }

  private transactionStatement(kind: string, savepoint: string): StatementResult {
    switch (kind) {
      case 'TRANS_STMT_BEGIN': case 'TRANS_STMT_START':
        if (this.block) return utility('BEGIN', ['there is already a transaction in progress'])
        this.block = { statements: [], startMicros: this.db.replica.now() * 1000, failed: false, savepoints: [] }
        this.settings.beginTransaction()
        return utility('BEGIN')
      case 'TRANS_STMT_COMMIT': {
        const block = this.block
        this.block = null
        if (!block) return utility('COMMIT', ['there is no transaction in progress'])
        this.settings.endTransaction(!block.failed)
        if (block.failed) return utility('ROLLBACK')
        if (block.statements.length) {
          this.db.replica.transact((tx) => {
            for (const rec of block.statements) runInTransaction(rec.stmt, this.execCtx(tx, rec, block.startMicros, true))
          })
        }
        return utility('COMMIT')
      }
      case 'TRANS_STMT_ROLLBACK':
        if (!this.block) return utility('ROLLBACK', ['there is no transaction in progress'])
        this.block = null
        this.settings.endTransaction(false)
        return utility('ROLLBACK')
      case 'TRANS_STMT_SAVEPOINT': case 'TRANS_STMT_RELEASE': case 'TRANS_STMT_ROLLBACK_TO': {
        // Savepoints mark a position in the recorded block; rolling back truncates it.
        const block = this.block
        const what = kind === 'TRANS_STMT_SAVEPOINT' ? 'SAVEPOINT' : kind === 'TRANS_STMT_RELEASE' ? 'RELEASE SAVEPOINT' : 'ROLLBACK TO SAVEPOINT'
        if (!block) throw new SqlError(SqlState.noActiveSqlTransaction, `${what} can only be used in transaction blocks`)
        if (kind === 'TRANS_STMT_SAVEPOINT') {
          if (block.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
          block.savepoints.push({ name: savepoint, index: block.statements.length })
          return utility('SAVEPOINT')
        }
        let i = block.savepoints.length - 1
        while (i >= 0 && block.savepoints[i]!.name !== savepoint) i--
        if (i < 0) {
          block.failed = true
          throw new SqlError('3B001', `savepoint "${savepoint}" does not exist`)
        }
        if (kind === 'TRANS_STMT_RELEASE') {
          if (block.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
          block.savepoints.length = i
          return utility('RELEASE')
        }
        block.statements.length = block.savepoints[i]!.index
        block.savepoints.length = i + 1
        block.failed = false
        return utility('ROLLBACK')
      }
      default:
        throw new SqlError(SqlState.featureNotSupported, 'prepared transactions are not supported')
    }
  }

  /** Runs a statement of an open block: replays the block so far, runs it, then discards. */
  private runInBlock(stmt: Statement, params: RtValue[]): StatementResult {
    const block = this.block!
    const rec: Recorded = { stmt, params, ids: [], randoms: [] }
    try {
      this.db.replica.transact((tx) => {
        const written = new Set<string>()
        for (const prev of block.statements) runInTransaction(prev.stmt, this.execCtx(tx, prev, block.startMicros, true, written))
        const result = runInTransaction(stmt, this.execCtx(tx, rec, block.startMicros, false, written))
        throw new Rollback(result)
      })
    } catch (e) {
      if (e instanceof Rollback) {
        block.statements.push(rec)
        return e.result
      }
      throw e
    }
    throw new Error('unreachable')
  }

  private execCtx(tx: Transaction, rec: Recorded, nowMicros: number, replay: boolean, written = new Set<string>()): ExecCtx {
    const db = this.db
    let idPos = 0
    let randPos = 0
    const ctx: ExecCtx = {
      tx,
      params: rec.params,
      nowMicros,
      clockMicros: () => db.replica.now() * 1000,
      nodeId: db.nodeId,
      region: db.region,
      settings: this.settings,
      functions: (name) => db.userFunction(name),
      indexes: db.indexes,
      partitions: db.partitions,
      written,
      systemView: (name, c) => db.systemView(name, c),
      random: () => {
        if (replay && randPos < rec.randoms.length) return rec.randoms[randPos++]!
        const r = db.replica.random()
        if (!replay) rec.randoms.push(r)
        return r
      },
      nextId: () => {
        if (replay && idPos < rec.ids.length) return rec.ids[idPos++]!
        const id = db.replica.nextId()
        if (!replay) rec.ids.push(id)
        return id
      },
      allTables: () => db.replica.tables(),
      replication: () => ({ lsn: db.replica.lsn, lastReplayedCommitMs: db.replica.lastReplayedCommitMs }),
      callUserFunction,
      depth: 0,
    }
    return ctx
  }

  private settingStatement(node: Node): StatementResult {
    if ('VariableShowStmt' in node) {
      const name = node.VariableShowStmt.name ?? ''
      if (name.toLowerCase() === 'all') {
        return { command: 'SHOW', rowCount: null, columns: [{ name: 'name', table: null, type: T.text }, { name: 'setting', table: null, type: T.text }], rows: this.settings.all() }
      }
      const v = this.settings.show(name)
      const label = DISPLAY_NAMES[name.toLowerCase()] ?? name.toLowerCase()
      return { command: 'SHOW', rowCount: null, columns: [{ name: label, table: null, type: T.text }], rows: [[v]] }
    }
    if ('DiscardStmt' in node) {
      this.settings.resetAll()
      return utility('DISCARD ALL')
    }
    const system = 'AlterSystemStmt' in node
    const s = 'AlterSystemStmt' in node ? node.AlterSystemStmt.setstmt! : (node as { VariableSetStmt: NonNullable<Extract<Node, { VariableSetStmt: unknown }>['VariableSetStmt']> }).VariableSetStmt
    const kind = s.kind ?? 'VAR_SET_VALUE'
    if (kind === 'VAR_RESET_ALL') {
      this.settings.resetAll()
      return utility('RESET')
    }
    if (kind === 'VAR_SET_MULTI') return utility('SET') // SET TRANSACTION / SET SESSION CHARACTERISTICS
    const name = s.name ?? ''
    let value: string | null = null
    if (kind === 'VAR_SET_VALUE') {
      value = (s.args ?? []).map(argText).join(', ')
    }
    const writes = this.settings.set(name, value, system, !!s.is_local)
    if (writes.length) {
      this.db.replica.transact((tx) => {
        for (const w of writes) tx.setCatalog(w.kind, w.name, w.value)
      })
    }
    const key = name.toLowerCase()
    if (key === 'master_nodes' || key === 'multi_master_enabled') this.db.applyMasters(this.settings)
    return utility(system ? 'ALTER SYSTEM' : kind === 'VAR_RESET' ? 'RESET' : 'SET')
  }
}

function isSubscriptionStatement(n: Node): boolean {
  return 'CreateSubscriptionStmt' in n || 'AlterSubscriptionStmt' in n || 'DropSubscriptionStmt' in n
}

function argText(n: Node): string {
  if ('A_Const' in n) {
    const c = n.A_Const
    if (c.sval) return c.sval.sval ?? ''
    if (c.ival) return String(c.ival.ival ?? 0)
    if (c.fval) return c.fval.fval ?? ''
    if (c.boolval) return c.boolval.boolval ? 'on' : 'off'
    return ''
  }
  if ('TypeCast' in n && n.TypeCast.arg) return argText(n.TypeCast.arg)
  if ('ColumnRef' in n) return nameList(n.ColumnRef.fields).join('.')
  return ''
}

/** Parameters arrive as JS values and are bound as text of unknown type, like PostgreSQL's. */
export function bindParam(v: unknown): RtValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (v instanceof Uint8Array) return v
  if (v instanceof Date) return v.toISOString()
  return JSON.stringify(v)
}

function toQueryResult(r: StatementResult): QueryResult {
  const fields = r.columns.map(fieldInfo)
  const rowArrays = r.rows.map((row) => row.map((v, i) => toJs(v, r.columns[i]!.type)))
  const rows = rowArrays.map((arr) => {
    const o: Record<string, (typeof arr)[number]> = {}
    fields.forEach((f, i) => (o[f.name] = arr[i]!))
    return o
  })
  return { command: r.command, commandTag: commandTag(r.command, r.rowCount), rowCount: r.rowCount, fields, rows, rowArrays, notices: r.notices ?? [] }
}
