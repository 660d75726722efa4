import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { LedgerAddress } from '../types.js';
import { clientConfig } from './address.js';
import { query } from './sql-files.js';

/**
 * One run at a time per import root and target: a PostgreSQL session-level advisory lock keyed on
 * (import root, drive id, remote root).
 *
 * The lock belongs to one connection and goes away with it, so it must live on a connection that is
 * never silently replaced: use `connectLockClient`, not a `LedgerConnection` (which reconnects after a
 * broken connection and would carry on without the lock). When the server or the network kills that
 * connection the lock is gone; `onLost` says so and the run should stop.
 *
 * Order at the start of a run: lock (try or wait) → `markDeadRunsInterrupted` → insert the run row →
 * `recordRunLock` on the lock client. At the end: finish the run row → `unlockRun` (or just close the
 * lock client, which releases it).
 */

export interface LockHolder {
  /** The holder's 'running' run row; null when the holding session recorded none (yet). */
  runId: number | null;
  /** The run row's host; without a row, the holder's client address as the server sees it (null over a Unix socket). */
  host: string | null;
  /** The run row's process id on its host; null without a row. */
  pid: number | null;
  /** The run row's start; without a row, when the holding session connected. */
  startedAt: Date | null;
  /** The PostgreSQL backend pid of the holding session (what pg_terminate_backend takes). */
  backendPid: number;
}

/** A stable signed 64-bit key: the first 8 bytes of sha256 over the three strings. */
export function runLockKey(importRoot: string, driveId: string, remoteRoot: string): bigint {
  const digest = createHash('sha256').update(JSON.stringify(['vmb-import/run-lock', importRoot, driveId, remoteRoot])).digest();
  return digest.readBigInt64BE(0);
}

export interface LockSession {
  client: pg.Client;
  /** End the connection (the server releases the lock); not reported as a loss. */
  close(): Promise<void>;
}

/**
 * A dedicated connection for the run lock, never replaced behind the caller's back. `onLost` is told
 * once if the connection breaks before `close()` (the server has then released the lock).
 */
export async function connectLockClient(target: LedgerAddress, applicationName: string, onLost: (err: Error) => void): Promise<LockSession> {
  const client = new pg.Client(clientConfig(target, applicationName));
  let closing = false;
  let told = false;
  const lost = (err: Error) => {
    if (closing || told) return;
    told = true;
    onLost(err);
  };
  client.on('error', lost);
  client.on('end', () => lost(new Error('the run-lock connection closed')));
  const close = async () => {
    closing = true;
    await client.end().catch(() => undefined);
  };
  try {
    await client.connect();
  } catch (err) {
    await close();
    throw err;
  }
  return { client, close };
}

/** Take the lock if free; true when this session now holds it. Session locks stack: take it once. */
export async function tryLockRun(c: pg.Client, key: bigint): Promise<boolean> {
  const r = await c.query<{ locked: boolean }>(query('try-run-lock'), [key]);
  return r.rows[0].locked;
}

/**
 * Try the lock every `pollMs` (500 ms) until it is ours (true), `timeoutMs` has passed or `signal`
 * is aborted (false). A timeout of 0 tries once.
 */
export async function waitLockRun(c: pg.Client, key: bigint, timeoutMs: number, signal?: AbortSignal, pollMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) return false;
    if (await tryLockRun(c, key)) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    try {
      await sleep(Math.min(pollMs, left), undefined, { signal });
    } catch {
      return false;
    }
  }
}

/** Release the lock; false when this session did not hold it. */
export async function unlockRun(c: pg.Client, key: bigint): Promise<boolean> {
  const r = await c.query<{ unlocked: boolean }>(query('unlock-run'), [key]);
  return r.rows[0].unlocked;
}

/**
 * Tie run row `runId` to this session and key, so `findLockHolder` can name it. Must run on the
 * lock client (it records that session's pg_backend_pid()).
 */
export async function recordRunLock(c: pg.Client, runId: number, key: bigint): Promise<void> {
  await c.query(query('record-run-lock'), [runId, key]);
}

/** Who holds the lock `key` in this database, or null when nobody does. */
export async function findLockHolder(c: pg.Client, key: bigint): Promise<LockHolder | null> {
  const r = await c.query<{
    backend_pid: number;
    run_id: string | null;
    host: string | null;
    pid: number | null;
    started_at: Date | null;
    client_addr: string | null;
    backend_start: Date | null;
  }>(query('find-run-lock-holder'), [key]);
  const row = r.rows[0];
  if (!row) return null;
  if (row.run_id === null) {
    return { runId: null, host: row.client_addr, pid: null, startedAt: row.backend_start, backendPid: row.backend_pid };
  }
  return { runId: Number(row.run_id), host: row.host, pid: row.pid, startedAt: row.started_at, backendPid: row.backend_pid };
}

/**
 * Called right after the lock was taken, before this run's row is inserted: every run row still
 * 'running' for this root and target belongs to a run that died (it would hold the lock otherwise).
 * Marks them 'interrupted' and returns their ids.
 */
export async function markDeadRunsInterrupted(c: pg.Client, importRoot: string, driveId: string, remoteRoot: string): Promise<number[]> {
  const r = await c.query<{ id: string }>(query('mark-dead-runs-interrupted'), [importRoot, driveId, remoteRoot]);
  return r.rows.map((row) => Number(row.id)).sort((a, b) => a - b);
}
