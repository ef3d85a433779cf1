/**
 * Errors that can reach a SQL client carry a PostgreSQL SQLSTATE code, so every layer
 * (SQL facade, wire server) reports them the way PostgreSQL clients expect.
 */
export class ConcordError extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.name = 'ConcordError'
    this.code = code
  }
}

/** SQLSTATE codes the core raises. */
export const SqlState = {
  uniqueViolation: '23505',
  undefinedTable: '42P01',
  duplicateTable: '42P07',
  undefinedColumn: '42703',
  duplicateColumn: '42701',
  invalidParameterValue: '22023',
  invalidTableDefinition: '42P16',
  featureNotSupported: '0A000',
  internalError: 'XX000',
  objectNotInPrerequisiteState: '55000',
  diskFull: '53100',
  ioError: '58030',
} as const
