import { existsSync } from 'node:fs';
import type pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { fatal } from '../errors/vmb-error.js';
import type { LedgerAddress } from '../types.js';

/*
 * A `LedgerAddress` (src/types.ts) is how to reach PostgreSQL as plain data that can be posted to
 * worker threads: the URL already rewritten to libpq's sslmode meaning (`withLibpqSslSemantics`)
 * and a redacted form for messages. Each thread turns it into its own `pg.Client`; the connection
 * itself never leaves the thread that opened it.
 */

const LIBPQ_SSL_KEYS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'] as const;
const VERIFYING = new Set(['verify-ca', 'verify-full']);

/**
 * Users share one DATABASE_URL between psql and this tool, so `sslmode` must mean what it means to
 * libpq: `require` encrypts without verifying, `verify-ca`/`verify-full` verify against
 * `sslrootcert` or PGSSLROOTCERT. node-postgres 8 reads `require` as full verification unless the
 * URL says `uselibpqcompat=true`, and it ignores PGSSLMODE/PGSSLROOTCERT once a URL has any ssl
 * key, so both are folded into the URL here.
 */
export function withLibpqSslSemantics(url: string, env: NodeJS.ProcessEnv): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fatal('config-database-url', `--database-url is not a valid URL (${redactUrl(url)}): use postgres://user:password@host:5432/database`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw fatal('config-database-url', `--database-url must start with postgres:// or postgresql:// (got ${parsed.protocol}//…)`);
  }
  const q = parsed.searchParams;
  if (!q.has('sslmode') && env.PGSSLMODE) q.set('sslmode', env.PGSSLMODE);
  if (q.get('sslrootcert') === 'system') {
    // libpq 16: trust the system CA store, and verify-full unless a mode is given.
    q.delete('sslrootcert');
    if (!q.has('sslmode')) q.set('sslmode', 'verify-full');
    if (!VERIFYING.has(q.get('sslmode')!)) throw fatal('config-database-url', 'sslrootcert=system needs sslmode=verify-ca or verify-full in --database-url');
  }
  // node-postgres has no plaintext-first mode; `allow` never verifies in libpq, like `prefer`.
  if (q.get('sslmode') === 'allow') q.set('sslmode', 'prefer');
  const mode = q.get('sslmode');
  // libpq reads the root certificate only to verify, or when it exists; `disable` never reads it.
  if (!q.has('sslrootcert') && env.PGSSLROOTCERT && mode && mode !== 'disable' && (VERIFYING.has(mode) || existsSync(env.PGSSLROOTCERT))) {
    q.set('sslrootcert', env.PGSSLROOTCERT);
  }
  const rootCert = q.get('sslrootcert');
  if (rootCert && mode && !VERIFYING.has(mode) && !existsSync(rootCert)) q.delete('sslrootcert');
  if (LIBPQ_SSL_KEYS.some((k) => q.has(k)) && !q.has('uselibpqcompat')) q.set('uselibpqcompat', 'true');
  return parsed.toString();
}

/** The URL with its password replaced, for every message a user or a log can see. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of ['password', 'sslpassword']) if (u.searchParams.has(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@').replace(/([?&](?:ssl)?password=)[^&]*/gi, '$1***');
  }
}

export function ledgerAddress(url: string | undefined, env: NodeJS.ProcessEnv): LedgerAddress {
  if (url === undefined) return { display: describePgEnv(env) };
  return { connectionString: withLibpqSslSemantics(url, env), display: redactUrl(url) };
}

function describePgEnv(env: NodeJS.ProcessEnv): string {
  return `postgres://${env.PGUSER ?? '(user)'}@${env.PGHOST ?? 'localhost'}:${env.PGPORT ?? '5432'}/${env.PGDATABASE ?? '(database)'} (from PG* variables)`;
}

/** A fresh pg config for a client of this thread. */
export function clientConfig(target: LedgerAddress, applicationName: string): pg.ClientConfig {
  const base: pg.ClientConfig = {
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
  if (!target.connectionString) return base;
  try {
    return { ...base, ...(parseIntoClientConfig(target.connectionString) as pg.ClientConfig) };
  } catch (err) {
    throw fatal('config-database-url', `cannot use the database URL ${redactUrl(target.connectionString)}: ${(err as Error).message}`);
  }
}
