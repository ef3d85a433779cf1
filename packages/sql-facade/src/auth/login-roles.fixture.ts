/**
 * A one-node database for privilege tests: the statements that set up its tables run as
 * the bootstrap superuser, then login roles are created and a session opened for each.
 */
import { openDatabase, type Database } from '../database.js'
import type { Session } from '../session/session.js'

export interface RolesDatabase {
  db: Database
  /** A session per role, by role name. */
  as: Record<string, Session>
}

export async function databaseWithRoles(setup: readonly string[], roles: readonly string[]): Promise<RolesDatabase> {
  const db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  for (const sql of setup) await db.query(sql)
  const as: Record<string, Session> = {}
  for (const r of roles) {
    await db.query(`CREATE ROLE ${r} LOGIN`)
    as[r] = db.session({ user: r })
  }
  return { db, as }
}
