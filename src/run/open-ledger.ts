import { ledgerAddress } from '../ledger/address.js';
import { connectFailure } from '../ledger/connect-errors.js';
import { LedgerConnection } from '../ledger/connection.js';
import { startEmbeddedDatabase } from '../ledger/embedded.js';
import { assertNotNewer, migrate, schemaState } from '../ledger/migrate.js';
import type { Logger } from '../log/logger.js';
import type { LedgerAddress } from '../types.js';
import type { Releasers } from './releasers.js';

export interface LedgerSettings {
  databaseUrl?: string;
  /** Where the embedded PostgreSQL lives when no database is configured. */
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

export interface LedgerAccess {
  /** Read-only: every transaction read-only, enforced by the server, and no migration. */
  readOnly: boolean;
  applicationName: string;
}

export interface OpenLedger {
  address: LedgerAddress;
  /** The main thread's own connection: run bookkeeping, planning lookups, failures. */
  connection: LedgerConnection;
  /** False when read-only access met a database without the current schema (nothing is recorded there yet). */
  schemaReady: boolean;
  /** The embedded server's data directory, when no database is configured. */
  embeddedDataDir?: string;
}

/** Is a database configured at all, or does the embedded default apply? */
function configuredUrl(s: LedgerSettings): string | undefined | null {
  if (s.databaseUrl) return s.databaseUrl;
  if (s.env.PGHOST || s.env.PGDATABASE || s.env.PGSERVICE) return undefined;
  return null;
}

/**
 * Reach the ledger: the configured database, or the embedded one. Then bring the schema up to date,
 * or with read-only access only check it. Every resource opened here is registered for release.
 */
export async function openLedger(s: LedgerSettings, access: LedgerAccess, releasers: Releasers, log: Logger): Promise<OpenLedger> {
  let url = configuredUrl(s);
  let embeddedDataDir: string | undefined;
  if (url === null) {
    const embedded = await startEmbeddedDatabase(s.dataDir, log);
    releasers.add('embedded PostgreSQL', () => embedded.leave());
    embeddedDataDir = embedded.dataDir;
    log.info({ dataDir: embedded.dataDir }, embedded.started ? 'started the embedded PostgreSQL' : 'joined the embedded PostgreSQL already running');
    url = embedded.url;
  }
  const address = ledgerAddress(url, s.env);
  const connection = new LedgerConnection(address, { applicationName: access.applicationName, readOnly: access.readOnly });
  releasers.add('main ledger connection', () => connection.close());
  try {
    await connection.run((c) => c.query('SELECT 1'), 1);
  } catch (err) {
    throw connectFailure(err, address.display);
  }
  if (access.readOnly) {
    const state = await connection.run((c) => schemaState(c));
    assertNotNewer(state);
    return { address, connection, schemaReady: state.current === state.latest, embeddedDataDir };
  }
  const applied = await connection.run((c) => migrate(c), 1);
  if (applied.length > 0) log.info({ versions: applied }, 'applied ledger migrations');
  return { address, connection, schemaReady: true, embeddedDataDir };
}
