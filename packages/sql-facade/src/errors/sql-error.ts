import type { CoreCondition } from '@concord/core'

/**
 * The one error type that reaches a SQL client. `code` is a PostgreSQL SQLSTATE, so a
 * wire-protocol server can send it unchanged and clients can branch on it.
 */
export class SqlError extends Error {
  readonly code: string
  readonly detail?: string
  readonly hint?: string
  /** 1-based character position in the statement text, when known. */
  readonly position?: number
  /**
   * The object a constraint violation names, as PostgreSQL's ErrorResponse fields s, t, c
   * and n carry it: drivers expose them (node-postgres `err.constraint`) and ORMs map a
   * unique violation to its constraint by them.
   */
  readonly schema?: string
  readonly table?: string
  readonly column?: string
  readonly constraint?: string

  constructor(code: string, message: string, extra: { detail?: string; hint?: string; position?: number; schema?: string; table?: string; column?: string; constraint?: string } = {}) {
    super(message)
    this.name = 'SqlError'
    this.code = code
    this.detail = extra.detail
    this.hint = extra.hint
    this.position = extra.position
    if (extra.table !== undefined) {
      this.schema = extra.schema ?? 'public'
      this.table = extra.table
    }
    if (extra.column !== undefined) this.column = extra.column
    if (extra.constraint !== undefined) this.constraint = extra.constraint
  }
}

/**
 * The SQLSTATE codes Concord's SQL layer and wire server raise, named as in PostgreSQL's
 * errcodes.txt: the one table of them. Core's errors name a condition and no code; this
 * table gives it (`sqlStateOf`). Code elsewhere names a code from here, never spells it.
 */
export const SqlState = {
  successfulCompletion: '00000',
  connectionDoesNotExist: '08003',
  connectionFailure: '08006',
  /** No node holding a table is reachable for a federated read (as postgres_fdw when it cannot connect). */
  sqlclientUnableToEstablishSqlconnection: '08001',
  /** A write forwarded to a holder that went silent or down before answering: it may or may not have run there. */
  transactionResolutionUnknown: '08007',
  protocolViolation: '08P01',
  syntaxError: '42601',
  undefinedTable: '42P01',
  undefinedColumn: '42703',
  undefinedFunction: '42883',
  undefinedObject: '42704',
  invalidSchemaName: '3F000',
  duplicateTable: '42P07',
  duplicateSchema: '42P06',
  duplicateColumn: '42701',
  duplicateObject: '42710',
  duplicateFunction: '42723',
  ambiguousColumn: '42702',
  datatypeMismatch: '42804',
  groupingError: '42803',
  invalidColumnReference: '42P10',
  cannotCoerce: '42846',
  undefinedParameter: '42P02',
  invalidTableDefinition: '42P16',
  generatedAlways: '428C9',
  uniqueViolation: '23505',
  notNullViolation: '23502',
  checkViolation: '23514',
  foreignKeyViolation: '23503',
  invalidForeignKey: '42830',
  dependentObjectsStillExist: '2BP01',
  wrongObjectType: '42809',
  numericValueOutOfRange: '22003',
  divisionByZero: '22012',
  invalidTextRepresentation: '22P02',
  invalidDatetimeFormat: '22007',
  datetimeFieldOverflow: '22008',
  invalidTimeZoneDisplacementValue: '22009',
  intervalFieldOverflow: '22015',
  invalidArgumentForLogarithm: '2201E',
  invalidArgumentForPowerFunction: '2201F',
  invalidArgumentForWidthBucket: '2201G',
  substringError: '22011',
  stringDataRightTruncation: '22001',
  invalidParameterValue: '22023',
  nullValueNotAllowed: '22004',
  sequenceGeneratorLimitExceeded: '2200H',
  cardinalityViolation: '21000',
  arraySubscriptError: '2202E',
  dataException: '22000',
  invalidBinaryRepresentation: '22P03',
  characterNotInRepertoire: '22021',
  badCopyFileFormat: '22P04',
  invalidPrecedingOrFollowingSize: '22013',
  invalidArgumentForNtile: '22014',
  invalidArgumentForNthValue: '22016',
  programLimitExceeded: '54000',
  tooManyColumns: '54011',
  tooManyConnections: '53300',
  outOfMemory: '53200',
  idleSessionTimeout: '57P05',
  idleInTransactionSessionTimeout: '25P03',
  configurationLimitExceeded: '53400',
  invalidSqlStatementName: '26000',
  invalidCursorName: '34000',
  invalidCursorState: '24000',
  duplicateCursor: '42P03',
  invalidCursorDefinition: '42P11',
  duplicatePreparedStatement: '42P05',
  duplicateAlias: '42712',
  invalidRecursion: '42P19',
  windowingError: '42P20',
  invalidObjectDefinition: '42P17',
  dataCorrupted: 'XX001',
  indeterminateDatatype: '42P18',
  featureNotSupported: '0A000',
  queryCanceled: '57014',
  lockNotAvailable: '55P03',
  deadlockDetected: '40P01',
  activeSqlTransaction: '25001',
  noActiveSqlTransaction: '25P01',
  inFailedSqlTransaction: '25P02',
  readOnlySqlTransaction: '25006',
  invalidSavepointSpecification: '3B001',
  invalidRowCountInLimit: '2201W',
  invalidRowCountInOffset: '2201X',
  invalidRegularExpression: '2201B',
  invalidEscapeSequence: '22025',
  singletonSqlJsonItemRequired: '22038',
  invalidUseOfEscapeCharacter: '2200C',
  untranslatableCharacter: '22P05',
  cantChangeRuntimeParam: '55P02',
  objectNotInPrerequisiteState: '55000',
  statementTooComplex: '54001',
  internalError: 'XX000',
  invalidName: '42602',
  nameTooLong: '42622',
  diskFull: '53100',
  ioError: '58030',
  insufficientPrivilege: '42501',
  reservedName: '42939',
  invalidGrantOperation: '0LP01',
  objectInUse: '55006',
  invalidAuthorizationSpecification: '28000',
  invalidPassword: '28P01',
  invalidCatalogName: '3D000',
  raiseException: 'P0001',
  noDataFound: 'P0002',
  tooManyRows: 'P0003',
  caseNotFound: '20000',
  invalidFunctionDefinition: '42P13',
  functionExecutedNoReturnStatement: '2F005',
} as const

/** The SQLSTATE of a condition core raises (`ConcordError`): the table above has them all. */
export function sqlStateOf(condition: CoreCondition): string {
  return SqlState[condition]
}

export function featureNotSupported(what: string): SqlError {
  return new SqlError(SqlState.featureNotSupported, `${what} is not supported`)
}
