import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '@concord/core'
import { openDatabase, ROLE_KIND, roleVerifier, SqlError, SqlState, VERIFIER_ELSEWHERE } from '@concord/sql-facade'
import { watchRoleVerifiers } from './role-verifier-move.js'
import type { Logger } from '../log/logger.js'

/** A role record as an earlier version wrote it: the verifier in the catalog. */
const LEGACY = 'SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$' + 'A'.repeat(43) + '=:' + 'B'.repeat(43) + '='
const legacyRole = (oid: number) => ({ oid, superuser: false, inherit: true, createrole: false, createdb: false, login: true, connlimit: -1, password: LEGACY, validUntil: null })

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}

describe('moving role verifiers out of the catalog', () => {
  it('moves those found at start and those that arrive later, and keeps them usable', async () => {
    const db = await openDatabase({ nodeId: 'n', storage: new MemoryStorage(), serialWaitMs: 0 })
    db.replica.transact((tx) => tx.setCatalog(ROLE_KIND, 'old', legacyRole(7001)))
    const log = recordingLogger()
    const stop = watchRoleVerifiers(db.replica, log)
    expect(db.replica.getCatalog(ROLE_KIND, 'old')).toMatchObject({ password: VERIFIER_ELSEWHERE })
    expect(roleVerifier(db.replica, db.roles().role('old')!)).toBe(LEGACY)
    // A record an earlier version writes later (a rolling upgrade) is moved once it arrives.
    db.replica.transact((tx) => tx.setCatalog(ROLE_KIND, 'later', legacyRole(7002)))
    await new Promise((r) => setTimeout(r, 0))
    expect(db.replica.getCatalog(ROLE_KIND, 'later')).toMatchObject({ password: VERIFIER_ELSEWHERE })
    expect(roleVerifier(db.replica, db.roles().role('later')!)).toBe(LEGACY)
    expect(log.lines.filter((l) => l.startsWith('moved the password verifiers'))).toHaveLength(2)
    stop()
    await db.close()
  })

  it('leaves them to an admin node on a member node, which may not write roles', async () => {
    const db = await openDatabase({ nodeId: 'm', storage: new MemoryStorage(), serialWaitMs: 0 })
    db.replica.transact((tx) => tx.setCatalog(ROLE_KIND, 'old', legacyRole(7003)))
    db.replica.catalogWriteGuard = (kind) => {
      if (kind === ROLE_KIND || kind === 'role_secret') throw new SqlError(SqlState.insufficientPrivilege, 'a member')
    }
    const log = recordingLogger()
    const stop = watchRoleVerifiers(db.replica, log)
    expect(db.replica.getCatalog(ROLE_KIND, 'old')).toMatchObject({ password: LEGACY })
    expect(roleVerifier(db.replica, db.roles().role('old')!)).toBe(LEGACY)
    expect(log.lines).toEqual([])
    stop()
    await db.close()
  })
})
