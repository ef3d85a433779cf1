import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { openSqlEngine, type SqlEngine } from '../node/sql-engine.js'
import { PgServer } from './pg-server.js'
import { cstr, frontend, int16, int32 } from './raw-wire-socket.fixture.js'

// Arrays through Concord's PostgreSQL wire server over the real SQL engine: text format
// with node-postgres, binary parameters and results with a minimal protocol client
// (node-postgres decodes binary DataRow values as UTF-8 text, which corrupts them).

let engine: SqlEngine
let server: PgServer
let port: number
let client: pg.Client

beforeAll(async () => {
  engine = await openSqlEngine({ nodeId: 'arrays-wire', region: 'local' })
  server = new PgServer({ session: () => engine.session(), port: 0 })
  port = await server.listen()
  client = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
  await client.connect()
  await client.query('CREATE TABLE items (id INT PRIMARY KEY, tags TEXT[], nums INT[], prices NUMERIC(10,2)[])')
}, 30_000)

afterAll(async () => {
  await client?.end().catch(() => {})
  await server?.close()
  await engine?.close()
})

/** One extended-protocol round trip: Parse (with parameter OIDs), Bind, Describe, Execute, Sync. */
interface RawParam {
  oid: number
  format: 0 | 1
  value: Uint8Array | null
}

interface RawResult {
  fields: Array<{ name: string; oid: number; format: number }>
  rows: Array<Array<Buffer | null>>
  error?: { code: string; message: string }
}

class RawClient {
  private buf = Buffer.alloc(0)
  private waiters: Array<() => void> = []
  private readonly socket: Socket

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d])
      for (const w of this.waiters.splice(0)) w()
    })
  }

  static async open(p: number): Promise<RawClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(p, '127.0.0.1', () => resolve(s))
      s.on('error', reject)
    })
    const c = new RawClient(socket)
    const params = Buffer.concat([cstr('user'), cstr('concord'), cstr('database'), cstr('concord'), Buffer.alloc(1)])
    socket.write(Buffer.concat([int32(params.length + 8), int32(196608), params]))
    await c.until('Z')
    return c
  }

  /** Next backend message; waits for bytes (bounded by the test timeout). */
  private async next(): Promise<{ type: string; body: Buffer }> {
    for (;;) {
      if (this.buf.length >= 5) {
        const len = this.buf.readInt32BE(1)
        if (this.buf.length >= len + 1) {
          const msg = { type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, len + 1) }
          this.buf = this.buf.subarray(len + 1)
          return msg
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  private async until(type: string): Promise<void> {
    while ((await this.next()).type !== type) {
      // skip
    }
  }

  async query(sql: string, params: RawParam[], resultFormat: 0 | 1): Promise<RawResult> {
    const parse = Buffer.concat([cstr(''), cstr(sql), int16(params.length), ...params.map((p) => int32(p.oid))])
    const values = params.flatMap((p) => (p.value === null ? [int32(-1)] : [int32(p.value.length), Buffer.from(p.value)]))
    const bind = Buffer.concat([cstr(''), cstr(''), int16(params.length), ...params.map((p) => int16(p.format)), int16(params.length), ...values, int16(1), int16(resultFormat)])
    this.socket.write(Buffer.concat([frontend('P', parse), frontend('B', bind), frontend('D', Buffer.concat([Buffer.from('P'), cstr('')])), frontend('E', Buffer.concat([cstr(''), int32(0)])), frontend('S', Buffer.alloc(0))]))
    const out: RawResult = { fields: [], rows: [] }
    for (;;) {
      const m = await this.next()
      if (m.type === 'Z') return out
      if (m.type === 'T') {
        let at = 2
        for (let i = 0; i < m.body.readInt16BE(0); i++) {
          const end = m.body.indexOf(0, at)
          const name = m.body.toString('utf8', at, end)
          at = end + 1
          out.fields.push({ name, oid: m.body.readInt32BE(at + 6), format: m.body.readInt16BE(at + 16) })
          at += 18
        }
      } else if (m.type === 'D') {
        const row: Array<Buffer | null> = []
        let at = 2
        for (let i = 0; i < m.body.readInt16BE(0); i++) {
          const len = m.body.readInt32BE(at)
          at += 4
          row.push(len < 0 ? null : Buffer.from(m.body.subarray(at, at + len)))
          if (len > 0) at += len
        }
        out.rows.push(row)
      } else if (m.type === 'E') {
        const fields = new Map<string, string>()
        let at = 0
        while (m.body[at] !== 0) {
          const end = m.body.indexOf(0, at + 1)
          fields.set(String.fromCharCode(m.body[at]!), m.body.toString('utf8', at + 1, end))
          at = end + 1
        }
        out.error = { code: fields.get('C') ?? '', message: fields.get('M') ?? '' }
      }
    }
  }

  close(): void {
    this.socket.end(frontend('X', Buffer.alloc(0)))
  }
}

// int4[] {7,NULL,9} in PostgreSQL's binary array format.
const INT4_ARRAY = Buffer.from('00000001' + '00000001' + '00000017' + '00000003' + '00000001' + '00000004' + '00000007' + 'ffffffff' + '00000004' + '00000009', 'hex')

describe('arrays over the PostgreSQL wire', () => {
  it('returns array columns with array type OIDs, parsed by node-postgres', async () => {
    const r = await client.query(`SELECT ARRAY[1,2,NULL]::int[] AS a, '{a,"b c"}'::text[] AS t, ARRAY[[1,2],[3,4]] AS m, ARRAY[true,false] AS b, ARRAY[10,20]::int8[] AS l`)
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([1007, 1009, 1007, 1000, 1016])
    expect(r.rows[0]).toEqual({ a: [1, 2, null], t: ['a', 'b c'], m: [[1, 2], [3, 4]], b: [true, false], l: ['10', '20'] })
  })

  it('stores JS array parameters and finds rows with x = ANY($1)', async () => {
    await client.query('INSERT INTO items VALUES ($1, $2, $3, $4)', [1, ['a', 'b "q"', null, 'x\\y', ''], [1, 2, 3], ['1.5', '2']])
    await client.query('INSERT INTO items VALUES ($1, $2, $3, $4)', [2, ['c'], [4, 5], null])
    await client.query('INSERT INTO items VALUES ($1, $2, $3, $4)', [3, [], [], ['0']])
    // node-postgres reads numeric[] as JS numbers: compare its text to see the typmod applied.
    const back = await client.query('SELECT tags, nums, prices::text AS prices FROM items WHERE id = 1')
    expect(back.rows[0]).toEqual({ tags: ['a', 'b "q"', null, 'x\\y', ''], nums: [1, 2, 3], prices: '{1.50,2.00}' })
    const any = await client.query('SELECT id FROM items WHERE id = ANY($1) ORDER BY id', [[2, 3, 99]])
    expect(any.rows.map((x) => x.id)).toEqual([2, 3])
    const inTags = await client.query('SELECT id FROM items WHERE $1 = ANY(tags)', ['b "q"'])
    expect(inTags.rows).toEqual([{ id: 1 }])
    const none = await client.query('SELECT id FROM items WHERE id <> ALL($1) ORDER BY id', [[1, 2]])
    expect(none.rows).toEqual([{ id: 3 }])
    const contains = await client.query('SELECT id FROM items WHERE nums @> $1 ORDER BY id', [[2, 3]])
    expect(contains.rows).toEqual([{ id: 1 }])
  })

  it('answers a 30-deep nested ARRAY with 54000 and keeps the connection', async () => {
    const sql = 'SELECT ' + 'ARRAY['.repeat(30) + '1' + ']'.repeat(30)
    await expect(client.query(sql)).rejects.toMatchObject({ code: '54000', message: 'number of array dimensions (7) exceeds the maximum allowed (6)' })
    const six = await client.query('SELECT ' + 'ARRAY['.repeat(6) + '1' + ']'.repeat(6) + ' AS a')
    expect(six.rows[0].a).toEqual([[[[[[1]]]]]])
  })

  it('reads binary array parameters declared with an array type OID', async () => {
    const raw = await RawClient.open(port)
    try {
      const r = await raw.query('SELECT $1::int[] AS a, 9 = ANY($1::int[]) AS has9', [{ oid: 1007, format: 1, value: INT4_ARRAY }], 0)
      expect(r.error).toBeUndefined()
      expect(r.rows.map((row) => row.map((v) => v?.toString()))).toEqual([['{7,NULL,9}', 't']])
      const rows = await raw.query('SELECT id FROM items WHERE id = ANY($1) ORDER BY id', [{ oid: 1007, format: 1, value: Buffer.from('00000001' + '00000000' + '00000017' + '00000002' + '00000001' + '00000004' + '00000001' + '00000004' + '00000003', 'hex') }], 0)
      expect(rows.rows.map((row) => row[0]!.toString())).toEqual(['1', '3'])
      const wrongType = await raw.query('SELECT $1::int[] AS a', [{ oid: 1016, format: 1, value: INT4_ARRAY }], 0)
      expect(wrongType.error?.code).toBe('42804')
      const truncated = await raw.query('SELECT $1::int[] AS a', [{ oid: 1007, format: 1, value: INT4_ARRAY.subarray(0, 30) }], 0)
      expect(truncated.error?.code).toBe('22P03')
      // The session still answers after the errors.
      expect((await raw.query('SELECT 1 AS one', [], 0)).rows.map((row) => row[0]!.toString())).toEqual(['1'])
    } finally {
      raw.close()
    }
  })

  it('sends array results in binary when Bind asks for it', async () => {
    const raw = await RawClient.open(port)
    try {
      const r = await raw.query(`SELECT ARRAY[1,2,NULL]::int[] AS a, '[0:1]={1,2}'::int[] AS b, ARRAY['x',NULL,'é'] AS t, ARRAY[1.5,NULL,-20000.0001]::numeric[] AS n, 42 AS i`, [], 1)
      expect(r.error).toBeUndefined()
      expect(r.fields.map((f) => [f.oid, f.format])).toEqual([[1007, 1], [1007, 1], [1009, 1], [1231, 1], [23, 1]])
      // Bytes as PostgreSQL 15's array_send / int4send produce them.
      expect(r.rows[0]!.map((v) => v!.toString('hex'))).toEqual([
        '000000010000000100000017000000030000000100000004000000010000000400000002ffffffff',
        '000000010000000000000017000000020000000000000004000000010000000400000002',
        '00000001000000010000001900000003000000010000000178ffffffff00000002c3a9',
        '0000000100000001000006a4' + '00000003' + '00000001' + '0000000c' + '000200000000000100011388' + 'ffffffff' + '0000000e' + '0003000140000004000200000001',
        '0000002a',
      ])
      const empty = await raw.query(`SELECT '{}'::int[] AS e, NULL::int[] AS n`, [], 1)
      expect(empty.rows[0]!.map((v) => v?.toString('hex') ?? null)).toEqual(['000000000000000000000017', null])
    } finally {
      raw.close()
    }
  })
})
