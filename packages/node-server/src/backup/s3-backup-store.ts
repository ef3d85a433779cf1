/**
 * A backup store in an S3 bucket (`s3://bucket/prefix`): object `a/b` is the key
 * `<prefix>/a/b`. Requests go through @aws-sdk/client-s3 (signing, retries, errors);
 * endpoint, region and credentials come from the node's settings (backup_s3_endpoint,
 * backup_s3_region, backup_s3_access_key_id, backup_s3_secret_access_key,
 * backup_s3_force_path_style), each unset one from the environment: AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL (an S3-compatible server), AWS_REGION (default us-east-1),
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (else the SDK's default chain), and
 * CONCORD_S3_FORCE_PATH_STYLE=1 for path-style requests.
 *
 * Invariants: the SDK is loaded on first use only (its CommonJS build, see loadSdk); a PUT is atomic in S3, so a reader sees
 * a whole object or none; listing pages are bounded (MAX_LIST_PAGES).
 */
import { createRequire } from 'node:module'
import { ConcordError, type BackupStore } from '@concord/core'
import type { S3Client } from '@aws-sdk/client-s3'
import type { BackupStoreSettings } from '@concord/sql-facade'

type Sdk = typeof import('@aws-sdk/client-s3')

// Loaded through require (its CommonJS build) from node_modules, outside the CLI bundle (esbuild
// does not follow createRequire): the SDK's ES build imports files without extensions (it is
// meant for bundlers), which Node cannot load when a `module` condition selects it.
function loadSdk(): Sdk {
  return createRequire(import.meta.url)('@aws-sdk/client-s3') as Sdk
}

/** Pages of 1000 keys: a prefix with more backup objects than this is refused. */
const MAX_LIST_PAGES = 10_000

export class S3BackupStore implements BackupStore {
  readonly url: string
  readonly bucket: string
  readonly prefix: string
  private readonly env: Record<string, string | undefined>
  private readonly settings: BackupStoreSettings
  private client: { s3: S3Client; sdk: Sdk } | null = null

  constructor(url: string, env: Record<string, string | undefined> = process.env, settings: BackupStoreSettings = {}) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url)
    if (m === null) throw new ConcordError('invalidParameterValue', `invalid S3 URL ${url}: expected s3://bucket/prefix`)
    this.bucket = m[1]!
    this.prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '')
    this.url = `s3://${this.bucket}${this.prefix === '' ? '' : `/${this.prefix}`}`
    this.env = env
    this.settings = settings
  }

  private key(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`
  }

  private open(): { s3: S3Client; sdk: Sdk } {
    if (this.client === null) {
      const sdk = loadSdk()
      const e = this.env
      const o = this.settings
      const endpoint = o.s3Endpoint ?? e['AWS_ENDPOINT_URL_S3'] ?? e['AWS_ENDPOINT_URL']
      const id = o.s3AccessKeyId ?? e['AWS_ACCESS_KEY_ID']
      const secret = o.s3SecretAccessKey ?? e['AWS_SECRET_ACCESS_KEY']
      const s3 = new sdk.S3Client({
        region: o.s3Region ?? e['AWS_REGION'] ?? e['AWS_DEFAULT_REGION'] ?? 'us-east-1',
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(id !== undefined && secret !== undefined ? { credentials: { accessKeyId: id, secretAccessKey: secret } } : {}),
        forcePathStyle: o.s3ForcePathStyle === true || e['CONCORD_S3_FORCE_PATH_STYLE'] === '1',
      })
      this.client = { s3, sdk }
    }
    return this.client
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    const { s3, sdk } = this.open()
    await s3.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: data }))
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const { s3, sdk } = this.open()
    try {
      const r = await s3.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }))
      return r.Body === undefined ? new Uint8Array() : await r.Body.transformToByteArray()
    } catch (err) {
      if (err instanceof sdk.NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined
      throw err
    }
  }

  /** S3's DELETE succeeds for a key that is not there. */
  async delete(name: string): Promise<void> {
    const { s3, sdk } = this.open()
    await s3.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }))
  }

  async list(prefix: string): Promise<string[]> {
    const { s3, sdk } = this.open()
    const base = this.prefix === '' ? '' : `${this.prefix}/`
    const out: string[] = []
    let token: string | undefined
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const r = await s3.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }))
      for (const o of r.Contents ?? []) if (o.Key !== undefined) out.push(o.Key.slice(base.length))
      if (r.IsTruncated !== true) return out
      token = r.NextContinuationToken
    }
    throw new ConcordError('programLimitExceeded', `more than ${MAX_LIST_PAGES * 1000} objects under ${this.url}`)
  }
}
