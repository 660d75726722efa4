import type pg from 'pg';
import type { Argv, CommandModule } from 'yargs';
import { EXIT_CODES } from '../../errors/exit-codes.js';
import { fatal } from '../../errors/vmb-error.js';
import { query } from '../../ledger/sql-files.js';
import { parseTable } from '../../options/option.js';
import { openLedger } from '../../run/open-ledger.js';
import { Releasers } from '../../run/releasers.js';
import { commandLogger } from '../command.js';
import { ALL_OPTION_TABLES } from '../option-tables.js';
import { FAILURES_OPTIONS, RUNS_OPTIONS } from './history-options.js';
import { declareOptions } from '../yargs-options.js';

/**
 * `vmb-import runs` and `vmb-import failures`: the run history kept in the ledger, read-only. The
 * command modules only parse; main.ts dispatches on the command name through `historyHandlers`.
 */

/** The arguments yargs hands a history command (values as typed; the option tables check them). */
export type HistoryArgs = Readonly<Record<string, unknown>>;

export interface HistoryIo {
  /** Where the table or JSON goes (default: stdout). */
  out: (text: string) => Promise<void> | void;
  env: NodeJS.ProcessEnv;
}

/** The two command modules; they parse only (main.ts dispatches through `historyHandlers`). */
export function historyCommandModules(): CommandModule[] {
  return [
    { command: 'runs', describe: 'List recent runs, newest first', builder: (y) => declareOptions(y, RUNS_OPTIONS), handler: () => undefined },
    {
      command: 'failures',
      describe: 'List the failures of a run (default: the most recent run)',
      builder: (y) => declareOptions(y, FAILURES_OPTIONS),
      handler: () => undefined,
    },
  ];
}

/** Adds `runs` and `failures` to the parser. */
export function registerHistoryCommands(y: Argv): Argv {
  return y.command(historyCommandModules());
}

export const historyHandlers = {
  runs: runsCommand,
  failures: failuresCommand,
} as const;

export type HistoryCommand = keyof typeof historyHandlers;

export function isHistoryCommand(name: string): name is HistoryCommand {
  return Object.hasOwn(historyHandlers, name);
}

// ---------------------------------------------------------------------------------------------
// Statements (sql/queries/*.sql)

interface RunListRow {
  id: string;
  started_at: Date;
  finished_at: Date | null;
  status: string;
  dry_run: boolean;
  import_root: string | null;
  drive_id: string;
  remote_root: string;
  counts: Record<string, unknown> | null;
  host: string;
  pid: number;
  vmb_version: string;
  kind: string;
  failures_recorded: string;
}

async function runHistoryExists(c: pg.Client): Promise<{ ready: boolean; sessions: boolean }> {
  return (await c.query<{ ready: boolean; sessions: boolean }>(query('run-history-exists'))).rows[0];
}

async function listRuns(c: pg.Client, limit: number | null): Promise<RunListRow[]> {
  return (await c.query<RunListRow>(query('list-runs'), [limit])).rows;
}

/** Per run id, the upload sessions it left open (those the next run will try to continue). */
async function countOpenUploadSessions(c: pg.Client, runIds: number[]): Promise<Map<number, number>> {
  const r = await c.query<{ run_id: string; n: number }>(query('count-open-upload-sessions'), [runIds]);
  return new Map(r.rows.map((row) => [Number(row.run_id), row.n]));
}

async function findRun(c: pg.Client, runId: number | null): Promise<{ id: number; status: string; startedAt: Date } | null> {
  const row = (await c.query<{ id: string; status: string; started_at: Date }>(query('find-run'), [runId])).rows[0];
  return row ? { id: Number(row.id), status: row.status, startedAt: row.started_at } : null;
}

interface FailureListRow {
  source_path: string;
  stage: string;
  error_code: string;
  message: string;
  created_at: Date;
  total: string;
}

async function listRunFailures(c: pg.Client, runId: number, limit: number | null): Promise<FailureListRow[]> {
  return (await c.query<FailureListRow>(query('list-run-failures'), [runId, limit])).rows;
}

// ---------------------------------------------------------------------------------------------
// Commands

/** One run as `runs --json` prints it; every key always present, null when unknown. */
export interface RunJson {
  id: number;
  /** `import`, or `check` (vmb-import check, whose counts are its drift classes and what --fix changed). */
  kind: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  status: string;
  dryRun: boolean;
  /** Null for a check that read no source tree. */
  importRoot: string | null;
  driveId: string;
  remoteRoot: string;
  host: string;
  pid: number;
  version: string;
  seen: number | null;
  uploaded: number | null;
  unchanged: number | null;
  skipped: number | null;
  failed: number | null;
  deferred: number | null;
  bytesUploaded: number | null;
  foldersCreated: number | null;
  retries: number | null;
  resumed: number | null;
  bytesNotResent: number | null;
  leftForNextRun: number | null;
  /** Requests the drive throttled, and the time no request could start because of it. */
  throttledRequests: number | null;
  heldMs: number | null;
  /** Rows in vmb_import_failures for this run (skips included). */
  failuresRecorded: number;
  /** Upload sessions this run left open for a later run to continue (still in vmb_upload_sessions). */
  sessionsOpen: number;
}

/** One failure as `failures --json` prints it. */
export interface FailureJson {
  runId: number;
  path: string;
  stage: string;
  code: string;
  reason: string;
  recordedAt: string;
}

const COUNT_KEYS = ['seen', 'uploaded', 'unchanged', 'skipped', 'failed', 'deferred', 'bytesUploaded', 'foldersCreated', 'retries', 'resumed', 'bytesNotResent', 'leftForNextRun', 'throttledRequests', 'heldMs'] as const;

export async function runsCommand(a: HistoryArgs, io: Partial<HistoryIo> = {}): Promise<number> {
  const o = parseTable(RUNS_OPTIONS, a, io.env ?? process.env);
  return withHistory(o, io, 'runs', async (c, out) => {
    const exists = await runHistoryExists(c);
    const rows = exists.ready ? await listRuns(c, o.limit || null) : [];
    const open = exists.sessions && rows.length > 0 ? await countOpenUploadSessions(c, rows.map((r) => Number(r.id))) : new Map<number, number>();
    const runs = rows.map((r) => runJson(r, open.get(Number(r.id)) ?? 0));
    if (o.json) return out(JSON.stringify(runs) + '\n');
    if (runs.length === 0) return out('no runs recorded yet\n');
    const table = runs.map((r) => [
      String(r.id),
      r.kind,
      formatTime(new Date(r.startedAt)),
      r.durationMs === null ? '-' : formatDuration(r.durationMs),
      r.dryRun ? `${r.status} (dry run)` : r.status,
      num(r.uploaded),
      num(r.unchanged),
      num(r.deferred),
      num(r.failed),
      num(r.skipped),
      r.bytesUploaded === null ? '-' : formatBytes(r.bytesUploaded),
      String(r.sessionsOpen),
      r.heldMs === null ? '-' : formatDuration(r.heldMs),
      printable(r.host),
    ]);
    return out(formatTable(['id', 'kind', 'started', 'duration', 'status', 'uploaded', 'unchanged', 'deferred', 'failed', 'skipped', 'bytes', 'sessions', 'throttled', 'host'], table, [0, 3, 5, 6, 7, 8, 9, 10, 11, 12]));
  });
}

export async function failuresCommand(a: HistoryArgs, io: Partial<HistoryIo> = {}): Promise<number> {
  const o = parseTable(FAILURES_OPTIONS, a, io.env ?? process.env);
  const wanted = o.run ?? null;
  return withHistory(o, io, 'failures', async (c, out) => {
    const run = (await runHistoryExists(c)).ready ? await findRun(c, wanted) : null;
    if (!run) {
      if (wanted !== null) throw fatal('no-such-run', `run ${wanted} is not in the ledger (vmb-import runs lists them)`);
      return out(o.json ? '[]\n' : 'no runs recorded yet\n');
    }
    const rows = await listRunFailures(c, run.id, o.limit || null);
    const failures: FailureJson[] = rows.map((f) => ({
      runId: run.id,
      path: f.source_path,
      stage: f.stage,
      code: f.error_code,
      reason: f.message,
      recordedAt: f.created_at.toISOString(),
    }));
    if (o.json) return out(JSON.stringify(failures) + '\n');
    const head = `run ${run.id} (${run.status}, started ${formatTime(run.startedAt)})`;
    if (failures.length === 0) return out(`${head}: no failures recorded\n`);
    const total = Number(rows[0].total);
    let text = `${head}: ${total} failure${total === 1 ? '' : 's'}\n`;
    text += formatTable(['path', 'stage', 'code', 'reason'], failures.map((f) => [printable(f.path), f.stage, f.code, printable(f.reason)]), []);
    if (total > failures.length) text += `… and ${total - failures.length} more (--limit 0 shows all)\n`;
    return out(text);
  });
}

/** Open the ledger read-only, run `work`, close everything; a missing schema reads as no runs. */
async function withHistory(
  o: ReturnType<typeof parseTable<typeof RUNS_OPTIONS>>,
  io: Partial<HistoryIo>,
  command: HistoryCommand,
  work: (c: pg.Client, out: (text: string) => Promise<void>) => Promise<void>,
): Promise<number> {
  const env = io.env ?? process.env;
  const out = async (text: string) => {
    if (io.out) await io.out(text);
    else await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
  };
  const log = commandLogger(o, { env, out, known: ALL_OPTION_TABLES });
  const releasers = new Releasers();
  try {
    const ledger = await openLedger({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, env }, { readOnly: true, applicationName: `vmb-import/${command}` }, releasers, log);
    await ledger.connection.run((c) => work(c, out), 1);
    return EXIT_CODES.ok.code;
  } finally {
    await releasers.releaseAll((name, err) => log.warn({ step: name, err: (err as Error)?.message }, 'clean-up step failed'));
  }
}

function runJson(r: RunListRow, sessionsOpen: number): RunJson {
  const counts = r.counts ?? {};
  const count = (k: (typeof COUNT_KEYS)[number]) => (typeof counts[k] === 'number' ? (counts[k] as number) : null);
  return {
    id: Number(r.id),
    kind: r.kind,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
    status: r.status,
    dryRun: r.dry_run,
    importRoot: r.import_root,
    driveId: r.drive_id,
    remoteRoot: r.remote_root,
    host: r.host,
    pid: r.pid,
    version: r.vmb_version,
    seen: count('seen'),
    uploaded: count('uploaded'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    failed: count('failed'),
    deferred: count('deferred'),
    bytesUploaded: count('bytesUploaded'),
    foldersCreated: count('foldersCreated'),
    retries: count('retries'),
    resumed: count('resumed'),
    bytesNotResent: count('bytesNotResent'),
    leftForNextRun: count('leftForNextRun'),
    throttledRequests: count('throttledRequests'),
    heldMs: count('heldMs'),
    failuresRecorded: Number(r.failures_recorded),
    sessionsOpen,
  };
}

// ---------------------------------------------------------------------------------------------
// Options and formatting

/** One table cell on one line: control characters (a newline in a file name) shown escaped. */
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);

const num = (n: number | null) => (n === null ? '-' : String(n));

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time, to the second: 2025-03-07 14:05:09. */
export function formatTime(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** 850ms, 4.2s, 12m05s, 3h07m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad2(Math.floor((s % 3600) / 60))}m`;
}

/** 0 B, 512 B, 1.5 KiB, 20.0 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Columns separated by two spaces; `right` lists the right-aligned columns; the last column is not padded. */
export function formatTable(header: string[], rows: string[][], right: number[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 && !right.includes(i) ? cell : right.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd() + '\n';
  return [header, ...rows].map(line).join('');
}
