/**
 * @concord/sql-facade: PostgreSQL's SQL dialect over Concord's CRDT engine.
 */
export { openDatabase, Database, type DatabaseOptions, type AttachOptions } from './database.js'
export { Session, type SessionOptions } from './session/session.js'
export type { PreparedStatement } from './session/prepared-statement.js'
export { SimCluster, type SimClusterOptions } from './sim-cluster.js'
export { findBrokenForeignKeys, type BrokenForeignKey } from './exec/broken-foreign-keys.js'
export { SqlError, SqlState, sqlStateOf } from './errors/sql-error.js'
export { asSqlError } from './errors/runtime-error.js'
export { formatPgText, type QueryResult, type FieldInfo, type JsValue, type Int8Output } from './result-format.js'
export { loadParser, parseScript } from './parser/parse.js'
export type { Statement } from './parser/statement.js'
export { OIDS as TYPE_OIDS, typeName, type SqlType, type TypeId } from './types/sql-type.js'
export { formatArrayLiteral, parseArrayLiteral, type ArrayLiteral } from './types/array-text.js'
export { formatLsn, parseLsn } from './replication/lsn.js'
export { parseConnInfo, parseMasterNodes, type ConnInfo, type PublisherConnector, type PublisherInfo } from './replication/publisher-connector.js'
export { DirectionFilter } from './replication/direction-filter.js'
export { LinkTable } from './replication/replication-catalog.js'
