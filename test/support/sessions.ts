import { runCli } from './cli.js';
import { freshDatabase, withClient } from './database.js';
import { ledgerAddress } from '../../src/ledger/address.js';
import { LedgerConnection } from '../../src/ledger/connection.js';
import { insertRun } from '../../src/ledger/statements.js';

/**
 * Helpers for the upload-session tests: a migrated ledger with a run row for the sessions to
 * belong to, and the rows of `vmb_upload_sessions` as they are.
 */

export interface SessionRow {
  drive_id: string;
  remote_root: string;
  remote_path: string;
  source_path: string;
  parent_item_id: string;
  name: string;
  upload_url: string;
  expires_at: Date;
  bytes_confirmed: string;
  run_id: string;
  created_at: Date;
}

export function sessionRows(url: string): Promise<SessionRow[]> {
  return withClient(url, async (c) => (await c.query<SessionRow>('SELECT * FROM corporate.vmb_upload_sessions ORDER BY remote_path')).rows);
}

/** A fresh database with the schema, a worker-style connection to it (closed after the file's tests) and a run row. */
export async function sessionLedger(label: string, driveId: string): Promise<{ url: string; ledger: LedgerConnection; newRun: () => Promise<number> }> {
  const db = await freshDatabase(label);
  const migrated = await runCli(['migrate', '--database-url', db.url]);
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  const ledger = new LedgerConnection(ledgerAddress(db.url, {}), { applicationName: 'vmb-test/sessions' });
  const newRun = async () =>
    (await ledger.run((c) => insertRun(c, { importRoot: '/src', driveId, remoteRoot: '/vmb', options: {}, host: 'test', pid: process.pid, version: 'test' }))).id;
  return { url: db.url, ledger, newRun };
}
