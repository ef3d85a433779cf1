/**
 * Which backup store a URL names: `file:///path` (FileBackupStore) or `s3://bucket/prefix`
 * (S3BackupStore, endpoint and credentials from the node's settings, else the environment). Anything else fails with featureNotSupported (0A000).
 */
import { ConcordError, type BackupStore } from '@concord/core'
import type { BackupStoreSettings } from '@concord/sql-facade'
import { FileBackupStore } from './file-backup-store.js'
import { S3BackupStore } from './s3-backup-store.js'

export function openBackupStore(url: string, settings: BackupStoreSettings = {}): BackupStore {
  if (url.startsWith('file://')) return new FileBackupStore(url)
  if (url.startsWith('s3://')) return new S3BackupStore(url, process.env, settings)
  throw new ConcordError('featureNotSupported', `backup URL ${url}: only file:// and s3:// URLs are supported`)
}
