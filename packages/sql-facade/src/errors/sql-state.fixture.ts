/**
 * For tests: the SQLSTATE a statement fails with, null when it succeeds, 'no code' when it
 * throws something without one (a bug: every error a client can see carries a code).
 */
export async function sqlState(db: { query(sql: string): Promise<unknown> }, sql: string): Promise<string | null> {
  try {
    await db.query(sql)
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}
