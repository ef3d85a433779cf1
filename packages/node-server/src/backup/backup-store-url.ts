/**
 * Which backup store a URL names: `file:///path` (FileBackupStore) or `s3://bucket/prefix`
 * (S3BackupStore). Anything else fails with featureNotSupported (0A000).
 */
import { ConcordError, type BackupStore } from '@concord/core'
import { FileBackupStore } from './file-backup-store.js'

export function openBackupStore(url: string): BackupStore {
  if (url.startsWith('file://')) return new FileBackupStore(url)
  if (url.startsWith('s3://')) throw new ConcordError('featureNotSupported', `backups to S3 (${url}) are not supported yet: use a file:// URL`)
  throw new ConcordError('featureNotSupported', `backup URL ${url}: only file:// and s3:// URLs are supported`)
}
