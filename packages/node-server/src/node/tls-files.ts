/**
 * The certificate and key the PostgreSQL port serves TLS with: the operator's PEM files
 * (--tls-cert / --tls-key), or a self-signed pair the node keeps in its data directory
 * (--tls-self-signed): `server.crt` and `server.key`, created on first start with the
 * openssl command (ECDSA P-256, ten years, names `localhost` and 127.0.0.1), kept after,
 * the key mode 0600. A client verifies such a node with `sslmode=verify-full
 * sslrootcert=<data-dir>/server.crt`.
 *
 * Files that cannot be read, or a self-signed pair that cannot be made, stop the start
 * with a message: a node asked for TLS never serves without it.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../log/logger.js'
import { PRIVATE_FILE_MODE } from './data-dir.js'

export interface TlsPair {
  cert: Buffer
  key: Buffer
}

const SELF_SIGNED_DAYS = 3650

/** A PEM file the TLS setup needs; a file that cannot be read stops the start, naming it. */
export function readTlsFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`)
  }
}

export function loadTlsPair(spec: { certFile: string; keyFile: string } | 'self-signed', dataDir: string | undefined, log: Logger): TlsPair {
  if (spec !== 'self-signed') return { cert: readTlsFile(spec.certFile, 'certificate'), key: readTlsFile(spec.keyFile, 'key') }
  if (dataDir === undefined) throw new Error('a self-signed TLS certificate is kept in the data directory: give one (not --memory), or --tls-cert/--tls-key')
  const cert = join(dataDir, 'server.crt')
  const key = join(dataDir, 'server.key')
  if (!existsSync(cert) || !existsSync(key)) {
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(SELF_SIGNED_DAYS),
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout', key, '-out', cert,
      ], { stdio: 'pipe', timeout: 30_000 })
    } catch (err) {
      throw new Error(`cannot create a self-signed TLS certificate (needs the openssl command): ${(err as Error).message}`)
    }
    chmodSync(key, PRIVATE_FILE_MODE)
    chmodSync(cert, PRIVATE_FILE_MODE)
    log.warn(`created a self-signed TLS certificate ${cert}: clients verify it with sslmode=verify-full sslrootcert=${cert}`)
  }
  return { cert: readTlsFile(cert, 'certificate'), key: readTlsFile(key, 'key') }
}
