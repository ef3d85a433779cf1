/**
 * Where backups are kept: a flat space of named objects under one prefix (a directory
 * for file://, a bucket prefix for s3://). Core reads and writes backups only through
 * this interface; the node server provides the implementations (file, S3), so core
 * needs no file system or network.
 *
 * Invariants: `put` is whole or nothing as far as a later `get` can tell (implementations
 * write to a temporary name and rename, or rely on S3's atomic PUT); names are relative
 * to the store's prefix and use only [A-Za-z0-9._/-].
 */
export interface BackupStore {
  /** What the store was opened from (the URL a user gave), for messages and history. */
  readonly url: string
  put(name: string, data: Uint8Array): Promise<void>
  /** The object, or undefined when there is none. */
  get(name: string): Promise<Uint8Array | undefined>
  /** Names of the objects whose name starts with `prefix`. */
  list(prefix: string): Promise<string[]>
  /** Removes the object; nothing happens when there is none (retention, backup-chains.ts). */
  delete(name: string): Promise<void>
}
