/**
 * A backup store in a local directory (`file:///path`): object `a/b` is the file
 * `<path>/a/b`.
 *
 * Invariants: an object is written to a temporary file beside it, flushed, then renamed
 * into place, so a reader sees the whole object or none; names are checked against the
 * object-name alphabet and may not climb out of the directory ('..').
 */
import { mkdir, open, readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConcordError, type BackupStore } from '@concord/core'

const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/

export class FileBackupStore implements BackupStore {
  readonly url: string
  readonly dir: string

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '')
    try {
      this.dir = fileURLToPath(this.url)
    } catch (err) {
      throw new ConcordError('invalidParameterValue', `invalid backup URL ${url}: ${String(err)}`)
    }
  }

  private path(name: string): string {
    if (!NAME.test(name) || name.split('/').some((p) => p === '..' || p === '.')) throw new ConcordError('invalidParameterValue', `invalid backup object name ${name}`)
    return join(this.dir, name)
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    const path = this.path(name)
    await mkdir(dirname(path), { recursive: true })
    const tmp = `${path}.tmp-${process.pid}`
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(name)))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async delete(name: string): Promise<void> {
    const path = this.path(name)
    try {
      await unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    // The backup's directory goes with its last object (rmdir refuses one that is not empty).
    await rmdir(dirname(path)).catch(() => {})
  }

  async list(prefix: string): Promise<string[]> {
    let entries: string[]
    try {
      entries = (await readdir(this.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    return entries.map((p) => relative(this.dir, p).split(sep).join('/')).filter((n) => n.startsWith(prefix) && !n.includes('.tmp-'))
  }
}
