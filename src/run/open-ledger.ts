import { databaseTarget, type DatabaseTarget } from '../db/connection-config.js';
import { connectFailure } from '../db/connect-errors.js';
import { startEmbeddedDatabase } from '../db/embedded.js';
import { assertNotNewer, migrate, schemaState } from '../db/migrate.js';
import { ThreadClient } from '../db/thread-client.js';
import type { Logger } from '../log/logger.js';
import type { Releasers } from './releasers.js';

export interface LedgerSettings {
  databaseUrl?: string;
  /** Where the embedded PostgreSQL lives when no database is configured. */
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

export interface OpenLedger {
  target: DatabaseTarget;
  /** The main thread's own client: run bookkeeping, planning lookups, failures. */
  db: ThreadClient;
  /** False when a dry run met a database without the schema: everything is new. */
  schemaReady: boolean;
  embeddedDataDir?: string;
}

/** Is a database configured at all, or does the embedded default apply? */
function configuredUrl(s: LedgerSettings): string | undefined | null {
  if (s.databaseUrl) return s.databaseUrl;
  if (s.env.PGHOST || s.env.PGDATABASE || s.env.PGSERVICE) return undefined;
  return null;
}

/**
 * Reach the ledger: the configured database, or the embedded one. Then bring the schema up to date
 * (a dry run only checks it, read-only). Every resource opened here is registered for release.
 */
export async function openLedger(s: LedgerSettings, mode: { dryRun: boolean; applicationName: string }, releasers: Releasers, log: Logger): Promise<OpenLedger> {
  let url = configuredUrl(s);
  let embeddedDataDir: string | undefined;
  if (url === null) {
    const embedded = await startEmbeddedDatabase(s.dataDir, log);
    releasers.add('embedded PostgreSQL', () => embedded.leave());
    embeddedDataDir = embedded.dataDir;
    log.info({ dataDir: embedded.dataDir }, embedded.started ? 'started the embedded PostgreSQL' : 'joined the embedded PostgreSQL already running');
    url = embedded.url;
  }
  const target = databaseTarget(url, s.env);
  const db = new ThreadClient(target, { applicationName: mode.applicationName, readOnly: mode.dryRun });
  releasers.add('main database client', () => db.close());
  try {
    await db.run((c) => c.query('SELECT 1'), 1);
  } catch (err) {
    throw connectFailure(err, target.display);
  }
  if (mode.dryRun) {
    const state = await db.run((c) => schemaState(c));
    assertNotNewer(state);
    if (state.current < state.latest) {
      log.warn({ schemaVersion: state.current, latest: state.latest }, 'the ledger schema is not installed or not up to date; a dry run does not migrate, so every file is planned as new');
    }
    return { target, db, schemaReady: state.current === state.latest, embeddedDataDir };
  }
  const applied = await db.run((c) => migrate(c), 1);
  if (applied.length > 0) log.info({ versions: applied }, 'applied ledger migrations');
  return { target, db, schemaReady: true, embeddedDataDir };
}
