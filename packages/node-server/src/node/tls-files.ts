/**
 * The TLS files of the PostgreSQL port. The certificate and key it serves: the operator's PEM files
 * (--tls-cert / --tls-key), or a self-signed pair the node keeps in its data directory
 * (--tls-self-signed): `server.crt` and `server.key`, created on first start with the
 * openssl command (ECDSA P-256, ten years, names `localhost` and 127.0.0.1), kept after,
 * the key mode 0600. A client verifies such a node with `sslmode=verify-full
 * sslrootcert=<data-dir>/server.crt`.
 *
 * A certificate file may hold a chain (leaf first, then intermediates): all of it is
 * served. Then the CA bundle client certificates are checked against (--tls-client-ca)
 * and the CRLs checked with it (--tls-crl-file, --tls-crl-dir: crl-file.ts).
 *
 * Files that cannot be read, or a self-signed pair that cannot be made, stop the start
 * with a message: a node asked for TLS never serves without it. A SIGHUP reads them all
 * again (loadPgTls); one that fails then leaves the material in use.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../log/logger.js'
import { PRIVATE_FILE_MODE } from './data-dir.js'
import { readCrls } from './crl-file.js'

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

/** Where the PostgreSQL port's TLS material comes from (ConcordNodeOptions' tls, tlsClientCaFile, tlsCrlFile, tlsCrlDir). */
export interface PgTlsFiles {
  pair: { certFile: string; keyFile: string } | 'self-signed'
  clientCaFile?: string
  crlFile?: string
  crlDir?: string
}

/** What PgServer's `tls` takes, as read from the files. */
export interface PgTlsMaterial extends TlsPair {
  clientCa?: Buffer
  crl?: string[]
}

/** Reads all the PostgreSQL port's TLS files; what the CRLs will make OpenSSL refuse is logged as warnings. */
export function loadPgTls(files: PgTlsFiles, dataDir: string | undefined, log: Logger, now = new Date()): PgTlsMaterial {
  const { crlFile: file, crlDir: dir } = files
  if ((file !== undefined || dir !== undefined) && files.clientCaFile === undefined) {
    throw new Error('CRLs (tlsCrlFile, tlsCrlDir) need the client CA they are checked with: give tlsClientCaFile')
  }
  const pair = loadTlsPair(files.pair, dataDir, log)
  if (files.clientCaFile === undefined) return pair
  const clientCa = readTlsFile(files.clientCaFile, 'client CA')
  if (file === undefined && dir === undefined) return { ...pair, clientCa }
  const { crls, warnings } = readCrls({ ...(file !== undefined ? { file } : {}), ...(dir !== undefined ? { dir } : {}) }, clientCa, now)
  for (const w of warnings) log.warn(w)
  return { ...pair, clientCa, crl: crls }
}
