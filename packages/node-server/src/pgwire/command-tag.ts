/**
 * CommandComplete tags as PostgreSQL writes them: 'SELECT 3', 'INSERT 0 1', 'UPDATE 2',
 * 'CREATE TABLE'. Clients (node-postgres' rowCount, psql's output) parse these.
 */
const COUNTED = new Set(['SELECT', 'UPDATE', 'DELETE', 'MERGE', 'FETCH', 'MOVE', 'COPY'])

export function commandTag(command: string, rowCount: number | null, rows: number): string {
  const cmd = command.trim().toUpperCase()
  if (/\d$/.test(cmd)) return cmd // already a full tag
  const n = rowCount ?? rows
  if (cmd === 'INSERT') return `INSERT 0 ${n}`
  if (COUNTED.has(cmd)) return `${cmd} ${n}`
  if (cmd === 'SELECT INTO' || cmd === 'CREATE TABLE AS') return `SELECT ${n}`
  return cmd
}
