/**
 * psql 15, unmodified, against a `concord start` node: the backslash commands that read
 * the catalog (`\du`, `\df`, `\df+`, `\sf`, `\dv`, `\ds`), `\copy` both ways, `\watch`,
 * and tab completion (driven through a pseudo-terminal by util-linux `script`, so psql's
 * readline runs its completion queries as it does for a person typing).
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

const run = promisify(execFile)
let node: ConcordProcess | undefined
let dir: string

function connection(): string[] {
  return ['-X', '-P', 'pager=off', '-h', '127.0.0.1', '-p', String(node!.pgPort), '-U', 'concord', '-d', 'concord']
}

async function psql(...commands: string[]): Promise<string> {
  const args = [...connection(), '-v', 'ON_ERROR_STOP=1']
  for (const c of commands) args.push('-c', c)
  const { stdout } = await run('psql', args, { env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 30_000 })
  return stdout
}

async function has(tool: string, ...args: string[]): Promise<boolean> {
  try {
    await run(tool, args)
    return true
  } catch {
    return false
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-psql-'))
  node = await ConcordProcess.start({ extraArgs: ['--memory', '--no-p2p'] })
  if (!(await has('psql', '--version'))) return
  await psql(
    'CREATE TABLE notify_completion_table (id SERIAL PRIMARY KEY, notify_unique_col TEXT)',
    "INSERT INTO notify_completion_table (notify_unique_col) VALUES ('found')",
    'CREATE VIEW completion_view AS SELECT id FROM notify_completion_table',
    'CREATE SEQUENCE user_seq',
    "CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 1'",
  )
}, 60_000)

afterAll(async () => {
  await node?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('psql backslash commands', () => {
  it('\\du lists the bootstrap user; \\dv the views; \\ds user and SERIAL sequences', async (ctx) => {
    if (!(await has('psql', '--version'))) ctx.skip()
    expect(await psql('\\du')).toMatch(/^ concord +\| Superuser/m)
    expect(await psql('\\dv')).toMatch(/public \| completion_view \| view +\| concord/)
    const ds = await psql('\\ds')
    expect(ds).toMatch(/public \| notify_completion_table_id_seq \| sequence \| concord/)
    expect(ds).toMatch(/public \| user_seq +\| sequence \| concord/)
  })

  it('\\df lists user functions with result and arguments; \\df+ their language and source; \\sf their definition', async (ctx) => {
    if (!(await has('psql', '--version'))) ctx.skip()
    expect(await psql('\\df')).toMatch(/public \| add_one \| integer +\| x integer +\| func/)
    expect(await psql('\\df+ add_one')).toMatch(/\| sql +\| SELECT x \+ 1/)
    expect(await psql('\\sf add_one')).toBe('CREATE OR REPLACE FUNCTION public.add_one(x integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$SELECT x + 1$function$\n')
  })

  it('\\copy loads a file and writes a table and a query out, as CSV with a header and as text', async (ctx) => {
    if (!(await has('psql', '--version'))) ctx.skip()
    writeFileSync(join(dir, 'in.tsv'), '1\talpha\n2\t\\N\n3\tgamma\n')
    await psql('CREATE TABLE copied (id INT PRIMARY KEY, name TEXT)', `\\copy copied FROM '${join(dir, 'in.tsv')}'`)
    expect(await psql('SELECT count(*) AS n, count(name) AS named FROM copied')).toMatch(/ 3 \| +2/)
    await psql(`\\copy copied TO '${join(dir, 'out.csv')}' WITH (FORMAT csv, HEADER)`)
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe('id,name\n1,alpha\n2,\n3,gamma\n')
    expect(await psql('\\copy (SELECT name FROM copied WHERE name IS NOT NULL ORDER BY id) TO STDOUT')).toBe('alpha\ngamma\n')
  })

  it('\\watch runs its query again and again, seeing other clients\' writes', async (ctx) => {
    if (!(await has('psql', '--version'))) ctx.skip()
    await psql('CREATE TABLE watched (id INT PRIMARY KEY)')
    // psql 15's \watch has no count: it runs until interrupted.
    writeFileSync(join(dir, 'watch.sql'), 'SELECT count(*) AS n FROM watched \\watch 0.1\n')
    const child = spawn('psql', [...connection(), '-A', '-t', '-f', join(dir, 'watch.sql')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    try {
      await until(() => /^0$/m.test(out), 20_000, 'first \\watch result')
      await psql('INSERT INTO watched VALUES (1), (2)')
      await until(() => /^2$/m.test(out), 20_000, 'a later \\watch result with the new rows')
    } finally {
      child.kill('SIGTERM')
    }
    expect(out.split('\n').filter((l) => /^\d+$/.test(l)).length).toBeGreaterThanOrEqual(2)
  })
})

describe('psql tab completion', () => {
  it('completes table, column, function and \\d names from the catalog', async (ctx) => {
    if (!(await has('psql', '--version')) || !(await has('script', '--version'))) ctx.skip()
    const input = [
      'SELECT notify_unique_col FROM notify_completion_t\t WHERE notify_uni\t IS NOT NULL;',
      '\\df add_o\t',
      '\\d+ completion_v\t',
      '\\q',
    ].join('\n') + '\n'
    const command = ['psql', ...connection()].join(' ')
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
      let text = ''
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`psql under script did not finish:\n${text}`))
      }, 30_000)
      child.stdout.on('data', (d: Buffer) => (text += d.toString()))
      child.on('close', () => {
        clearTimeout(timer)
        resolve({ stdout: text })
      })
      child.stdin.end(input)
    })
    const screen = stdout.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '')
    // Typed as prefixes: each statement ran only because completion finished its names.
    expect(screen).not.toContain('ERROR')
    expect(screen).toMatch(/^ notify_unique_col \r?\n-+\r?\n found\r?\n/m)
    expect(screen).toMatch(/public \| add_one \| integer +\| x integer/)
    expect(screen).toMatch(/View "public\.completion_view"/)
  })
})
