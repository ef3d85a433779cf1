import { afterEach, describe, expect, it } from 'vitest'
import { parsePlPgSQLSync, parseSync } from 'libpg-query'
import { loadParser, parseScript } from './parse.js'
import { parserHealth, parserReady, retireParser, setParserLoader, type ParserInstance } from './parser-instance.js'
import { SqlError } from '../errors/sql-error.js'

/** An instance failing as a damaged module did (issue 15): every statement traps. */
const damaged: ParserInstance = {
  parseSync: () => {
    throw new WebAssembly.RuntimeError('table index is out of bounds')
  },
  parsePlPgSQLSync: () => {
    throw new WebAssembly.RuntimeError('table index is out of bounds')
  },
}
const packaged: ParserInstance = { parseSync, parsePlPgSQLSync }

afterEach(async () => {
  await parserReady()
  setParserLoader(async () => packaged)
  retireParser(new Error('test cleanup'))
  await parserReady()
  setParserLoader(null)
})

/** Puts `instance` in use the way a replacement is put in use. */
async function use(instance: ParserInstance): Promise<void> {
  await loadParser()
  setParserLoader(async () => instance)
  retireParser(new Error('test setup'))
  await parserReady()
}

function failure(f: () => unknown): SqlError {
  try {
    f()
  } catch (e) {
    if (e instanceof SqlError) return e
    throw e
  }
  throw new Error('did not fail')
}

describe('a failed parser instance', () => {
  it('fails its statement with 54000, is replaced, and the next statement parses', async () => {
    await use(damaged)
    let loads = 0
    setParserLoader(async () => {
      loads++
      return packaged
    })
    const restarts = parserHealth().restarts
    const e = failure(() => parseScript('SELECT 4711 AS damaged_probe'))
    expect(e.code).toBe('54000')
    expect(parserHealth().lastFailure).toMatch(/table index is out of bounds/)
    // A second failure while the replacement loads does not start another load.
    failure(() => parseScript('SELECT 4712 AS damaged_probe'))
    await parserReady()
    expect(loads).toBe(1)
    expect(parserHealth()).toMatchObject({ ok: true, restarts: restarts + 1 })
    expect(parseScript('SELECT 4713 AS damaged_probe')).toHaveLength(1)
  })

  it('without a loader the instance stays and is reported as failed', async () => {
    await use(damaged)
    setParserLoader(null)
    expect(failure(() => parseScript('SELECT 4714 AS damaged_probe')).code).toBe('54000')
    expect(parserHealth().ok).toBe(false)
  })

  it('a syntax error does not retire the instance', async () => {
    await loadParser()
    let loads = 0
    setParserLoader(async () => {
      loads++
      return packaged
    })
    expect(failure(() => parseScript('SELEC 1 AS typo_probe')).code).toBe('42601')
    await parserReady()
    expect(loads).toBe(0)
  })
})
