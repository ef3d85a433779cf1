/**
 * COPY over the wire's COPY sub-protocol, through psql's `\copy` (COPY .. FROM STDIN /
 * TO STDOUT on the connection): text and CSV, HEADER, DELIMITER, NULL, quoting, the
 * row counts, round trips, and failures that leave no row behind.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'concord-copy-'))
let node: ConcordProcess

beforeAll(async () => {
  node = await ConcordProcess.start({ extraArgs: ['--memory', '--no-p2p'] })
})
afterAll(async () => {
  await node?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs one psql command; resolves to stdout, rejects with psql's stderr. */
async function psql(command: string): Promise<string> {
  const args = ['-h', '127.0.0.1', '-p', String(node.pgPort), '-U', 'concord', '-d', 'concord', '-X', '-v', 'ON_ERROR_STOP=1', '-c', command]
  try {
    return (await run('psql', args, { timeout: 60_000 })).stdout
  } catch (err) {
    throw new Error((err as { stderr?: string }).stderr ?? String(err))
  }
}

function file(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

async function rows(sql: string): Promise<unknown[][]> {
  return (await node.query(sql)).rows.map((r) => Object.values(r))
}

describe('COPY over the wire', () => {
  it('text format: tab-separated, \\N for NULL, backslash escapes; COPY n counts the rows', async () => {
    await node.query('CREATE TABLE t_text (id int PRIMARY KEY, name text, score numeric)')
    const data = file('t.txt', '1\tone\t1.5\n2\t\\N\t2\n3\ttab\\there\\nnewline\t\\N\n')
    expect(await psql(`\\copy t_text FROM '${data}'`)).toMatch(/COPY 3/)
    expect(await rows('SELECT id, name, score FROM t_text ORDER BY id')).toEqual([
      [1, 'one', '1.5'],
      [2, null, '2'],
      [3, 'tab\there\nnewline', null],
    ])
    const out = join(dir, 'out.txt')
    expect(await psql(`\\copy (SELECT id, name, score FROM t_text ORDER BY id) TO '${out}'`)).toMatch(/COPY 3/)
    expect(readFileSync(out, 'utf8')).toBe('1\tone\t1.5\n2\t\\N\t2\n3\ttab\\there\\nnewline\t\\N\n')
  })

  it('CSV with HEADER: the header line is skipped; quoted fields keep commas, quotes and newlines', async () => {
    await node.query('CREATE TABLE t_csv (id int PRIMARY KEY, note text)')
    const data = file('t.csv', 'id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,\n5,""\n')
    expect(await psql(`\\copy t_csv FROM '${data}' WITH (FORMAT csv, HEADER true)`)).toMatch(/COPY 5/)
    // Unquoted empty is NULL in CSV; a quoted empty string is not.
    expect(await rows('SELECT id, note FROM t_csv ORDER BY id')).toEqual([[1, 'a, b'], [2, 'say "hi"'], [3, 'two\nlines'], [4, null], [5, '']])
    const out = join(dir, 'out.csv')
    await psql(`\\copy t_csv TO '${out}' WITH (FORMAT csv, HEADER true)`)
    const lines = readFileSync(out, 'utf8')
    expect(lines.startsWith('id,note\n')).toBe(true)
    expect(lines).toContain('1,"a, b"\n')
    expect(lines).toContain('2,"say ""hi"""\n')
    expect(lines).toContain('4,\n')
    expect(lines).toContain('5,""\n')
  })

  it('DELIMITER and NULL options, and a column list (other columns take their defaults)', async () => {
    await node.query(`CREATE TABLE t_opts (id int PRIMARY KEY, a text, b text, c text DEFAULT 'dflt')`)
    const data = file('t.semi', '1;x;nil\n2;nil;y\n')
    expect(await psql(`\\copy t_opts (id, a, b) FROM '${data}' WITH (DELIMITER ';', NULL 'nil')`)).toMatch(/COPY 2/)
    expect(await rows('SELECT id, a, b, c FROM t_opts ORDER BY id')).toEqual([[1, 'x', null, 'dflt'], [2, null, 'y', 'dflt']])
    const out = join(dir, 'out.semi')
    await psql(`\\copy (SELECT id, a, b FROM t_opts ORDER BY id) TO '${out}' WITH (FORMAT csv, DELIMITER '|', NULL 'NULL')`)
    expect(readFileSync(out, 'utf8')).toBe('1|x|NULL\n2|NULL|y\n')
  })

  it('bad data fails the whole COPY with 22P04 or the type error, and leaves no row', async () => {
    await node.query('CREATE TABLE t_bad (id int PRIMARY KEY, v int)')
    await expect(psql(`\\copy t_bad FROM '${file('short.txt', '1\t1\n2\n')}'`)).rejects.toThrow(/missing data for column "v"/)
    await expect(psql(`\\copy t_bad FROM '${file('long.txt', '1\t1\t1\n')}'`)).rejects.toThrow(/extra data after last expected column/)
    await expect(psql(`\\copy t_bad FROM '${file('type.txt', '1\t1\n2\tnope\n')}'`)).rejects.toThrow(/invalid input syntax for type integer/)
    expect(await rows('SELECT count(*)::int FROM t_bad')).toEqual([[0]])
    await expect(psql(`\\copy no_such_table FROM '${file('x.txt', '1\n')}'`)).rejects.toThrow(/relation "no_such_table" does not exist/)
    await expect(psql(`COPY t_bad FROM '/etc/passwd'`)).rejects.toThrow(/server file or program is not supported/)
    await expect(psql(`\\copy t_bad FROM '${file('b.bin', '')}' WITH (FORMAT binary)`)).rejects.toThrow(/FORMAT binary is not supported/)
  })

  it('a COPY inside a transaction block commits or rolls back with it', async () => {
    await node.query('CREATE TABLE t_block (id int PRIMARY KEY)')
    const data = file('block.txt', '1\n2\n3\n')
    const script = file('block.sql', `BEGIN;\n\\copy t_block FROM '${data}'\nROLLBACK;\nBEGIN;\n\\copy t_block FROM '${data}'\nCOMMIT;\n`)
    await run('psql', ['-h', '127.0.0.1', '-p', String(node.pgPort), '-U', 'concord', '-d', 'concord', '-X', '-v', 'ON_ERROR_STOP=1', '-f', script], { timeout: 60_000 })
    expect(await rows('SELECT count(*)::int FROM t_block')).toEqual([[3]])
  })
})
