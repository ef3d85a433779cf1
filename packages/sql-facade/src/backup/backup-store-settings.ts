/**
 * What a backup store takes from this node's settings (ALTER SYSTEM SET backup_s3_...):
 * the S3 endpoint, region, credentials and path style. The node server's store opener
 * prefers these over its environment (AWS_ENDPOINT_URL_S3, AWS_REGION, ...).
 *
 * Invariants: read from the catalog's node settings of this node only; an empty value is
 * "not set" (the environment, then the SDK's defaults apply). The secret key is read here
 * and passed to the opener, never shown (settings.ts masks it).
 */
import type { Replica } from '@concord/core'
import { NODE_SETTING_KIND } from '../settings/settings.js'

export interface BackupStoreSettings {
  s3Endpoint?: string
  s3Region?: string
  s3AccessKeyId?: string
  s3SecretAccessKey?: string
  /** Set only when the setting is on. */
  s3ForcePathStyle?: boolean
}

/** A node setting of this node, or undefined when unset or empty. */
export function nodeSetting(replica: Replica, name: string): string | undefined {
  const v = replica.getCatalog(NODE_SETTING_KIND, `${replica.nodeId}/${name}`)
  return typeof v === 'string' && v !== '' ? v : undefined
}

export function backupStoreSettings(replica: Replica): BackupStoreSettings {
  const out: BackupStoreSettings = {}
  const endpoint = nodeSetting(replica, 'backup_s3_endpoint')
  const region = nodeSetting(replica, 'backup_s3_region')
  const id = nodeSetting(replica, 'backup_s3_access_key_id')
  const secret = nodeSetting(replica, 'backup_s3_secret_access_key')
  if (endpoint !== undefined) out.s3Endpoint = endpoint
  if (region !== undefined) out.s3Region = region
  if (id !== undefined) out.s3AccessKeyId = id
  if (secret !== undefined) out.s3SecretAccessKey = secret
  if (nodeSetting(replica, 'backup_s3_force_path_style') === 'on') out.s3ForcePathStyle = true
  return out
}
