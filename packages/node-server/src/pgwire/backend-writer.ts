/**
 * Encodes backend (server to client) messages of the PostgreSQL protocol v3 into one
 * growing buffer, so a whole reply batch leaves in one socket write (DESIGN.md 13).
 * Message layout: [type u8][length i32, counting itself][body].
 */
import { SqlState } from '@concord/sql-facade'
import { typeSize } from './pg-types.js'

export type TransactionStatus = 'I' | 'T' | 'E'

export interface FieldDescription {
  name: string
  oid: number
  tableOid?: number
  column?: number
  /** Type modifier (varchar length, numeric precision/scale); -1 if none. */
  typmod?: number
  /** Type length; by default derived from the OID. */
  size?: number
  /** 0 text (the default), 1 binary: how DataRow carries this column. */
  format?: 0 | 1
}

export interface ErrorFields {
  severity?: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE'
  code: string
  message: string
  detail?: string
  hint?: string
  position?: string
  /** The object of a constraint violation (fields s, t, c, n). */
  schema?: string
  table?: string
  column?: string
  constraint?: string
}

export class BackendWriter {
  private buf = Buffer.allocUnsafe(4096)
  private len = 0
  private start = -1

  get length(): number {
    return this.len
  }

  /** Returns what was written and resets the writer. */
  take(): Uint8Array {
    // A Buffer, so the socket writes it as it is; small ones come from Node's pool.
    const out = Buffer.allocUnsafe(this.len)
    this.buf.copy(out, 0, 0, this.len)
    this.len = 0
    if (this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafe(4096) // do not pin a huge reply's buffer
    return out
  }

  parseComplete(): void {
    this.empty(0x31) // '1'
  }
  bindComplete(): void {
    this.empty(0x32) // '2'
  }
  closeComplete(): void {
    this.empty(0x33) // '3'
  }
  noData(): void {
    this.empty(0x6e) // 'n'
  }
  emptyQuery(): void {
    this.empty(0x49) // 'I'
  }
  portalSuspended(): void {
    this.empty(0x73) // 's'
  }

  readyForQuery(status: TransactionStatus): void {
    this.begin(0x5a) // 'Z'
    this.byte(status.charCodeAt(0))
    this.end()
  }

  commandComplete(tag: string): void {
    this.begin(0x43) // 'C'
    this.cstring(tag)
    this.end()
  }

  parameterStatus(name: string, value: string): void {
    this.begin(0x53) // 'S'
    this.cstring(name)
    this.cstring(value)
    this.end()
  }

  backendKeyData(pid: number, secret: number): void {
    this.begin(0x4b) // 'K'
    this.int32(pid)
    this.int32(secret)
    this.end()
  }

  /** NotificationResponse: a LISTENed channel's notification, with the sending connection's process id. */
  notificationResponse(pid: number, channel: string, payload: string): void {
    this.begin(0x41) // 'A'
    this.int32(pid)
    this.cstring(channel)
    this.cstring(payload)
    this.end()
  }

  parameterDescription(oids: number[]): void {
    this.begin(0x74) // 't'
    this.int16(oids.length)
    for (const oid of oids) this.int32(oid)
    this.end()
  }

  rowDescription(fields: FieldDescription[]): void {
    this.begin(0x54) // 'T'
    this.int16(fields.length)
    for (const f of fields) {
      this.cstring(f.name)
      this.int32(f.tableOid ?? 0)
      this.int16(f.column ?? 0)
      this.int32(f.oid)
      this.int16(f.size ?? typeSize(f.oid))
      this.int32(f.typmod ?? -1)
      this.int16(f.format ?? 0)
    }
    this.end()
  }

  /** One row: text values as UTF-8, binary values as given; null is SQL NULL. */
  dataRow(values: Array<string | Uint8Array | null>): void {
    this.begin(0x44) // 'D'
    this.int16(values.length)
    for (const v of values) {
      if (v === null) {
        this.int32(-1)
        continue
      }
      if (v instanceof Uint8Array) {
        this.int32(v.length)
        this.ensure(v.length)
        this.buf.set(v, this.len)
        this.len += v.length
        continue
      }
      const n = Buffer.byteLength(v)
      this.int32(n)
      this.ensure(n)
      this.buf.write(v, this.len, 'utf8')
      this.len += n
    }
    this.end()
  }

  /** CopyInResponse ('G') / CopyOutResponse ('H'): overall format and every column text (0). */
  copyResponse(direction: 'in' | 'out', columns: number): void {
    this.begin(direction === 'in' ? 0x47 : 0x48)
    this.byte(0)
    this.int16(columns)
    for (let i = 0; i < columns; i++) this.int16(0)
    this.end()
  }

  /** CopyData ('d') holding `text` as UTF-8. */
  copyData(text: string): void {
    this.begin(0x64)
    const n = Buffer.byteLength(text)
    this.ensure(n)
    this.buf.write(text, this.len, 'utf8')
    this.len += n
    this.end()
  }

  copyDone(): void {
    this.empty(0x63) // 'c'
  }

  error(fields: ErrorFields): void {
    this.begin(0x45) // 'E'
    this.fields(fields, 'ERROR')
  }

  /** NoticeResponse: a message the client shows without failing the statement (NOTICE 00000 unless told). */
  notice(message: string, raised: { severity?: 'NOTICE' | 'WARNING'; code?: string } = {}): void {
    this.begin(0x4e) // 'N'
    this.fields({ severity: raised.severity ?? 'NOTICE', code: raised.code ?? SqlState.successfulCompletion, message }, 'NOTICE')
  }

  private fields(fields: ErrorFields, fallback: NonNullable<ErrorFields['severity']>): void {
    const severity = fields.severity ?? fallback
    this.field('S', severity)
    this.field('V', severity)
    this.field('C', fields.code)
    this.field('M', fields.message)
    if (fields.detail) this.field('D', fields.detail)
    if (fields.hint) this.field('H', fields.hint)
    if (fields.position) this.field('P', fields.position)
    if (fields.schema) this.field('s', fields.schema)
    if (fields.table) this.field('t', fields.table)
    if (fields.column) this.field('c', fields.column)
    if (fields.constraint) this.field('n', fields.constraint)
    this.byte(0)
    this.end()
  }

  // --- primitives -------------------------------------------------------------------

  private field(tag: string, value: string): void {
    this.byte(tag.charCodeAt(0))
    this.cstring(value)
  }

  private empty(type: number): void {
    this.ensure(5)
    this.buf[this.len] = type
    this.buf.writeInt32BE(4, this.len + 1)
    this.len += 5
  }

  private begin(type: number): void {
    this.ensure(5)
    this.buf[this.len] = type
    this.start = this.len + 1
    this.len += 5
  }

  private end(): void {
    this.buf.writeInt32BE(this.len - this.start, this.start)
    this.start = -1
  }

  private byte(b: number): void {
    this.ensure(1)
    this.buf[this.len++] = b
  }

  private int16(n: number): void {
    this.ensure(2)
    this.buf.writeInt16BE(n, this.len)
    this.len += 2
  }

  private int32(n: number): void {
    this.ensure(4)
    this.buf.writeInt32BE(n, this.len)
    this.len += 4
  }

  private cstring(s: string): void {
    // Why: a NUL inside would end the string early and desynchronize the client.
    const clean = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s
    const n = Buffer.byteLength(clean)
    this.ensure(n + 1)
    this.buf.write(clean, this.len, 'utf8')
    this.len += n
    this.buf[this.len++] = 0
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }
}
