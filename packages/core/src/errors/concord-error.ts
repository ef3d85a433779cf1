/**
 * The error core raises for a request it refuses or a state it cannot serve. It names the
 * condition as PostgreSQL's errcodes.txt names it (in camelCase); core carries no SQLSTATE
 * codes. The SQL layer owns the one table from condition to code
 * (`@concord/sql-facade`'s `SqlState`, which must cover every `CoreCondition`) and
 * translates at its boundary, so a PostgreSQL client still gets the code it expects.
 */
export type CoreCondition =
  | 'uniqueViolation'
  | 'notNullViolation'
  | 'undefinedTable'
  | 'duplicateTable'
  | 'undefinedColumn'
  | 'duplicateColumn'
  | 'datatypeMismatch'
  | 'invalidName'
  | 'invalidParameterValue'
  | 'invalidTableDefinition'
  | 'featureNotSupported'
  | 'objectNotInPrerequisiteState'
  | 'diskFull'
  | 'ioError'
  | 'internalError'
  | 'dataCorrupted'
  | 'undefinedObject'
  | 'sqlclientUnableToEstablishSqlconnection'
  | 'transactionResolutionUnknown'
  | 'programLimitExceeded'

export class ConcordError extends Error {
  readonly condition: CoreCondition

  constructor(condition: CoreCondition, message: string) {
    super(message)
    this.name = 'ConcordError'
    this.condition = condition
  }
}
