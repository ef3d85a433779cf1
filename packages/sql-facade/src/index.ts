/**
 * @concord/sql-facade: PostgreSQL's SQL dialect over Concord's CRDT engine.
 */
export { openDatabase, Database, type DatabaseOptions, type AttachOptions } from './database.js'
export { Session, type SessionOptions } from './session/session.js'
export type { LiveRowsListener, LiveQueryOptions } from './live/live-query.js'
export type { Unsubscribe } from './live/live-queries.js'
export type { ChangeJournalStore, JournalContents, JournalEntry, JournalWrite } from './live/change-feed.js'
export type { PreparedStatement } from './session/prepared-statement.js'
export { SimCluster, type SimClusterOptions } from './sim-cluster.js'
export { findBrokenForeignKeys, type BrokenForeignKey } from './exec/broken-foreign-keys.js'
export { SqlError, SqlState, sqlStateOf } from './errors/sql-error.js'
export type { SqlNotice } from './errors/sql-notice.js'
export { asSqlError } from './errors/runtime-error.js'
export { formatPgText, type QueryResult, type FieldInfo, type JsValue, type Int8Output } from './result-format.js'
export type { CopyIn, CopyOut, CopyTransfer } from './copy-transfer.js'
export { loadParser, parseScript } from './parser/parse.js'
export { parserHealth, setParserLoader, type ParserHealth, type ParserInstance } from './parser/parser-instance.js'
export type { Statement } from './parser/statement.js'
export { OIDS as TYPE_OIDS, typeName, type SqlType, type TypeId } from './types/sql-type.js'
export { formatArrayLiteral, parseArrayLiteral, type ArrayLiteral } from './types/array-text.js'
export { formatLsn, parseLsn } from './replication/lsn.js'
export { parseConnInfo, parseMasterNodes, type ConnInfo, type PublisherConnector, type PublisherInfo } from './cluster/publisher-connector.js'
export { DirectionFilter } from './replication/direction-filter.js'
export { LinkTable } from './replication/replication-catalog.js'
export {
  listPeerMembers, memberBindings, bindPeerMember, PEER_MEMBER_KIND, validPeerId, type MembershipHost, type MemberBindings, type PeerMemberRecord, type MemberRight,
} from './cluster/peer-members.js'
export {
  BOOTSTRAP_NAMES, BOOTSTRAP_ROLE, ROLE_KIND, ROLE_MEMBER_KIND, ROLE_LOGIN_KIND, TABLE_GRANT_KIND, SCHEMA_GRANT_KIND, type RoleRecord,
} from './catalog/role-record.js'
export { CLUSTER_SETTING_KIND } from './settings/settings.js'
export { BROWSER_GRANT_KIND } from './cluster/browser-grant-records.js'
export type { RoleDirectory } from './catalog/role-directory.js'
export { parseScramVerifier, scramVerifier, type ScramSecret } from './auth/scram-verifier.js'
export { restrictWrites, type WriteScope } from './auth/write-scope.js'
export { BackupService, type BackupRecord, type BackupStoreOpener } from './backup/backup-service.js'
export { type BackupStoreSettings } from './backup/backup-store-settings.js'
