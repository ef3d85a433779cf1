/**
 * CREATE / ALTER / DROP PUBLICATION (run inside a core transaction, like other DDL) and
 * CREATE / ALTER / DROP SUBSCRIPTION (run by the session outside one, because they first
 * reach the publisher over the network). A statement that fails changes nothing: every
 * check and the network round trip happen before the one catalog write.
 */
import type { Json } from '@concord/core'
import type { CatalogTransaction } from '../runtime/context.js'
import type { AlterPublicationStmt, AlterSubscriptionStmt, CreatePublicationStmt, CreateSubscriptionStmt, DropSubscriptionStmt, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { nameList } from '../parser/name-list.js'
import {
  PUBLICATION_KIND, SUBSCRIPTION_KIND, asPublication, asSubscription, publicationJson, recordName, subscriptionJson,
  type CatalogReader, type PublicationRecord, type SubscriptionRecord,
} from './replication-catalog.js'
import { parseConnInfo, type ConnInfo, type PublisherConnector, type PublisherInfo } from '../cluster/publisher-connector.js'

function publicationTables(objs: Node[] | undefined, tx: CatalogTransaction): string[] {
  const out: string[] = []
  for (const o of objs ?? []) {
    if (!('PublicationObjSpec' in o)) continue
    const spec = o.PublicationObjSpec
    if (spec.pubobjtype !== 'PUBLICATIONOBJ_TABLE' && spec.pubobjtype !== 'PUBLICATIONOBJ_CONTINUATION') {
      throw new SqlError(SqlState.featureNotSupported, 'publications of schemas are not supported; list the tables')
    }
    const name = spec.pubtable?.relation?.relname
    if (!name) continue
    if (!tx.table(name)) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    if (!out.includes(name)) out.push(name)
  }
  return out
}

function ownPublication(tx: CatalogTransaction, node: string, name: string): PublicationRecord | null {
  return asPublication(tx.getCatalog(PUBLICATION_KIND, recordName(node, name)))
}

export function execCreatePublication(s: CreatePublicationStmt, tx: CatalogTransaction, node: string): StatementResult {
  const name = s.pubname!
  if (ownPublication(tx, node, name)) throw new SqlError(SqlState.duplicateObject, `publication "${name}" already exists`)
  for (const o of s.options ?? []) {
    const opt = 'DefElem' in o ? o.DefElem.defname : ''
    if (opt !== 'publish' && opt !== 'publish_via_partition_root') throw new SqlError(SqlState.syntaxError, `unrecognized publication parameter: "${opt}"`)
  }
  const rec: PublicationRecord = { name, node, allTables: !!s.for_all_tables, tables: s.for_all_tables ? [] : publicationTables(s.pubobjects, tx) }
  tx.setCatalog(PUBLICATION_KIND, recordName(node, name), publicationJson(rec))
  return utility('CREATE PUBLICATION')
}

export function execAlterPublication(s: AlterPublicationStmt, tx: CatalogTransaction, node: string): StatementResult {
  const name = s.pubname!
  const rec = ownPublication(tx, node, name)
  if (!rec) throw new SqlError(SqlState.undefinedObject, `publication "${name}" does not exist`)
  if ((s.pubobjects?.length ?? 0) === 0) return utility('ALTER PUBLICATION') // options only
  if (rec.allTables) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, `publication "${name}" is defined as FOR ALL TABLES`, { detail: 'Tables cannot be added to or dropped from FOR ALL TABLES publications.' })
  }
  const tables = publicationTables(s.pubobjects, tx)
  let next: string[]
  switch (s.action) {
    case 'AP_AddObjects':
      for (const t of tables) if (rec.tables.includes(t)) throw new SqlError(SqlState.duplicateObject, `relation "${t}" is already member of publication "${name}"`)
      next = [...rec.tables, ...tables]
      break
    case 'AP_DropObjects':
      for (const t of tables) if (!rec.tables.includes(t)) throw new SqlError(SqlState.undefinedObject, `relation "${t}" is not part of the publication`)
      next = rec.tables.filter((t) => !tables.includes(t))
      break
    default:
      next = tables
  }
  tx.setCatalog(PUBLICATION_KIND, recordName(node, name), publicationJson({ ...rec, tables: next }))
  return utility('ALTER PUBLICATION')
}

export function execDropPublications(names: string[], missingOk: boolean, tx: CatalogTransaction, node: string): StatementResult {
  const notices: string[] = []
  for (const n of names) {
    if (!ownPublication(tx, node, n)) {
      if (missingOk) {
        notices.push(`publication "${n}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.undefinedObject, `publication "${n}" does not exist`)
    }
  }
  for (const n of names) tx.setCatalog(PUBLICATION_KIND, recordName(node, n), null)
  return utility('DROP PUBLICATION', notices)
}

/** The host side of subscription statements: catalog access and the network. */
export interface SubscriptionHost {
  readonly nodeId: string
  readonly catalog: CatalogReader
  readonly connector: PublisherConnector | null
  now(): number
  /** Writes one subscription record and waits until it is durable. */
  write(name: string, value: Json): Promise<void>
}

interface SubOptions {
  connect: boolean
  enabled: boolean
}

const KNOWN_SUB_OPTIONS = new Set(['connect', 'enabled', 'copy_data', 'create_slot', 'slot_name', 'synchronous_commit', 'binary', 'streaming', 'two_phase', 'disable_on_error', 'origin', 'password_required', 'run_as_owner', 'failover'])

function boolOption(name: string, arg: Node | undefined): boolean {
  if (arg === undefined) return true
  let v: string
  if ('Boolean' in arg) return arg.Boolean.boolval === true
  else if ('String' in arg) v = arg.String.sval ?? ''
  else if ('Integer' in arg) v = String(arg.Integer.ival ?? 0)
  else v = ''
  const s = v.toLowerCase()
  if (['true', 'on', '1', 'yes'].includes(s)) return true
  if (['false', 'off', '0', 'no'].includes(s)) return false
  throw new SqlError(SqlState.syntaxError, `${name} requires a Boolean value`)
}

function subOptions(list: Node[] | undefined): SubOptions {
  const out: SubOptions = { connect: true, enabled: true }
  let enabledGiven = false
  for (const o of list ?? []) {
    if (!('DefElem' in o)) continue
    const name = o.DefElem.defname ?? ''
    if (!KNOWN_SUB_OPTIONS.has(name)) throw new SqlError(SqlState.syntaxError, `unrecognized subscription parameter: "${name}"`)
    if (name === 'connect') out.connect = boolOption(name, o.DefElem.arg)
    else if (name === 'enabled') {
      out.enabled = boolOption(name, o.DefElem.arg)
      enabledGiven = true
    } else if (['copy_data', 'create_slot', 'binary', 'two_phase', 'disable_on_error', 'password_required', 'run_as_owner', 'failover'].includes(name)) boolOption(name, o.DefElem.arg)
  }
  if (!out.connect) {
    if (enabledGiven && out.enabled) throw new SqlError(SqlState.syntaxError, 'connect = false and enabled = true are mutually exclusive options')
    out.enabled = false
  }
  return out
}

function liveSubscription(host: SubscriptionHost, name: string): SubscriptionRecord | null {
  const s = asSubscription(host.catalog.getCatalog(SUBSCRIPTION_KIND, recordName(host.nodeId, name)))
  return s && !s.dropped ? s : null
}

/** Reaches the publisher and checks it has every named publication. */
async function describePublisher(host: SubscriptionHost, conn: ConnInfo, publications: string[]): Promise<PublisherInfo> {
  const info = await host.connector!.describe(conn)
  if (info.nodeId === host.nodeId) {
    throw new SqlError(SqlState.invalidParameterValue, `the connection string points at this node (${host.nodeId})`, { hint: 'A subscription replicates from another node.' })
  }
  const missing = publications.filter((p) => !info.publications.includes(p))
  if (missing.length > 0) {
    throw new SqlError(SqlState.undefinedObject, `publication${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} do${missing.length > 1 ? '' : 'es'} not exist on the publisher`)
  }
  return info
}

export async function execCreateSubscription(s: CreateSubscriptionStmt, host: SubscriptionHost): Promise<StatementResult> {
  const name = s.subname!
  const publications = nameList(s.publication)
  const opts = subOptions(s.options)
  const conn = parseConnInfo(s.conninfo ?? '')
  if (liveSubscription(host, name)) throw new SqlError(SqlState.duplicateObject, `subscription "${name}" already exists`)
  const notices: string[] = []
  let info: PublisherInfo | null = null
  if (opts.connect && host.connector) info = await describePublisher(host, conn, publications)
  else notices.push(host.connector ? 'subscription was created, but is not connected' : 'subscription was created, but is not connected: this database has no network connector')
  const rec: SubscriptionRecord = {
    name, node: host.nodeId, conninfo: s.conninfo ?? '', publications,
    publisher: info?.nodeId ?? null, enabled: info !== null && opts.enabled, createdAt: host.now(), startLsn: info?.lsn ?? 0,
  }
  await host.write(recordName(host.nodeId, name), subscriptionJson(rec))
  if (info !== null) host.connector!.follow(conn)
  return utility('CREATE SUBSCRIPTION', notices)
}

export async function execAlterSubscription(s: AlterSubscriptionStmt, host: SubscriptionHost): Promise<StatementResult> {
  const name = s.subname!
  const rec = liveSubscription(host, name)
  if (!rec) throw new SqlError(SqlState.undefinedObject, `subscription "${name}" does not exist`)
  let next: SubscriptionRecord = rec
  let follow: ConnInfo | null = null
  switch (s.kind) {
    case 'ALTER_SUBSCRIPTION_ENABLED': {
      const enable = subOptions(s.options).enabled
      if (enable && rec.publisher === null) {
        if (!host.connector) throw new SqlError(SqlState.objectNotInPrerequisiteState, `cannot enable subscription "${name}": this database has no network connector`)
        const conn = parseConnInfo(rec.conninfo)
        const info = await describePublisher(host, conn, rec.publications)
        next = { ...rec, publisher: info.nodeId, startLsn: info.lsn, enabled: true }
        follow = conn
      } else {
        next = { ...rec, enabled: enable }
        if (enable && host.connector) follow = parseConnInfo(rec.conninfo)
      }
      break
    }
    case 'ALTER_SUBSCRIPTION_CONNECTION': {
      const conn = parseConnInfo(s.conninfo ?? '')
      if (host.connector) {
        const info = await describePublisher(host, conn, rec.publications)
        next = { ...rec, conninfo: s.conninfo ?? '', publisher: info.nodeId, startLsn: info.lsn }
        follow = conn
      } else next = { ...rec, conninfo: s.conninfo ?? '', publisher: null, enabled: false }
      break
    }
    case 'ALTER_SUBSCRIPTION_SET_PUBLICATION': case 'ALTER_SUBSCRIPTION_ADD_PUBLICATION': case 'ALTER_SUBSCRIPTION_DROP_PUBLICATION': {
      const names = nameList(s.publication)
      let pubs: string[]
      if (s.kind === 'ALTER_SUBSCRIPTION_SET_PUBLICATION') pubs = names
      else if (s.kind === 'ALTER_SUBSCRIPTION_ADD_PUBLICATION') {
        for (const n of names) if (rec.publications.includes(n)) throw new SqlError(SqlState.duplicateObject, `publication "${n}" is already in subscription "${name}"`)
        pubs = [...rec.publications, ...names]
      } else {
        for (const n of names) if (!rec.publications.includes(n)) throw new SqlError(SqlState.undefinedObject, `publication "${n}" is not in subscription "${name}"`)
        pubs = rec.publications.filter((p) => !names.includes(p))
        if (pubs.length === 0) throw new SqlError(SqlState.invalidParameterValue, 'cannot drop all the publications from a subscription')
      }
      if (host.connector && rec.publisher !== null) await describePublisher(host, parseConnInfo(rec.conninfo), pubs)
      next = { ...rec, publications: pubs }
      break
    }
    case 'ALTER_SUBSCRIPTION_REFRESH':
      // Tables added to a publication are followed as soon as the publisher's catalog says so.
      return utility('ALTER SUBSCRIPTION')
    case 'ALTER_SUBSCRIPTION_OPTIONS': {
      const given = subOptions(s.options)
      void given
      return utility('ALTER SUBSCRIPTION')
    }
    default:
      throw new SqlError(SqlState.featureNotSupported, `ALTER SUBSCRIPTION ${String(s.kind).replace('ALTER_SUBSCRIPTION_', '')} is not supported`)
  }
  await host.write(recordName(host.nodeId, name), subscriptionJson(next))
  if (follow) host.connector!.follow(follow)
  return utility('ALTER SUBSCRIPTION')
}

export async function execDropSubscription(s: DropSubscriptionStmt, host: SubscriptionHost): Promise<StatementResult> {
  const name = s.subname!
  const rec = liveSubscription(host, name)
  if (!rec) {
    if (s.missing_ok) return utility('DROP SUBSCRIPTION', [`subscription "${name}" does not exist, skipping`])
    throw new SqlError(SqlState.undefinedObject, `subscription "${name}" does not exist`)
  }
  // A tombstone, not a deletion: the link to the publisher stays closed for table data.
  await host.write(recordName(host.nodeId, name), subscriptionJson({ ...rec, enabled: false, dropped: true }))
  return utility('DROP SUBSCRIPTION')
}
